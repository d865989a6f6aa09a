"""Closing the loop: a consenting customer's answers open a follow-up case.

The customer form asks "May we contact you about your answers?" (no by
default). A yes is kept only on the case it opens (how to reach them: channel
and phone), beside the response, never on the contact: without it no case
opens and no page ever links the person to their answers; a yes whose answers
open no case is not kept either. The study's follow-up rules (`FollowUpRules`, on
the study's own row, so a submit reads them for free) decide whether a case
opens, who owns it and when it is due. Cases move new → contacted → resolved,
or new → closed without contact (with a reason); every step is a timeline
event and an audit event. Mails (assignment, the daily digest of overdue
cases, the closing note to the customer) go through the task queue.
"""

import datetime
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from statistics import fmean

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from surveys.audit import audit_record
from surveys.models import (
    Action,
    Case,
    CaseEvent,
    ContactChannel,
    Dimension,
    FollowUpDigest,
    Gap,
    Invitation,
    Item,
    Membership,
    Response,
    SnapshotEntry,
    Study,
)

DEFAULT_DUE_HOURS = 48
MAX_DUE_HOURS = 24 * 90
PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{5,30}$")


class FollowUpError(Exception):
    """A follow-up change that must be refused; the message is fit to show."""


class Trigger:
    LOW = "low"
    ALWAYS = "always"
    CHOICES = [
        (LOW, "When an area score is at or below the threshold"),
        (ALWAYS, "Whenever a customer agrees to be contacted"),
    ]


@dataclass(frozen=True)
class Consent:
    """What the customer form says about being contacted (a yes only)."""

    channel: str = ContactChannel.EMAIL
    phone: str = ""


@dataclass
class FollowUpRules:
    """A study's follow-up rules, as stored in `Study.followup_rules`.

    Owners are user ids of members of the study's organization: `owner` is the
    study-wide fallback, `segment_owners` maps a segment id (as text) to its own.
    """

    enabled: bool = False
    trigger: str = Trigger.LOW
    threshold: int | None = None
    due_hours: int = DEFAULT_DUE_HOURS
    owner: int | None = None
    segment_owners: dict[str, int] = field(default_factory=dict)
    mail_customer: bool = False

    @classmethod
    def of(cls, study: Study) -> "FollowUpRules":
        data = study.followup_rules or {}
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def to_json(self) -> dict:
        return asdict(self)

    def owner_for(self, segment_id: int | None) -> int | None:
        if segment_id is not None:
            found = self.segment_owners.get(str(segment_id))
            if found:
                return found
        return self.owner


