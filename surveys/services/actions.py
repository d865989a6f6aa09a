"""Actions: what the organization decides to do about a gap."""

import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from surveys.audit import audit_record
from surveys.models import Action, Study

CLOSED_STATUSES = {Action.Status.DONE, Action.Status.DROPPED}


def _closed_at(status: str, previous: datetime.datetime | None):
    """Closed actions keep the moment they were first closed; reopening clears it."""
    if status in CLOSED_STATUSES:
        return previous or timezone.now()
    return None


@transaction.atomic
def action_create(
    *,
    study: Study,
    actor: AbstractBaseUser | None,
    gap: str,
    description: str,
    owner: str = "",
    due_on: datetime.date | None = None,
    status: str = Action.Status.PLANNED,
) -> Action:
    """Record an action on one gap of a study's organization."""
    action = Action.objects.create(
        organization_id=study.organization_id,
        study=study,
        gap=gap,
        description=description,
        owner=owner,
        due_on=due_on,
        status=status,
        closed_at=_closed_at(status, None),
    )
    audit_record(
        organization=study.organization,
        actor=actor,
        action="action_create",
        target=action,
        action_id=action.pk,
        study_id=study.pk,
        gap=gap,
    )
    return action


@transaction.atomic
def action_update(
    *,
    action: Action,
    actor: AbstractBaseUser | None,
    gap: str,
    description: str,
    owner: str = "",
    due_on: datetime.date | None = None,
    status: str,
) -> Action:
    """Change an action; closing it (done, dropped) stamps closed_at."""
    action.gap = gap
    action.description = description
    action.owner = owner
    action.due_on = due_on
    action.closed_at = _closed_at(status, action.closed_at)
    action.status = status
    action.save()
    audit_record(
        organization=action.organization,
        actor=actor,
        action="action_update",
        target=action,
        action_id=action.pk,
        status=status,
    )
    return action


@transaction.atomic
def action_close(
    *,
    action: Action,
    actor: AbstractBaseUser | None,
    status: str = Action.Status.DONE,
) -> Action:
    """Close an action as done (or dropped)."""
    if status not in CLOSED_STATUSES:
        raise ValueError(f"An action is closed as done or dropped, not {status!r}.")
    action.closed_at = _closed_at(status, action.closed_at)
    action.status = status
    action.save(update_fields=["status", "closed_at"])
    audit_record(
        organization=action.organization,
        actor=actor,
        action="action_close",
        target=action,
        action_id=action.pk,
        status=status,
    )
    return action
