"""Data the browser tests start from, written by the app's own services.

Run inside the app's environment through `App.seed(name, **arguments)` (a
`manage.py shell` against the app's database); each function returns a dict
that is printed as JSON on the last line. What a test checks it enters itself:
the answers given here are chosen by the test and passed in.
"""

import json
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from surveys.models import (
    Case,
    Contact,
    Department,
    Invitation,
    Membership,
    Questionnaire,
    Role,
    Segment,
    Study,
)
from surveys.services.generate import DEFAULT_QUESTIONNAIRE_NAME
from surveys.services.invitations import (
    invitation_for_token,
    invitation_token,
    invitations_create,
)
from surveys.services.organizations import organization_create
from surveys.services.responses import (
    customer_response_save,
    customer_response_submit,
    staff_response_save,
)
from surveys.services.studies import study_create, study_open


def _organization(name: str, manager: str, password: str):
    organization, membership, _ = organization_create(name=name, manager_email=manager)
    user = membership.user
    user.set_password(password)
    user.save(update_fields=["password"])
    return organization, user


def _open_study(
    organization, manager, name: str, min_group_size: int = 5, public_title: str = ""
) -> Study:
    questionnaire = Questionnaire.objects.get(
        organization=None, name=DEFAULT_QUESTIONNAIRE_NAME
    )
    study = study_create(
        organization=organization,
        actor=manager,
        name=name,
        public_title=public_title,
        questionnaire=questionnaire,
        closes_on=timezone.localdate() + timedelta(days=30),
        min_group_size=min_group_size,
    )
    return study_open(study=study, actor=manager)


def _items(study: Study) -> list[dict]:
    return [
        {"id": item.pk, "position": position, "gap": item.gap}
        for position, item in enumerate(study.questionnaire.items.all(), start=1)
    ]


def organization_with_open_study(*, name, manager, password, study) -> dict:
    """An organization, its manager (who can log in) and one open study."""
    organization, user = _organization(name, manager, password)
    opened = _open_study(organization, user, study)
    return {"study_id": opened.pk, "items": _items(opened)}


def customers_invited(
    *, name, manager, password, study, emails, public_title="", staff=None
) -> dict:
    """An open study with these customers invited; their personal links' tokens.
    With `staff` ({"email", "password"}), also a staff member who can log in."""
    organization, user = _organization(name, manager, password)
    opened = _open_study(organization, user, study, public_title=public_title)
    if staff:
        member = get_user_model()(username=staff["email"], email=staff["email"])
        member.set_password(staff["password"])
        member.save()
        Membership.objects.create(
            user=member, organization=organization, role=Role.STAFF
        )
    Contact.objects.bulk_create(
        Contact(organization=organization, email=email) for email in emails
    )
    invitations_create(study=opened, actor=user)
    tokens = {
        invitation.contact.email: invitation_token(invitation)
        for invitation in Invitation.objects.filter(study=opened).select_related(
            "contact"
        )
    }
    return {"study_id": opened.pk, "tokens": tokens, "items": _items(opened)}


def study_with_answers(
    *, name, manager, password, study, min_group_size, staff, customers, pending
) -> dict:
    """A study whose answers the test chose.

    staff: [{"email", "department", "answers"}]; customers: [{"email", "segment",
    "answers"}], each submitted, where answers = {gap: [value or None for "don't
    know", one per item of that gap in questionnaire order]}; pending: [{"email",
    "segment"}], invited, not answered (their tokens are returned so that the
    test can answer in the browser).
    """
    organization, user = _organization(name, manager, password)
    opened = _open_study(organization, user, study, min_group_size)
    items = list(opened.questionnaire.items.all())
    User = get_user_model()

    def department(name):
        return Department.objects.get_or_create(organization=organization, name=name)[0]

    def segment(name):
        return Segment.objects.get_or_create(organization=organization, name=name)[0]

    def answers(by_gap):
        chosen = {}
        for gap, values in by_gap.items():
            of_gap = [item for item in items if item.gap == gap]
            chosen.update(zip([i.pk for i in of_gap], values, strict=True))
        assert len(chosen) == len(items), "every item needs a value"
        return chosen

    for person in staff:
        member = User(username=person["email"], email=person["email"])
        member.set_unusable_password()
        member.save()
        membership = Membership.objects.create(
            user=member,
            organization=organization,
            role=Role.STAFF,
            department=department(person["department"]),
        )
        staff_response_save(
            study=opened,
            membership=membership,
            answers=answers(person["answers"]),
            submit=True,
        )
    Contact.objects.bulk_create(
        Contact(
            organization=organization, email=c["email"], segment=segment(c["segment"])
        )
        for c in [*customers, *pending]
    )
    invitations_create(study=opened, actor=user)
    invitations = {
        invitation.contact.email: invitation
        for invitation in Invitation.objects.filter(study=opened).select_related(
            "contact"
        )
    }
    for customer in customers:
        customer_response_submit(
            invitation=invitations[customer["email"]],
            answers=answers(customer["answers"]),
        )
    return {
        "study_id": opened.pk,
        "items": _items(opened),
        "tokens": {
            p["email"]: invitation_token(invitations[p["email"]]) for p in pending
        },
    }


