"""The audit log: one call per manager action worth answering for later."""

from django.contrib.auth.base_user import AbstractBaseUser

from surveys.models import AuditEvent, Organization


def audit_record(
    *,
    organization: Organization,
    actor: AbstractBaseUser | None,
    action: str,
    target: object = "",
    **detail,
) -> AuditEvent:
    """Record that `actor` did `action` (`<thing>_<action>`) to `target`."""
    return AuditEvent.objects.create(
        organization=organization,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target=str(target)[:200],
        detail=detail,
    )
