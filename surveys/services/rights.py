"""Data rights of a contact (a customer): see everything held about them, erase them.

A manager sees and downloads a contact's identity and invitation history, never
their answers or comment: those go only to the contact's own address, as a
single-use link valid for settings.DATA_EXPORT_DAYS days, mailed through the
task queue (`data_export_request`, `data_export_deliver`). Otherwise the export
would show any manager one named person's answers, whatever the minimum group
size.

Erasure keeps the answers and cuts every link to the person:

- the contact row is deleted (email, name, segment membership, opt-out time);
- every invitation of the contact is deleted (sending times, attempts, last error
  — an SMTP error often quotes the address —, reminders, the token's hash);
- a draft (answers saved but never submitted, so never counted) is deleted;
- each submitted response that came through one of those invitations stays, with
  its answers and the segment it was given in (a snapshot taken at submission),
  but loses its invitation link (the foreign key is nulled) and its free-text
  comment, since free text may name or describe the person;
- audit events that mention the contact (by id, or its address in their text) are
  redacted.

Why keep the answers: the dashboard's aggregates (means, deltas, distributions,
trend) of a closed wave stay what was reported and acted upon, and an answer row
without email, name, invitation or comment is anonymous data. The residual risk is
a very small segment; the minimum group size hides those groups everywhere.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from surveys.audit import audit_record
from surveys.models import (
    Answer,
    AuditEvent,
    Contact,
    DataExport,
    Invitation,
    Response,
    token_hash,
)
from surveys.services.followup import followup_erase_contact
from surveys.services.responses import customer_drafts_delete
from surveys.tokens import new_token, rederived_token

ERASED = "(erased contact)"


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _email_pattern(email: str) -> re.Pattern:
    """The address as a whole word: erasing ann@x.org leaves joann@x.org alone."""
    return re.compile(
        r"(?<![A-Za-z0-9._%+-])"
        + re.escape(email)
        + r"(?![A-Za-z0-9_%+-]|\.[A-Za-z0-9])",
        re.IGNORECASE,
    )


def _contact_events(contact: Contact):
    """Audit events of the contact's organization that may be about the contact:
    those recording its id, and those whose text carries its address (a superset,
    narrowed by `_email_pattern` in Python)."""
    email = contact.email
    return (
        AuditEvent.objects.filter(organization_id=contact.organization_id)
        .annotate(detail_text=Cast("detail", TextField()))
        .filter(
            Q(detail__contact_id=contact.pk)
            | Q(target__icontains=email)
            | Q(detail_text__icontains=email)
        )
        .order_by("created_at", "id")
    )


def _recorded_by_id(event: AuditEvent, contact: Contact) -> bool:
    return isinstance(event.detail, dict) and (
        event.detail.get("contact_id") == contact.pk
    )


def _mentions(event: AuditEvent, contact: Contact, pattern: re.Pattern) -> bool:
    if _recorded_by_id(event, contact):
        return True
    return bool(pattern.search(event.target) or pattern.search(event.detail_text))


def _answers_of(responses: list[Response]) -> dict[int, list[dict]]:
    rows = (
        Answer.objects.filter(response__in=responses)
        .select_related("item")
        .order_by("response_id", "item__position", "item_id")
    )
    answers: dict[int, list[dict]] = {}
    for answer in rows:
        answers.setdefault(answer.response_id, []).append(
            {
                "position": answer.item.position,
                "item": answer.item.customer_text,
                "value": answer.value,
                "dont_know": answer.value is None,
            }
        )
    return answers


def _response_data(response: Response | None, answers: dict) -> dict | None:
    if response is None:
        return None
    questionnaire = response.study.questionnaire
    return {
        "id": response.pk,
        "status": response.status,
        "segment_when_answered": response.segment.name if response.segment else None,
        "created_at": _iso(response.created_at),
        "submitted_at": _iso(response.submitted_at),
        "scale": {
            "min": questionnaire.scale_min,
            "max": questionnaire.scale_max,
            "label_min": questionnaire.label_min,
            "label_max": questionnaire.label_max,
        },
        "answers": answers.get(response.pk, []),
        "comment": response.comment,
    }


def contact_data(contact: Contact, *, answers: bool = True) -> dict:
    """Everything held about one contact, as JSON-ready data.

    Out: {"contact": fields, "invitations": [{study, times, attempts, last error,
    reminders, "response": {segment, times, answers [{item, value}], comment} or
    None}], "history": [{action, at}]}. The token's hash is left out: it is a
    credential, not information about the person. Without `answers` (what a
    manager gets) each response is left out too.
    """
    invitations = list(
        Invitation.objects.filter(contact=contact)
        .select_related("study")
        .order_by("created_at", "id")
    )
    responses = {
        response.invitation_id: response
        for response in Response.objects.filter(
            invitation__in=invitations
        ).select_related("segment", "study__questionnaire")
    }
    found = _answers_of(list(responses.values())) if answers else {}
    pattern = _email_pattern(contact.email)
    history = [
        {"action": event.action, "at": _iso(event.created_at)}
        for event in _contact_events(contact)
        if _mentions(event, contact, pattern)
    ]
    return {
        "exported_at": _iso(timezone.now()),
        "organization": contact.organization.name,
        "contact": {
            "id": contact.pk,
            "email": contact.email,
            "name": contact.name,
            "segment": contact.segment.name if contact.segment else None,
            "opted_out_at": _iso(contact.opted_out_at),
            "created_at": _iso(contact.created_at),
        },
        "invitations": [
            {
                "study": {
                    "id": invitation.study_id,
                    "name": invitation.study.name,
                    "status": invitation.study.status,
                },
                "created_at": _iso(invitation.created_at),
                "sent_at": _iso(invitation.sent_at),
                "failed_at": _iso(invitation.failed_at),
                "opened_at": _iso(invitation.opened_at),
                "responded_at": _iso(invitation.responded_at),
                "attempts": invitation.attempts,
                "last_error": invitation.last_error,
                "reminders_sent": invitation.reminders_sent,
                "last_reminded_at": _iso(invitation.last_reminded_at),
                **(
                    {"response": _response_data(responses.get(invitation.pk), found)}
                    if answers
                    else {}
                ),
            }
            for invitation in invitations
        ],
        "history": history,
        **({"follow_up_cases": _cases_data(contact)} if answers else {}),
    }


def _cases_data(contact: Contact) -> list[dict]:
    """The follow-up cases opened on the contact's answers (they agreed to be
    contacted): how to reach them, what happened, every note."""
    from surveys.models import Case

    return [
        {
            "study": case.study.name,
            "status": case.get_status_display(),
            "why": case.trigger,
            "channel": case.channel,
            "phone": case.phone,
            "opened_at": _iso(case.opened_at),
            "first_contact_at": _iso(case.first_contact_at),
            "resolved_at": _iso(case.resolved_at),
            "closed_at": _iso(case.closed_at),
            "close_reason": case.close_reason,
            "note_to_you": case.customer_note,
            "timeline": [
                {"what": event.get_kind_display(), "at": _iso(event.created_at)}
                | ({"note": event.text} if event.text else {})
                for event in case.events.all()
            ],
        }
        for case in Case.objects.filter(contact=contact)
        .select_related("study")
        .prefetch_related("events")
        .order_by("opened_at", "id")
    ]


def _audit_contact(contact: Contact, actor, action: str, **detail) -> None:
    """An audit event about a contact, naming them by id only."""
    audit_record(
        organization=contact.organization,
        actor=actor,
        action=action,
        target=f"contact #{contact.pk}",
        contact_id=contact.pk,
        **detail,
    )


def contact_export(*, contact: Contact, actor: AbstractBaseUser | None) -> dict:
    """What a manager may download of a contact: `contact_data` without the
    answers and comment, with the export recorded in the audit log (by id)."""
    data = contact_data(contact, answers=False)
    _audit_contact(
        contact, actor, "contact_export", invitations=len(data["invitations"])
    )
    return data


@dataclass
class ErasurePlan:
    """What an erasure will do (or did), in counts."""

    invitations: int
    responses_kept: int
    comments_removed: int
    drafts_deleted: int = 0


def _plan(invitations: int, responses) -> ErasurePlan:
    submitted = responses.filter(status=Response.Status.SUBMITTED)
    return ErasurePlan(
        invitations=invitations,
        responses_kept=submitted.count(),
        comments_removed=submitted.exclude(comment="").count(),
        drafts_deleted=responses.filter(status=Response.Status.DRAFT).count(),
    )


def contact_erase_plan(contact: Contact) -> ErasurePlan:
    return _plan(
        Invitation.objects.filter(contact=contact).count(),
        Response.objects.filter(invitation__contact=contact),
    )


def _redact(value, pattern: re.Pattern):
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, list):
        return [_redact(each, pattern) for each in value]
    if isinstance(value, dict):
        return {key: _redact(each, pattern) for key, each in value.items()}
    return value


def audit_redact_contact(contact: Contact) -> int:
    """Remove the contact's address from the organization's audit events; events
    recorded against the contact's id lose their target whatever it says (it may
    be an address the contact had before). How many events were changed."""
    pattern = _email_pattern(contact.email)
    changed = 0
    for event in _contact_events(contact).select_for_update(of=("self",)):
        if not _mentions(event, contact, pattern):
            continue
        event.target = (
            f"contact #{contact.pk} {ERASED}"
            if _recorded_by_id(event, contact)
            else pattern.sub(ERASED, event.target)
        )[:200]
        event.detail = _redact(event.detail, pattern)
        event.save(update_fields=["target", "detail"])
        changed += 1
    return changed


@transaction.atomic
def contact_erase(*, contact: Contact, actor: AbstractBaseUser | None) -> ErasurePlan:
    """Erase a contact: personal data gone, their answers kept without any link.

    See the module docstring for what is removed and what is kept. All or nothing:
    one transaction. The audit event records the contact's id and counts only.
    """
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    invitations = Invitation.objects.select_for_update().filter(contact=contact)
    invitation_ids = list(invitations.values_list("pk", flat=True))
    responses = Response.objects.filter(invitation_id__in=invitation_ids)
    plan = _plan(len(invitation_ids), responses)
    customer_drafts_delete(invitation_ids)
    cases_erased = followup_erase_contact(contact.pk)
    # Unlink before deleting, explicitly: the response must never be deleted with
    # its invitation, whatever on_delete says one day.
    responses.update(invitation=None, comment="")
    Invitation.objects.filter(pk__in=invitation_ids).delete()
    redacted = audit_redact_contact(contact)
    contact_id = contact.pk
    organization = contact.organization
    contact.delete()
    audit_record(
        organization=organization,
        actor=actor,
        action="contact_erase",
        target=f"contact #{contact_id}",
        contact_id=contact_id,
        invitations_deleted=plan.invitations,
        responses_kept=plan.responses_kept,
        comments_removed=plan.comments_removed,
        drafts_deleted=plan.drafts_deleted,
        audit_events_redacted=redacted,
        cases_erased=cases_erased,
    )
    return plan


# --- the contact's own copy, mailed to them ------------------------------------


DATA_EXPORT = "gapsurvey-data-export"


def data_export_token(export: DataExport) -> str | None:
    """Re-derive an export link's token (`surveys.tokens`, as invitations do:
    only its hash is stored); None if the key is gone."""
    return rederived_token(
        export.token_hash, DATA_EXPORT, export.pk, created_at=export.created_at
    )


@transaction.atomic
def data_export_request(
    *, contact: Contact, actor: AbstractBaseUser | None
) -> DataExport:
    """Queue a mail to the contact with a single-use link to their own data."""
    from surveys.tasks import data_export_send

    now = timezone.now()
    export = DataExport.objects.create(
        contact=contact,
        requested_by=actor,
        created_at=now,
        expires_at=now + timedelta(days=settings.DATA_EXPORT_DAYS),
        token_hash="pending",
    )
    export.token_hash = token_hash(new_token(DATA_EXPORT, export.pk, created_at=now))
    export.save(update_fields=["token_hash"])
    _audit_contact(contact, actor, "contact_export_mail")
    transaction.on_commit(lambda: data_export_send.enqueue(export.pk))
    return export


def data_export_deliver(export_id: int) -> bool:
    """Mail one export link to the contact's own address (safe to repeat: a
    link is mailed once). True when it was sent."""
    from surveys.emails import data_export_message

    export = (
        DataExport.objects.select_related("contact__organization")
        .filter(pk=export_id, sent_at__isnull=True)
        .first()
    )
    token = data_export_token(export) if export else None
    if export is None or token is None:
        return False
    try:
        data_export_message(export, token=token).send()
    except Exception as error:  # noqa: BLE001 — recorded for the manager
        export.failed_at = timezone.now()
        export.last_error = str(error)[:500]
        export.save(update_fields=["failed_at", "last_error"])
        raise
    export.sent_at = timezone.now()
    export.failed_at = None
    export.save(update_fields=["sent_at", "failed_at"])
    return True


def data_export_for_token(token: str) -> DataExport | None:
    """The unused, unexpired export a link points to; None for anything else."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{43}", token or ""):
        return None
    return (
        DataExport.objects.select_related("contact__organization")
        .filter(
            token_hash=token_hash(token),
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )


@transaction.atomic
def data_export_download(export: DataExport) -> dict | None:
    """Use the link (once): the contact's data with their answers; None when
    the link was used meanwhile."""
    claimed = DataExport.objects.filter(pk=export.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if not claimed:
        return None
    _audit_contact(export.contact, None, "contact_export_download")
    return contact_data(export.contact)