def default_threshold(study: Study) -> int:
    """Below the scale's middle: 3 on 1–7, 2 on 1–5."""
    questionnaire = study.questionnaire
    return int((questionnaire.scale_min + questionnaire.scale_max) // 2) - 1


def _members(study: Study) -> dict[int, Membership]:
    return {
        m.user_id: m
        for m in Membership.objects.filter(
            organization_id=study.organization_id
        ).select_related("user")
    }


@transaction.atomic
def followup_rules_set(
    *,
    study: Study,
    actor: AbstractBaseUser | None,
    enabled: bool,
    trigger: str,
    threshold: int | None,
    due_hours: int,
    owner_id: int | None,
    segment_owner_ids: dict[int, int | None],
    mail_customer: bool,
) -> FollowUpRules:
    """Set a study's follow-up rules (draft or open studies). Raises
    FollowUpError with a plain reason, and then changes nothing."""
    study = (
        Study.objects.select_for_update()
        .select_related("questionnaire")
        .get(pk=study.pk)
    )
    if study.status == Study.Status.CLOSED:
        raise FollowUpError("The study is closed: its follow-up rules no longer apply.")
    questionnaire = study.questionnaire
    if trigger not in (Trigger.LOW, Trigger.ALWAYS):
        raise FollowUpError("Choose when a case opens.")
    if trigger == Trigger.LOW:
        if threshold is None:
            raise FollowUpError("Give the score at or below which a case opens.")
        if not questionnaire.scale_min <= threshold <= questionnaire.scale_max:
            raise FollowUpError(
                f"The threshold must be on the scale, from {questionnaire.scale_min} "
                f"to {questionnaire.scale_max}."
            )
    if due_hours is None or due_hours <= 0:
        raise FollowUpError("The due time must be at least one hour.")
    if due_hours > MAX_DUE_HOURS:
        raise FollowUpError(f"The due time can be at most {MAX_DUE_HOURS} hours.")
    members = _members(study)
    if owner_id is not None and owner_id not in members:
        raise FollowUpError("The owner must be a member of your organization.")
    if enabled and owner_id is None:
        raise FollowUpError("Choose who owns the cases when no segment owner is set.")
    segment_ids = set(study.organization.segments.values_list("pk", flat=True))
    segment_owners: dict[str, int] = {}
    for segment_id, user_id in segment_owner_ids.items():
        if segment_id not in segment_ids:
            raise FollowUpError("That segment is not one of your organization's.")
        if user_id is None:
            continue
        if user_id not in members:
            raise FollowUpError(
                "Each segment's owner must be a member of your organization."
            )
        segment_owners[str(segment_id)] = user_id
    rules = FollowUpRules(
        enabled=enabled,
        trigger=trigger,
        threshold=threshold if trigger == Trigger.LOW else None,
        due_hours=due_hours,
        owner=owner_id,
        segment_owners=segment_owners,
        mail_customer=mail_customer,
    )
    study.followup_rules = rules.to_json()
    study.save(update_fields=["followup_rules"])
    audit_record(
        organization=study.organization,
        actor=actor,
        action="followup_rules_set",
        target=study,
        study_id=study.pk,
        enabled=enabled,
        trigger=trigger,
        threshold=rules.threshold,
        due_hours=due_hours,
    )
    return rules


# --- opening a case on submit -----------------------------------------------------


def _areas(items: Iterable[Item]) -> tuple[str, dict[int, str]]:
    """The questionnaire's areas: service dimensions when every item has one,
    else gaps. ("dimension" or "gap", {item id: area})."""
    items = list(items)
    if items and all(item.dimension for item in items):
        return "dimension", {item.pk: item.dimension for item in items}
    return "gap", {item.pk: item.gap for item in items}


AREA_LABELS = {**dict(Gap.choices), **dict(Dimension.choices)}


def area_scores(
    answers: dict[int, int | None], items: Iterable[Item]
) -> dict[str, float]:
    """{area: mean of the answered items of that area} ("don't know" left out)."""
    _, area_of = _areas(items)
    values: dict[str, list[int]] = {}
    for item_id, value in answers.items():
        if value is not None and item_id in area_of:
            values.setdefault(area_of[item_id], []).append(value)
    return {area: fmean(vals) for area, vals in values.items()}


def trigger_for(
    rules: FollowUpRules,
    answers: dict[int, int | None],
    items: Iterable[Item],
    overall: int | None = None,
) -> str | None:
    """Why these answers open a case under the rules, in words; None if not.
    The overall rating (when the questionnaire asks for one) comes first."""
    if rules.trigger == Trigger.ALWAYS:
        return "Asked to be contacted"
    if rules.threshold is None:
        return None
    if overall is not None and overall <= rules.threshold:
        return f"Overall rating: {overall}, at or below {rules.threshold}"
    scores = area_scores(answers, items)
    low = {a: s for a, s in scores.items() if s <= rules.threshold}
    if not low:
        return None
    area = min(low, key=lambda a: (low[a], a))
    more = len(low) - 1
    text = (
        f"{AREA_LABELS.get(area, area)}: {low[area]:.1f}, at or below {rules.threshold}"
    )
    if more:
        text += f" (and {more} more area{'s' if more > 1 else ''})"
    return text


def followup_may_open(invitation: Invitation, consent: Consent | None) -> bool:
    """Whether a submit may open a case: the customer agreed and the study
    follows up (no query: the study is the invitation's, already read)."""
    return consent is not None and FollowUpRules.of(invitation.study).enabled


def followup_after_submit(
    *,
    response: Response,
    invitation: Invitation,
    answers: dict[int, int | None],
    items: list[Item],
    consent: Consent | None,
) -> Case | None:
    """What a customer's submit means for follow-up; the one call the submit
    makes. No query at all unless a case opens (the consent comes from the
    form, the rules from the study's row the submit has read, the scores from
    the answers in hand); then one insert, and the owner's mail is queued on
    commit (one more insert with the database task backend)."""
    if not followup_may_open(invitation, consent):
        return None
    study = invitation.study
    rules = FollowUpRules.of(study)
    why = trigger_for(rules, answers, items, overall=response.overall_rating)
    if why is None:
        return None
    now = response.submitted_at or timezone.now()
    case = Case.objects.create(
        organization_id=study.organization_id,
        study_id=study.pk,
        response=response,
        contact_id=invitation.contact_id,
        segment_id=response.segment_id,
        owner_id=rules.owner_for(response.segment_id),
        channel=consent.channel,
        phone=consent.phone if consent.channel == ContactChannel.PHONE else "",
        trigger=why[:200],
        opened_at=now,
        due_at=now + datetime.timedelta(hours=rules.due_hours),
    )
    if case.owner_id is not None:
        _queue_assignment_mail(case.pk)
    return case


def _queue_assignment_mail(case_id: int) -> None:
    """Queue the owner's mail. The database backend's task row is written in
    the case's own transaction (the worker sees both or neither, and the submit
    commits once); any other backend is asked after commit, so that its worker
    never looks for a case not committed yet."""
    from django_tasks_db.backend import DatabaseBackend

    from surveys.tasks import case_assignment_send

    backend = case_assignment_send.get_backend()
    if (
        isinstance(backend, DatabaseBackend)
        and transaction.get_connection().in_atomic_block
    ):
        case_assignment_send.enqueue(case_id)
    else:
        transaction.on_commit(lambda: case_assignment_send.enqueue(case_id))


# --- working a case ---------------------------------------------------------------


def _locked(case: Case) -> Case:
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=case.pk)
    )


