"""A study's life: created as a draft, edited while draft, opened, closed, and
reopened until a new date. One transaction and one audit event per write.

Opening only changes the study: sending invitations is the invitations code's
business, which calls this and then queues its own work.
"""

import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from surveys.audit import audit_record
from surveys.models import (
    Audience,
    Contact,
    Membership,
    Organization,
    Questionnaire,
    Response,
    Role,
    Study,
)
from surveys.services.invitations import invitations_enqueue
from surveys.services.questionnaires import questionnaire_problems
from surveys.services.snapshots import snapshot_publish, snapshots_reopen

MIN_GROUP_SIZE = 3


class StudyError(Exception):
    """A change that must be refused; the message is fit to show the person."""


def questionnaires_available(organization: Organization) -> QuerySet[Questionnaire]:
    """The default questionnaires and the organization's own."""
    return Questionnaire.objects.filter(
        Q(organization__isnull=True) | Q(organization=organization)
    )


def questionnaire_preferred(organization: Organization) -> Questionnaire | None:
    """The questionnaire a new study most likely wants: the organization's own
    latest, else the latest default one."""
    own = Questionnaire.objects.filter(organization=organization)
    default = Questionnaire.objects.filter(organization__isnull=True)
    for candidates in (own, default):
        latest = candidates.order_by("-created_at", "-version", "-id").first()
        if latest is not None:
            return latest
    return None


def studies_with_counts(organization: Organization) -> QuerySet[Study]:
    """The organization's studies, each with `staff_count` and `customer_count`:
    its submitted responses per audience, counted in the same query."""
    submitted = Q(responses__status=Response.Status.SUBMITTED)
    return (
        Study.objects.filter(organization=organization)
        .select_related("questionnaire")
        .annotate(
            staff_count=Count(
                "responses",
                filter=submitted & Q(responses__audience=Audience.INTERNAL),
            ),
            customer_count=Count(
                "responses",
                filter=submitted & Q(responses__audience=Audience.CUSTOMER),
            ),
        )
    )


def study_dates_problems(
    *,
    opens_on: datetime.date | None,
    closes_on: datetime.date | None,
    today: datetime.date,
    unchanged: tuple[datetime.date | None, datetime.date | None] = (None, None),
) -> dict[str, str]:
    """{field: message} for dates a study may not have.

    A date already stored (`unchanged`) may stay in the past; a new one may not.
    """
    problems = {}
    if opens_on is not None and opens_on < today and opens_on != unchanged[0]:
        problems["opens_on"] = "The opening date is in the past."
    if closes_on is not None and closes_on < today and closes_on != unchanged[1]:
        problems["closes_on"] = "The closing date is in the past."
    if (
        opens_on is not None
        and closes_on is not None
        and closes_on < opens_on
        and "closes_on" not in problems
    ):
        problems["closes_on"] = "The closing date is before the opening date."
    return problems


STUDY_FIELDS = (
    "name",
    "public_title",
    "questionnaire",
    "opens_on",
    "closes_on",
    "introduction",
    "min_group_size",
    "reminder_interval_days",
    "max_reminders",
)


def _check_fields(organization: Organization, fields: dict, study: Study | None):
    unknown = set(fields) - set(STUDY_FIELDS)
    if unknown:
        raise StudyError(f"Unknown study fields: {', '.join(sorted(unknown))}.")
    if "name" in fields and not str(fields["name"]).strip():
        raise StudyError("The study needs a name.")
    questionnaire = fields.get("questionnaire")
    if (
        questionnaire is not None
        and not questionnaires_available(organization)
        .filter(pk=questionnaire.pk)
        .exists()
    ):
        raise StudyError("That questionnaire is not available to your organization.")
    if fields.get("min_group_size", MIN_GROUP_SIZE) < MIN_GROUP_SIZE:
        raise StudyError(
            f"The minimum group size must be at least {MIN_GROUP_SIZE}, so that "
            "no one's answers can be singled out."
        )
    problems = study_dates_problems(
        opens_on=fields.get("opens_on", study.opens_on if study else None),
        closes_on=fields.get("closes_on", study.closes_on if study else None),
        today=timezone.localdate(),
        unchanged=(study.opens_on, study.closes_on) if study else (None, None),
    )
    if problems:
        raise StudyError(" ".join(problems.values()))


@transaction.atomic
def study_create(
    *, organization: Organization, actor: AbstractBaseUser, **fields
) -> Study:
    """A draft study. Fields: those of STUDY_FIELDS (name and questionnaire needed)."""
    _check_fields(organization, fields, None)
    if not fields.get("questionnaire") or not fields.get("name"):
        raise StudyError("A study needs a name and a questionnaire.")
    study = Study.objects.create(
        organization=organization, status=Study.Status.DRAFT, **fields
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="study_create",
        target=study,
        study_id=study.pk,
    )
    return study