def expectations_study(
    *, name, manager, password, study, min_group_size, staff, customers, pending
) -> dict:
    """An open study on the expectations questionnaire whose answers the
    test chose.

    staff: [{"email", "password", "e", "p", "points"}] — submitted unless
    "password" is given (then the test answers in the browser);
    customers: [{"email", "e", "p", "points", "overall"}], submitted;
    pending: [emails], invited, not answered (their tokens are returned).
    e and p are lists in questionnaire order; points {area: points}.
    """
    organization, user = _organization(name, manager, password)
    questionnaire = Questionnaire.objects.get(
        organization=None, name="Five gaps — expectations"
    )
    opened = study_open(
        study=study_create(
            organization=organization,
            actor=user,
            name=study,
            questionnaire=questionnaire,
            closes_on=timezone.localdate() + timedelta(days=30),
            min_group_size=min_group_size,
        ),
        actor=user,
    )
    items = list(questionnaire.items.all())

    def ratings(person):
        found = {}
        for item, e, p in zip(items, person["e"], person["p"], strict=True):
            found[item.pk] = p
            found[(item.pk, "E")] = e
        return found

    for person in staff:
        member = get_user_model()(username=person["email"], email=person["email"])
        if person.get("password"):
            member.set_password(person["password"])
        else:
            member.set_unusable_password()
        member.save()
        membership = Membership.objects.create(
            user=member, organization=organization, role=Role.STAFF
        )
        if not person.get("password"):
            staff_response_save(
                study=opened,
                membership=membership,
                answers=ratings(person),
                allocation=person["points"],
                submit=True,
            )
    Contact.objects.bulk_create(
        Contact(organization=organization, email=email)
        for email in [*(c["email"] for c in customers), *pending]
    )
    invitations_create(study=opened, actor=user)
    invitations = {
        invitation.contact.email: invitation
        for invitation in Invitation.objects.filter(study=opened).select_related(
            "contact"
        )
    }
    for customer in customers:
        customer_response_submit(
            invitation=invitations[customer["email"]],
            answers=ratings(customer),
            allocation=customer["points"],
            overall=customer["overall"],
        )
    return {
        "study_id": opened.pk,
        "items": [
            {"id": item.pk, "position": n, "dimension": item.dimension}
            for n, item in enumerate(items, start=1)
        ],
        "tokens": {email: invitation_token(invitations[email]) for email in pending},
    }


def followup_ready(
    *, name, manager, password, study, owner, owner_password, customer, others
) -> dict:
    """An open study (minimum group size 3) with follow-up rules whose cases go
    to the manager, a staff member `owner` who can log in, the Retail customers
    `customer` and `others` invited; each of `others` has answered low, agreed
    to be contacted, and had their case resolved. The customer's token."""
    from surveys.services import followup

    organization, user = _organization(name, manager, password)
    opened = _open_study(organization, user, study, min_group_size=3)
    member = get_user_model()(
        username=owner, email=owner, first_name="Olive", last_name="Owner"
    )
    member.set_password(owner_password)
    member.save()
    support = Department.objects.create(organization=organization, name="Support")
    Membership.objects.create(
        user=member, organization=organization, role=Role.STAFF, department=support
    )
    retail = Segment.objects.create(organization=organization, name="Retail")
    Contact.objects.bulk_create(
        Contact(organization=organization, email=email, segment=retail)
        for email in [customer, *others]
    )
    followup.followup_rules_set(
        study=opened,
        actor=user,
        enabled=True,
        trigger="low",
        threshold=3,
        due_hours=48,
        owner_id=user.pk,
        segment_owner_ids={},
        mail_customer=False,
    )
    invitations_create(study=opened, actor=user)
    tokens = {
        invitation.contact.email: invitation_token(invitation)
        for invitation in Invitation.objects.filter(study=opened).select_related(
            "contact"
        )
    }
    items = list(opened.questionnaire.items.all())
    for email in others:
        invitation = invitation_for_token(tokens[email])
        customer_response_save(
            invitation=invitation,
            answers={item.pk: 2 for item in items},
            submit=True,
            consent=followup.Consent(),
        )
        case = Case.objects.get(response__invitation=invitation)
        followup.case_contacted(case=case, actor=user, note="Called.")
        followup.case_resolve(case=case, actor=user, note="Sorted out.")
    return {"study_id": opened.pk, "items": _items(opened), "token": tokens[customer]}


def main(function: str, arguments: str) -> None:
    result = globals()[function](**json.loads(arguments))
    print(json.dumps(result))
