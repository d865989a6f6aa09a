"""Bounds on what one organization can create (settings MAX_DEPARTMENTS and
MAX_SEGMENTS): every page that lists groups stays fast at these sizes."""

from django.conf import settings

from surveys.models import Department, Organization, Segment

KINDS = {Department: "departments", Segment: "segments"}


def group_limit(model: type[Department] | type[Segment]) -> int:
    return settings.MAX_DEPARTMENTS if model is Department else settings.MAX_SEGMENTS


def group_limit_message(model: type[Department] | type[Segment]) -> str:
    return (
        f"An organization may have at most {group_limit(model)} {KINDS[model]}; "
        f"use an existing one or remove one first."
    )


def group_room(
    model: type[Department] | type[Segment], organization: Organization
) -> int:
    """How many more groups of this kind the organization may create."""
    used = model.objects.filter(organization=organization).count()
    return max(0, group_limit(model) - used)