def _locked(study: Study) -> Study:
    return (
        Study.objects.select_for_update(of=("self",))
        .select_related("questionnaire", "organization")
        .get(pk=study.pk)
    )


@transaction.atomic
def study_update(*, study: Study, actor: AbstractBaseUser, **fields) -> Study:
    """Change a draft study; an open or closed one keeps what it was opened with."""
    study = _locked(study)
    if study.status != Study.Status.DRAFT:
        raise StudyError("Only a draft study can be edited.")
    _check_fields(study.organization, fields, study)
    for name, value in fields.items():
        setattr(study, name, value)
    study.changed_at = timezone.now()
    study.save()
    audit_record(
        organization=study.organization,
        actor=actor,
        action="study_update",
        target=study,
        study_id=study.pk,
        fields=sorted(fields),
    )
    return study


def study_open_problems(study: Study) -> list[str]:
    """Why the study cannot open now, in plain words; empty when it can."""
    problems = []
    if study.status != Study.Status.DRAFT:
        problems.append("Only a draft study can be opened.")
    problems.extend(questionnaire_problems(study.questionnaire))
    if study.closes_on is not None and study.closes_on < timezone.localdate():
        problems.append(
            "The closing date is in the past; edit the study to set a later one."
        )
    return problems


def study_people(study: Study) -> dict[str, int]:
    """Who the study can ask: {"staff": staff members of the organization,
    "contacts": its contacts who have not opted out}."""
    organization = study.organization
    return {
        "staff": Membership.objects.filter(
            organization=organization, role=Role.STAFF
        ).count(),
        "contacts": Contact.objects.filter(
            organization=organization, opted_out_at__isnull=True
        ).count(),
    }


def study_nobody_to_ask(people: dict[str, int]) -> list[str]:
    """Why opening now would ask nobody on a side (from `study_people`), in plain
    words; empty when both staff and customers can be asked. Not a refusal:
    people may be added after opening."""
    reasons = []
    if not people["staff"]:
        reasons.append(
            "There are no staff members in your organization: nobody will fill in "
            "the self-assessment."
        )
    if not people["contacts"]:
        reasons.append(
            "There are no customer contacts who can be invited: no customer will "
            "be asked."
        )
    return reasons


@transaction.atomic
def study_open(*, study: Study, actor: AbstractBaseUser) -> Study:
    """Open a draft study for answers, or raise StudyError saying why not."""
    study = _locked(study)
    problems = study_open_problems(study)
    if problems:
        raise StudyError(" ".join(problems))
    now = timezone.now()
    today = timezone.localdate(now)
    study.status = Study.Status.OPEN
    study.opened_at = now
    if study.opens_on is None or study.opens_on > today:
        study.opens_on = today
    study.changed_at = now
    study.save()
    audit_record(
        organization=study.organization,
        actor=actor,
        action="study_open",
        target=study,
        study_id=study.pk,
    )
    invitations_enqueue(study)  # mail the invitations that waited for the opening
    return study


@transaction.atomic
def study_close(*, study: Study, actor: AbstractBaseUser) -> Study:
    """Close an open study: from now on no answer is accepted and nothing is sent.
    Its final snapshot publishes what can be published safely."""
    study = _locked(study)
    if study.status != Study.Status.OPEN:
        raise StudyError("Only an open study can be closed.")
    now = timezone.now()
    study.status = Study.Status.CLOSED
    study.closed_at = now
    study.changed_at = now
    study.save()
    final = snapshot_publish(study, final=True)
    audit_record(
        organization=study.organization,
        actor=actor,
        action="study_close",
        target=study,
        study_id=study.pk,
        left_out=final.left_out if final else 0,
    )
    return study


@transaction.atomic
def study_reopen(
    *, study: Study, closes_on: datetime.date, actor: AbstractBaseUser
) -> Study:
    """Open a closed study again, until `closes_on` (which must be in the future)."""
    study = _locked(study)
    if study.status != Study.Status.CLOSED:
        raise StudyError("Only a closed study can be reopened.")
    if closes_on <= timezone.localdate():
        raise StudyError("The new closing date must be in the future.")
    now = timezone.now()
    study.status = Study.Status.OPEN
    study.closes_on = closes_on
    study.closed_at = None
    study.changed_at = now
    study.save()
    snapshots_reopen(study)
    audit_record(
        organization=study.organization,
        actor=actor,
        action="study_reopen",
        target=study,
        study_id=study.pk,
        closes_on=closes_on.isoformat(),
    )
    invitations_enqueue(study)  # resume sends and retries paused by the closing
    return study