def _event(case: Case, kind: str, actor, text: str = "", at=None) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        text=text,
        created_at=at or timezone.now(),
    )


def _audit(case: Case, actor, action: str, **detail) -> None:
    # Ids and states only: a note may name the customer.
    audit_record(
        organization=case.organization,
        actor=actor,
        action=action,
        target=f"case #{case.pk}",
        case_id=case.pk,
        study_id=case.study_id,
        **detail,
    )


def _clean(text: str) -> str:
    return (text or "").strip()


@transaction.atomic
def case_note_add(*, case: Case, actor: AbstractBaseUser, text: str) -> CaseEvent:
    """Add a note to an open case's timeline."""
    case = _locked(case)
    text = _clean(text)
    if not case.is_open:
        raise FollowUpError(
            f"This case is {case.get_status_display().lower()}: it takes no more notes."
        )
    if not text:
        raise FollowUpError("Write the note first.")
    event = _event(case, CaseEvent.Kind.NOTE, actor, text)
    _audit(case, actor, "case_note")
    return event


@transaction.atomic
def case_contacted(*, case: Case, actor: AbstractBaseUser, note: str = "") -> Case:
    """Record that the customer was contacted (the first contact's time)."""
    case = _locked(case)
    if case.status != Case.Status.NEW:
        raise FollowUpError(
            "Only a new case can be marked contacted; this one is "
            f"{case.get_status_display().lower()}."
        )
    now = timezone.now()
    case.status = Case.Status.CONTACTED
    case.first_contact_at = now
    case.save(update_fields=["status", "first_contact_at"])
    _event(case, CaseEvent.Kind.CONTACTED, actor, _clean(note), now)
    _audit(case, actor, "case_contacted")
    return case


@transaction.atomic
def case_resolve(
    *,
    case: Case,
    actor: AbstractBaseUser,
    note: str = "",
    customer_note: str = "",
) -> Case:
    """Resolve a case. From new (no contact recorded) only with a note of what
    was done, which then also counts as the first contact. A customer note is
    mailed to the customer when the study's rules say so and they may be
    mailed."""
    case = _locked(case)
    note, customer_note = _clean(note), _clean(customer_note)
    if not case.is_open:
        raise FollowUpError(
            f"This case is already {case.get_status_display().lower()}."
        )
    if case.status == Case.Status.NEW and not note:
        raise FollowUpError(
            "No contact is recorded yet: say what was done to resolve it, or mark "
            "the customer contacted first."
        )
    now = timezone.now()
    fields = ["status", "resolved_at", "customer_note"]
    if case.first_contact_at is None:
        case.first_contact_at = now
        fields.append("first_contact_at")
    case.status = Case.Status.RESOLVED
    case.resolved_at = now
    mail = bool(customer_note) and customer_mail_allowed(case)
    case.customer_note = customer_note if mail else ""
    case.save(update_fields=fields)
    _event(case, CaseEvent.Kind.RESOLVED, actor, note, now)
    _audit(case, actor, "case_resolve", customer_mail=mail)
    if mail:
        from surveys.tasks import case_closing_send

        transaction.on_commit(lambda: case_closing_send.enqueue(case.pk))
    return case


def customer_mail_allowed(case: Case) -> bool:
    """Whether a resolved case may mail its customer: the study's rules say so,
    the customer is still known and has not opted out."""
    contact = case.contact
    return (
        FollowUpRules.of(case.study).mail_customer
        and contact is not None
        and contact.opted_out_at is None
        and case.erased_at is None
    )


