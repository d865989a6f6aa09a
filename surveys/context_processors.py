from django.http import HttpRequest

from surveys.access import active_membership


def _has_pending_invites(user, membership) -> bool:
    known = getattr(membership, "has_pending_invites", None)
    if known is not None:
        return known
    return user.membership_invites.exists()


def workspace(request: HttpRequest) -> dict:
    """The active organization and the person's other memberships, for the nav."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = active_membership(request)
    return {
        "active_membership": membership,
        "active_organization": membership.organization if membership else None,
        "is_manager": bool(membership and membership.is_manager),
        "pending_invites": _has_pending_invites(user, membership),
        "other_memberships": [
            m
            for m in user.memberships.select_related("organization")
            if membership is None or m.pk != membership.pk
        ],
    }
