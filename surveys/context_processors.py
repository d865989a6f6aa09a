from django.http import HttpRequest

from surveys.access import active_membership


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
        "pending_invites": user.membership_invites.count(),
        "other_memberships": [
            m
            for m in user.memberships.select_related("organization")
            if membership is None or m.pk != membership.pk
        ],
    }