@transaction.atomic
def case_close(*, case: Case, actor: AbstractBaseUser, reason: str) -> Case:
    """Close a new case without contact, for a reason."""
    case = _locked(case)
    reason = _clean(reason)
    if case.status != Case.Status.NEW:
        raise FollowUpError(
            "Only a case nobody has contacted yet can be closed without contact; "
            f"this one is {case.get_status_display().lower()}."
        )
    if not reason:
        raise FollowUpError("Say why the case is closed without contact.")
    now = timezone.now()
    case.status = Case.Status.CLOSED
    case.closed_at = now
    case.close_reason = reason
    case.save(update_fields=["status", "closed_at", "close_reason"])
    _event(case, CaseEvent.Kind.CLOSED, actor, reason, now)
    _audit(case, actor, "case_close")
    return case


@transaction.atomic
def case_assign(*, case: Case, actor: AbstractBaseUser, owner_id: int) -> Case:
    """Give an open case to another member of its organization; they are mailed."""
    case = _locked(case)
    if not case.is_open:
        raise FollowUpError("A resolved or closed case keeps its owner.")
    member = (
        Membership.objects.filter(
            organization_id=case.organization_id, user_id=owner_id
        )
        .select_related("user")
        .first()
    )
    if member is None:
        raise FollowUpError("The owner must be a member of your organization.")
    if case.owner_id == owner_id:
        return case
    case.owner_id = owner_id
    case.owner_mailed_at = None
    case.save(update_fields=["owner", "owner_mailed_at"])
    _event(case, CaseEvent.Kind.ASSIGNED, actor, member_name(member))
    _audit(case, actor, "case_assign", owner_id=owner_id)
    _queue_assignment_mail(case.pk)
    return case


@transaction.atomic
def case_action_raise(
    *, case: Case, actor: AbstractBaseUser, gap: str, description: str
) -> Action:
    """Raise an action on one of the study's gaps from a case, linked both ways."""
    from surveys.services.actions import action_create

    case = _locked(case)
    if case.action_id is not None:
        raise FollowUpError("This case has raised an action already.")
    if gap not in Gap.values:
        raise FollowUpError("Choose one of the five gaps.")
    description = _clean(description)
    if not description:
        raise FollowUpError("Describe the action.")
    action = action_create(
        study=case.study, actor=actor, gap=gap, description=description
    )
    case.action = action
    case.save(update_fields=["action"])
    _event(case, CaseEvent.Kind.ACTION, actor, description)
    _audit(case, actor, "case_action", action_id=action.pk)
    return action


def member_name(membership: Membership) -> str:
    user = membership.user
    return user.get_full_name() or user.email


# --- mail -------------------------------------------------------------------------


def case_assignment_deliver(case_id: int) -> bool:
    """Mail a case's owner that it is theirs (once per assignment). True when sent."""
    from surveys.emails import case_assigned_message

    case = (
        Case.objects.select_related("owner", "study", "organization")
        .filter(pk=case_id, owner__isnull=False, owner_mailed_at__isnull=True)
        .first()
    )
    if case is None or not case.owner.email or not case.is_open:
        return False
    if not Membership.objects.filter(
        organization_id=case.organization_id, user_id=case.owner_id
    ).exists():
        # The rules named someone who has left since: a manager reassigns it.
        return False
    case_assigned_message(case).send()
    Case.objects.filter(pk=case.pk, owner_id=case.owner_id).update(
        owner_mailed_at=timezone.now()
    )
    return True


def case_closing_deliver(case_id: int) -> bool:
    """Mail the customer the owner's closing note (once). Never to an opted-out
    or erased customer. True when sent."""
    from surveys.emails import case_closing_message

    case = (
        Case.objects.select_related("contact", "study", "organization")
        .filter(
            pk=case_id,
            status=Case.Status.RESOLVED,
            customer_mailed_at__isnull=True,
        )
        .exclude(customer_note="")
        .first()
    )
    if case is None or not customer_mail_allowed(case):
        return False
    claimed = Case.objects.filter(pk=case.pk, customer_mailed_at__isnull=True).update(
        customer_mailed_at=timezone.now()
    )
    if not claimed:
        return False
    try:
        case_closing_message(case).send()
    except Exception:
        Case.objects.filter(pk=case.pk).update(customer_mailed_at=None)
        raise
    _event(case, CaseEvent.Kind.MAILED, None, case.customer_note)
    return True


