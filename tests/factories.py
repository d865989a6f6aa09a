"""Small factory functions: each builds one object with sensible defaults that a
test overrides by keyword."""

import itertools
import secrets

from django.contrib.auth import get_user_model

from surveys.models import (
    Audience,
    Case,
    Contact,
    Department,
    Dimension,
    Gap,
    Invitation,
    Item,
    Membership,
    Organization,
    Questionnaire,
    Response,
    Role,
    Segment,
    Study,
    token_hash,
)

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


def make_organization(**overrides) -> Organization:
    n = next(_seq)
    fields = {"name": f"Organization {n}", "slug": f"org-{n}"}
    fields.update(overrides)
    return Organization.objects.create(**fields)


def make_user(email: str | None = None, **overrides):
    email = email or f"user{next(_seq)}@example.org"
    User = get_user_model()
    user = User.objects.create_user(
        username=email, email=email, password=PASSWORD, **overrides
    )
    return user


def make_member(
    organization: Organization,
    role: str = Role.STAFF,
    department: Department | None = None,
    email: str | None = None,
) -> Membership:
    return Membership.objects.create(
        user=make_user(email),
        organization=organization,
        role=role,
        department=department,
    )


def make_department(organization: Organization, name: str | None = None) -> Department:
    return Department.objects.create(
        organization=organization, name=name or f"Department {next(_seq)}"
    )


def make_segment(organization: Organization, name: str | None = None, **kw) -> Segment:
    return Segment.objects.create(
        organization=organization, name=name or f"Segment {next(_seq)}", **kw
    )


def make_questionnaire(
    items_per_gap: int = 2, *, dimensions: bool = False, **overrides
) -> Questionnaire:
    """A questionnaire with `items_per_gap` paired items for each of the five gaps,
    each with an expectation wording; with `dimensions`, the items of each gap
    get the service dimension of the same rank (so the areas are dimensions)."""
    fields = {"name": f"Questionnaire {next(_seq)}"}
    fields.update(overrides)
    questionnaire = Questionnaire.objects.create(**fields)
    position = 0
    for rank, gap in enumerate(Gap):
        for i in range(items_per_gap):
            position += 1
            Item.objects.create(
                questionnaire=questionnaire,
                gap=gap,
                dimension=list(Dimension)[rank].value if dimensions else "",
                internal_text=f"We do {gap.value} thing {i + 1} well.",
                customer_text=f"They do {gap.value} thing {i + 1} well.",
                expectation_text=f"Excellent firms do {gap.value} thing {i + 1} well.",
                position=position,
            )
    return questionnaire


def make_study(organization: Organization | None = None, **overrides) -> Study:
    organization = organization or make_organization()
    fields = {
        "organization": organization,
        "name": f"Study {next(_seq)}",
        "status": Study.Status.OPEN,
    }
    fields.update(overrides)
    if "questionnaire" not in fields:
        fields["questionnaire"] = make_questionnaire()
    return Study.objects.create(**fields)


def make_contact(organization: Organization, **overrides) -> Contact:
    fields = {
        "organization": organization,
        "email": f"customer{next(_seq)}@example.com",
        "name": "Pat Customer",
    }
    fields.update(overrides)
    return Contact.objects.create(**fields)


def make_invitation(
    study: Study, contact: Contact | None = None, **overrides
) -> tuple[Invitation, str]:
    """An invitation and its token (the token itself is never stored)."""
    contact = contact or make_contact(study.organization)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        study=study, contact=contact, token_hash=token_hash(token), **overrides
    )
    return invitation, token


def make_response(study: Study, audience: str = Audience.CUSTOMER, **overrides):
    fields = {"study": study, "audience": audience}
    fields.update(overrides)
    return Response.objects.create(**fields)


def make_mailable_invitation(
    study: Study, contact: Contact | None = None, **overrides
) -> tuple[Invitation, str]:
    """An invitation whose token the sender can rebuild (as the app makes them), so
    the worker can mail it and its reminders; and that token."""
    from django.utils import timezone

    from surveys.services.invitations import invitation_token_new

    contact = contact or make_contact(study.organization)
    created_at = overrides.pop("created_at", timezone.now())
    token = invitation_token_new(
        study_id=study.pk, contact_id=contact.pk, created_at=created_at
    )
    invitation = Invitation.objects.create(
        study=study,
        contact=contact,
        created_at=created_at,
        token_hash=token_hash(token),
        **overrides,
    )
    return invitation, token


def make_case(
    study: Study, contact: Contact | None = None, *, response=None, **overrides
) -> Case:
    """A follow-up case on a submitted customer response (made when not given)."""
    import datetime

    from django.utils import timezone

    if response is None:
        invitation, _ = make_invitation(study, contact)
        contact = invitation.contact
        now = timezone.now()
        response = make_response(
            study,
            invitation=invitation,
            segment=contact.segment,
            status=Response.Status.SUBMITTED,
            submitted_at=now,
        )
        Invitation.objects.filter(pk=invitation.pk).update(responded_at=now)
    opened = overrides.pop("opened_at", timezone.now())
    fields = {
        "organization": study.organization,
        "study": study,
        "response": response,
        "contact": contact,
        "segment": response.segment,
        "trigger": "Reliability: 2.0, at or below 3",
        "opened_at": opened,
        "due_at": opened + datetime.timedelta(hours=48),
    }
    fields.update(overrides)
    return Case.objects.create(**fields)
