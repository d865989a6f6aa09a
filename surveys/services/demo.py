"""The demo organization: two waves of a study with realistic answers.

Staff rate themselves higher than customers on most gaps, by different amounts
per gap, department and segment; one department and one segment are too small to
be reported. Everything is drawn from a fixed seed and written with bulk inserts.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from surveys.models import (
    Action,
    Answer,
    Audience,
    Case,
    CaseEvent,
    Contact,
    Department,
    Gap,
    Invitation,
    Membership,
    Organization,
    Questionnaire,
    Response,
    Role,
    Segment,
    Study,
    token_hash,
)
from surveys.services.followup import FollowUpRules, Trigger, trigger_for
from surveys.services.generate import Profile, Respondent, responses_bulk_create
from surveys.services.invitations import invitation_token_new

SLUG = "demo"
MANAGER_EMAIL = "manager@demo.example"
MANAGER_PASSWORD = "gapsurvey-manager"
STAFF_PASSWORD = "gapsurvey-staff"
DEFAULT_QUESTIONNAIRE = "Five gaps — standard"
EXPECTATIONS_QUESTIONNAIRE = "Five gaps — expectations"

# name: (staff count, shift of their self-ratings)
DEPARTMENTS = {
    "Front desk": (6, 0.2),
    "Field service": (6, -0.1),
    "Billing": (5, -0.3),
    "Sales": (3, 0.4),  # below the minimum group size: always suppressed
}
# name: (contacts, weight, shift of their ratings)
SEGMENTS = {
    "Households": (90, "0.350", 0.0),
    "Small business": (80, "0.450", -0.3),
    "Public sector": (30, "0.200", 0.3),
    "Partners": (8, None, 0.0),  # too few answers to report
}
INTERNAL = {
    Gap.KNOWLEDGE: 5.7,
    Gap.STANDARDS: 5.9,
    Gap.DELIVERY: 5.8,
    Gap.COMMUNICATION: 6.0,
    Gap.PERCEPTION: 5.9,
}
CUSTOMER_EARLIER = {
    Gap.KNOWLEDGE: 4.5,
    Gap.STANDARDS: 5.3,
    Gap.DELIVERY: 4.7,
    Gap.COMMUNICATION: 3.8,
    Gap.PERCEPTION: 4.4,
}
# After the actions on communication and delivery, those gaps narrowed.
CUSTOMER_LATER = {
    **CUSTOMER_EARLIER,
    Gap.DELIVERY: 5.0,
    Gap.COMMUNICATION: 4.4,
}
COMMENTS = [
    "The engineer was friendly but came a day later than promised.",
    "Invoices are hard to read & the totals never match the quote.",
    "Very happy overall, the front desk knows me by name.",
    "Nobody told me the appointment had moved. I found out when no one came.",
    "The website says next-day service; it took a week.",
    "Good people, slow process.",
]


@dataclass(frozen=True)
class DemoSummary:
    created: bool
    organization: Organization
    logins: list[tuple[str, str, str]]  # (role, email, password)


def _logins() -> list[tuple[str, str, str]]:
    return [
        ("manager", MANAGER_EMAIL, MANAGER_PASSWORD),
        ("staff", "staff1@demo.example", STAFF_PASSWORD),
    ]


def demo_load(*, today: date | None = None, seed: int = 2026) -> DemoSummary:
    """Create the demo organization unless it exists; idempotent."""
    existing = Organization.objects.filter(slug=SLUG).first()
    if existing is not None:
        return DemoSummary(created=False, organization=existing, logins=_logins())
    organization = _demo_create(today=today or timezone.localdate(), seed=seed)
    return DemoSummary(created=True, organization=organization, logins=_logins())


def _at(day: date, rng: np.random.Generator) -> datetime:
    minutes = int(rng.integers(8 * 60, 20 * 60))
    return timezone.make_aware(
        datetime.combine(day, time()) + timedelta(minutes=minutes)
    )


@transaction.atomic
def _demo_create(*, today: date, seed: int) -> Organization:
    rng = np.random.default_rng(seed)
    questionnaire = Questionnaire.objects.get(
        organization=None, name=DEFAULT_QUESTIONNAIRE, version=1
    )
    organization = Organization.objects.create(name="Northwind Services", slug=SLUG)
    User = get_user_model()

    manager = User.objects.create(
        username=MANAGER_EMAIL,
        email=MANAGER_EMAIL,
        first_name="Morgan",
        last_name="Reyes",
        password=make_password(MANAGER_PASSWORD),
    )
    Membership.objects.create(
        user=manager, organization=organization, role=Role.MANAGER
    )

    staff_hash = make_password(STAFF_PASSWORD)  # hashing is slow: once for all
    staff: list[tuple[Membership, float]] = []
    number = 0
    for name, (count, shift) in DEPARTMENTS.items():
        department = Department.objects.create(organization=organization, name=name)
        for _ in range(count):
            number += 1
            email = f"staff{number}@demo.example"
            user = User.objects.create(
                username=email,
                email=email,
                first_name=f"Staff{number}",
                last_name=name.split()[0],
                password=staff_hash,
            )
            membership = Membership.objects.create(
                user=user,
                organization=organization,
                role=Role.STAFF,
                department=department,
            )
            staff.append((membership, shift))

    contacts: list[tuple[Contact, float]] = []
    number = 0
    for name, (count, weight, shift) in SEGMENTS.items():
        segment = Segment.objects.create(
            organization=organization, name=name, weight=weight
        )
        batch = []
        for _ in range(count):
            number += 1
            batch.append(
                Contact(
                    organization=organization,
                    email=f"customer{number:03d}@example.com",
                    name=f"Customer {number:03d}",
                    segment=segment,
                )
            )
        contacts.extend((c, shift) for c in Contact.objects.bulk_create(batch))
    # Two customers asked not to be mailed again.
    Contact.objects.filter(pk__in=[contacts[5][0].pk, contacts[120][0].pk]).update(
        opted_out_at=timezone.now()
    )

    waves = [
        ("Spring wave", today - timedelta(days=200), 30, CUSTOMER_EARLIER, 0.66),
        ("Autumn wave", today - timedelta(days=14), 44, CUSTOMER_LATER, 0.55),
    ]
    for index, (name, opens_on, days, customer_means, answer_rate) in enumerate(waves):
        closed = index == 0
        study = Study.objects.create(
            organization=organization,
            questionnaire=questionnaire,
            name=f"{name} {opens_on.year}",
            introduction=(
                "We would like to know how well we serve you. The survey takes "
                "about five minutes; your answers are reported only in groups."
            ),
            status=Study.Status.CLOSED if closed else Study.Status.OPEN,
            opens_on=opens_on,
            closes_on=opens_on + timedelta(days=days),
            opened_at=_at(opens_on, rng),
            closed_at=_at(opens_on + timedelta(days=days), rng) if closed else None,
        )
        _wave_responses(
            study=study,
            staff=staff,
            contacts=contacts,
            profile=Profile(internal=INTERNAL, customer=customer_means),
            answer_rate=answer_rate,
            rng=rng,
            last_day=min(today, study.closes_on),
        )
        if closed:
            _actions_between_waves(organization, study, opens_on + timedelta(days=60))
        else:
            _followup_cases(study, manager=manager, staff=staff)
    _expectations_pilot(organization, staff, contacts, today, rng)
    return organization


# The expectations pilot's story: reliability matters most to customers and
# falls well short of what they expect; tangibles matter least and are
# over-delivered. Staff believe customers care about tangibles more than they
# do (the knowledge gap on what customers value).
PILOT_IMPORTANCE = {
    "tangibles": 0.6,
    "reliability": 3.6,
    "responsiveness": 2.0,
    "assurance": 1.8,
    "empathy": 1.4,
}
PILOT_STAFF_IMPORTANCE = {
    "tangibles": 2.0,
    "reliability": 2.0,
    "responsiveness": 1.6,
    "assurance": 1.6,
    "empathy": 1.4,
}
# Per dimension: (shift of the perception, extra shift of the expectation).
PILOT_SHIFTS = {
    "tangibles": (0.7, -1.6),
    "reliability": (-0.9, 0.7),
    "responsiveness": (-0.2, 0.2),
    "assurance": (0.2, 0.0),
    "empathy": (0.0, 0.0),
}


def _expectations_pilot(organization, staff, contacts, today: date, rng) -> None:
    """A third, open study on the expectations questionnaire (E and P,
    importance, the overall rating) with a clear priority."""
    questionnaire = Questionnaire.objects.filter(
        organization=None, name=EXPECTATIONS_QUESTIONNAIRE, version=1
    ).first()
    if questionnaire is None:
        from django.core.management import call_command

        call_command("loaddata", "expectations_questionnaire", verbosity=0)
        questionnaire = Questionnaire.objects.get(
            organization=None, name=EXPECTATIONS_QUESTIONNAIRE, version=1
        )
    opens_on = today - timedelta(days=10)
    study = Study.objects.create(
        organization=organization,
        questionnaire=questionnaire,
        name=f"Expectations pilot {opens_on.year}",
        introduction=(
            "For each statement, tell us what an excellent company would do, and "
            "what we do. Then tell us what matters most to you."
        ),
        status=Study.Status.OPEN,
        opens_on=opens_on,
        closes_on=opens_on + timedelta(days=30),
        opened_at=_at(opens_on, rng),
    )
    items = list(questionnaire.items.all())
    profile = Profile(
        internal=INTERNAL,
        customer=CUSTOMER_LATER,
        item_shift={item.pk: PILOT_SHIFTS[item.dimension][0] for item in items},
        kind_item_shift={
            ("E", item.pk): PILOT_SHIFTS[item.dimension][1] for item in items
        },
        importance=PILOT_IMPORTANCE,
        staff_importance=PILOT_STAFF_IMPORTANCE,
    )
    _wave_responses(
        study=study,
        staff=staff,
        contacts=contacts,
        profile=profile,
        answer_rate=0.6,
        rng=rng,
        last_day=today,
    )


def _wave_responses(
    *,
    study: Study,
    staff: list[tuple[Membership, float]],
    contacts: list[tuple[Contact, float]],
    profile: Profile,
    answer_rate: float,
    rng: np.random.Generator,
    last_day: date,
) -> None:
    span = max((last_day - study.opens_on).days, 1)

    def when() -> datetime:
        return _at(study.opens_on + timedelta(days=int(rng.integers(0, span))), rng)

    sent_at = _at(study.opens_on, rng)
    invitations = Invitation.objects.bulk_create(
        Invitation(
            study=study,
            contact=contact,
            created_at=sent_at,
            # The app's own derivation, so reminders from demo data carry
            # working links.
            token_hash=token_hash(
                invitation_token_new(
                    study_id=study.pk, contact_id=contact.pk, created_at=sent_at
                )
            ),
            attempts=1,
            sent_at=sent_at,
        )
        for contact, _ in contacts
        if contact.opted_out_at is None
    )
    shifts = {contact.pk: (contact, shift) for contact, shift in contacts}
    respondents, times = [], []
    for invitation in invitations:
        contact, shift = shifts[invitation.contact_id]
        if rng.random() >= answer_rate:
            continue
        comment = (
            COMMENTS[int(rng.integers(len(COMMENTS)))] if rng.random() < 0.08 else ""
        )
        respondents.append(
            Respondent(
                audience=Audience.CUSTOMER,
                segment_id=contact.segment_id,
                invitation_id=invitation.pk,
                shift=shift,
                comment=comment,
            )
        )
        times.append(when())
        invitation.opened_at = invitation.responded_at = times[-1]
    for invitation in invitations:
        if invitation.responded_at is None and rng.random() < 0.25:
            invitation.opened_at = when()
    Invitation.objects.bulk_update(invitations, ["opened_at", "responded_at"])
    # A few addresses bounced.
    for invitation in invitations[-3:]:
        if invitation.responded_at is None:
            Invitation.objects.filter(pk=invitation.pk).update(
                sent_at=None,
                failed_at=sent_at,
                attempts=5,
                last_error="550 5.1.1 Mailbox does not exist",
            )

    for number, (membership, shift) in enumerate(staff):
        if number % 7 == 3:
            continue  # not started
        respondents.append(
            Respondent(
                audience=Audience.INTERNAL,
                department_id=membership.department_id,
                user_id=membership.user_id,
                shift=shift,
                submitted=number % 7 != 5,  # a few drafts
            )
        )
        times.append(when())
    responses_bulk_create(
        study=study,
        respondents=respondents,
        profile=profile,
        submitted_at=times,
        rng=rng,
    )


def _actions_between_waves(organization: Organization, study: Study, on: date) -> None:
    created = timezone.make_aware(datetime.combine(on, time(9)))
    Action.objects.bulk_create(
        [
            Action(
                organization=organization,
                study=study,
                gap=Gap.COMMUNICATION,
                description="Align the sales script and the website with the "
                "service terms actually offered.",
                owner="Head of Sales",
                due_on=on + timedelta(days=45),
                status=Action.Status.DONE,
                created_at=created,
                closed_at=created + timedelta(days=40),
            ),
            Action(
                organization=organization,
                study=study,
                gap=Gap.DELIVERY,
                description="A first-time-right checklist for every field visit.",
                owner="Field service lead",
                due_on=on + timedelta(days=90),
                status=Action.Status.IN_PROGRESS,
                created_at=created,
            ),
        ]
    )


# The open wave's follow-up: who agreed to be contacted, and how far each case got.
CASE_PLAN = [
    # (status, hours to first contact, hours to resolution, channel)
    ("new", None, None, "email"),
    ("new", None, None, "phone"),
    ("contacted", 3, None, "phone"),
    ("contacted", 30, None, "email"),
    ("resolved", 2, 20, "email"),
    ("resolved", 60, 90, "phone"),
    ("closed", None, None, "email"),
]


def _followup_cases(
    study: Study, *, manager, staff: list[tuple[Membership, float]]
) -> None:
    """Follow-up rules on the open wave, and cases in every status for a few
    customers with a low area score (as if they had agreed to be contacted):
    Households' cases go to staff1, the others to the manager."""
    staff1 = staff[0][0]
    households = Segment.objects.get(organization=study.organization, name="Households")
    rules = FollowUpRules(
        enabled=True,
        trigger=Trigger.LOW,
        threshold=3,
        due_hours=48,
        owner=manager.pk,
        segment_owners={str(households.pk): staff1.user_id},
        mail_customer=True,
    )
    study.followup_rules = rules.to_json()
    study.save(update_fields=["followup_rules"])
    # Not the process's item cache: demo data is written once, in bulk.
    items = list(study.questionnaire.items.all())
    responses = list(
        Response.objects.filter(
            study=study, audience=Audience.CUSTOMER, status=Response.Status.SUBMITTED
        )
        .select_related("invitation")
        .order_by("-submitted_at", "-id")
    )
    given: dict[int, dict] = {}
    for response_id, item_id, value in Answer.objects.filter(
        response__in=responses
    ).values_list("response_id", "item_id", "value"):
        given.setdefault(response_id, {})[item_id] = value
    now = timezone.now()
    plan = iter(CASE_PLAN)
    for response in responses:
        why = trigger_for(rules, given.get(response.pk, {}), items)
        if why is None:
            continue
        step = next(plan, None)
        if step is None:
            break
        status, contact_hours, resolve_hours, channel = step
        # The first "new" case is the freshest (not due yet); the other is late.
        opened = min(response.submitted_at, now - timedelta(hours=1))
        if status == "new" and channel == "phone":
            opened = min(opened, now - timedelta(hours=60))
        if status == "closed":
            opened = min(opened, now - timedelta(hours=51))
        if contact_hours is not None:
            opened = min(
                opened, now - timedelta(hours=(resolve_hours or contact_hours) + 1)
            )
        owner_id = rules.owner_for(response.segment_id)
        case = Case.objects.create(
            organization=study.organization,
            study=study,
            response=response,
            contact_id=response.invitation.contact_id,
            segment_id=response.segment_id,
            owner_id=owner_id,
            channel=channel,
            phone="+44 20 7946 0" + f"{response.pk % 1000:03d}"
            if channel == "phone"
            else "",
            trigger=why,
            opened_at=opened,
            due_at=opened + timedelta(hours=rules.due_hours),
            owner_mailed_at=opened,
        )
        events = []
        if contact_hours is not None:
            case.first_contact_at = opened + timedelta(hours=contact_hours)
            events.append(
                (
                    CaseEvent.Kind.CONTACTED,
                    case.first_contact_at,
                    "Called and listened.",
                )
            )
        if resolve_hours is not None:
            case.resolved_at = opened + timedelta(hours=resolve_hours)
            case.customer_note = "We have moved your visits to mornings, as you asked."
            case.customer_mailed_at = case.resolved_at
            events.append(
                (
                    CaseEvent.Kind.RESOLVED,
                    case.resolved_at,
                    "Rebooked the visits; a team lead checks the next one.",
                )
            )
        if status == "closed":
            case.closed_at = opened + timedelta(hours=50)
            case.close_reason = "No answer on three calls; the address bounced."
            events.append((CaseEvent.Kind.CLOSED, case.closed_at, case.close_reason))
        case.status = status
        case.save()
        CaseEvent.objects.bulk_create(
            CaseEvent(case=case, kind=kind, actor_id=owner_id, text=text, created_at=at)
            for kind, at, text in events
        )