def overdue_cases():
    """Open cases past their due time with nobody contacted."""
    return Case.objects.filter(status=Case.Status.NEW, due_at__lte=timezone.now())


@dataclass
class DigestReport:
    sent: int = 0
    skipped: int = 0


def followup_digests_deliver() -> DigestReport:
    """Mail each owner their overdue cases, at most once a calendar day per
    owner and organization (safe to repeat: the day is claimed before the mail
    goes; a failed mail gives the claim back for the next run)."""
    from surveys.emails import followup_digest_message

    report = DigestReport()
    today = timezone.localdate()
    grouped: dict[tuple[int, int], list[Case]] = {}
    for case in (
        overdue_cases()
        .filter(owner__isnull=False)
        .select_related("owner", "organization", "study")
    ):
        grouped.setdefault((case.organization_id, case.owner_id), []).append(case)
    for (organization_id, user_id), cases in sorted(grouped.items()):
        if not Membership.objects.filter(
            organization_id=organization_id, user_id=user_id
        ).exists():
            report.skipped += 1
            continue
        try:
            with transaction.atomic():
                digest = FollowUpDigest.objects.create(
                    organization_id=organization_id,
                    user_id=user_id,
                    day=today,
                    cases=len(cases),
                )
        except IntegrityError:
            report.skipped += 1
            continue
        try:
            followup_digest_message(cases[0].owner, cases).send()
        except Exception:
            digest.delete()
            raise
        digest.sent_at = timezone.now()
        digest.save(update_fields=["sent_at"])
        report.sent += 1
    return report


# --- data rights ------------------------------------------------------------------


def followup_erase_contact(contact_id: int) -> int:
    """Erase what follow-up holds about a contact (before the contact goes):
    their cases' link to them and to their answers, their phone, every note
    and message of those cases. The cases stay, as counts and times, for the
    response-time figures. How many cases were erased."""
    case_ids = list(
        Case.objects.filter(
            Q(contact_id=contact_id) | Q(response__invitation__contact_id=contact_id)
        ).values_list("pk", flat=True)
    )
    CaseEvent.objects.filter(case_id__in=case_ids).update(text="")
    return Case.objects.filter(pk__in=case_ids).update(
        contact=None,
        response=None,
        phone="",
        close_reason="",
        customer_note="",
        erased_at=timezone.now(),
    )


# --- reading -------------------------------------------------------------------


def cases_visible_to(membership: Membership):
    """The cases a member may see: a manager all of the organization's, anyone
    else only their own."""
    cases = Case.objects.filter(organization_id=membership.organization_id)
    if not membership.is_manager:
        cases = cases.filter(owner_id=membership.user_id)
    return cases


def case_answers_withheld(case: Case) -> bool:
    """Whether a case must not show its answers: its response was published
    before the case opened (as not known, surveys.disclosure), so showing them
    could give away others of its group. In practice only a snapshot taken in
    the instant between a submit and its case."""
    return SnapshotEntry.objects.filter(
        response_id=case.response_id, known=False
    ).exists()


def case_answers(case: Case) -> list[dict]:
    """The case's customer's answers per item in the customer wording:
    [{"position", "text", "value"} ...] (value None = "don't know"); none when
    withheld (`case_answers_withheld`)."""
    if case.response_id is None or case_answers_withheld(case):
        return []
    rows = (
        Case.objects.filter(pk=case.pk)
        .values_list(
            "response__answers__item__position",
            "response__answers__item__customer_text",
            "response__answers__value",
        )
        .order_by("response__answers__item__position", "response__answers__item_id")
    )
    return [
        {"position": n, "text": text, "value": value}
        for n, (_, text, value) in enumerate(
            (row for row in rows if row[1] is not None), start=1
        )
    ]


def case_filter(
    cases,
    *,
    status: str = "",
    owner_id: int | None = None,
    segment_id: int | None = None,
    overdue: bool = False,
    study_id: int | None = None,
):
    """The cases narrowed by the case list's filters."""
    if status:
        cases = cases.filter(status=status)
    if owner_id is not None:
        cases = cases.filter(owner_id=owner_id)
    if segment_id is not None:
        cases = cases.filter(segment_id=segment_id)
    if study_id is not None:
        cases = cases.filter(study_id=study_id)
    if overdue:
        cases = cases.filter(Q(status=Case.Status.NEW) & Q(due_at__lte=timezone.now()))
    return cases


def valid_phone(value: str) -> bool:
    return bool(PHONE_RE.match(value or ""))


def site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"
