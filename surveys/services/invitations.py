"""Invitations: who is asked, how their mail goes out, reminders, opt-out.

Sending never happens inside a web request: views call `invitations_enqueue`, and
the task in surveys.tasks calls `invitations_deliver` in a worker.

Delivery guarantees (see `invitations_deliver`):
- a row is *claimed* before it is mailed, by setting `sending_started_at` in one
  short transaction (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite serialises
  writers), so two workers never mail the same row; a claim older than
  CLAIM_LEASE counts as abandoned (a crashed worker) and is taken again;
- `sent_at` is set right after the SMTP server accepted that one message;
- a transient failure (4xx, connection trouble) is retried with exponential
  backoff up to MAX_ATTEMPTS, then recorded as failed; a permanent one (5xx) fails
  at once. Running the task twice mails nobody twice.
The one unavoidable window: a worker killed between the server's acceptance and
the `sent_at` update leaves the row claimed, and it is mailed again after the
lease (at-least-once, never silently lost).
"""

import functools
import logging
import re
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.mail import get_connection
from django.db import connections, router, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from surveys.audit import audit_record
from surveys.emails import invitation_message
from surveys.models import (
    Contact,
    Invitation,
    Organization,
    Questionnaire,
    Response,
    Segment,
    Study,
    token_hash,
)
from surveys.tokens import new_token, rederived_token

logger = logging.getLogger(__name__)

BATCH_SIZE = 50
MAX_ATTEMPTS = 5
BACKOFF_BASE = timedelta(minutes=1)
# How long a claim holds before it counts as a dead worker's (settings: must
# exceed the time one batch takes to mail; GAPSURVEY_SEND_LEASE_SECONDS).
CLAIM_LEASE = timedelta(seconds=settings.INVITATION_CLAIM_LEASE_SECONDS)
# Bounds one run, so a worker never loops forever on a misbehaving server.
MAX_BATCHES_PER_RUN = 200

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


class InvitationError(Exception):
    """A request that must be refused; the message is fit to show the person."""


# --- tokens ------------------------------------------------------------------------


INVITATION = "gapsurvey-invitation"


def invitation_token_new(*, study_id: int, contact_id: int, created_at) -> str:
    """The personal token of a new invitation.

    Only its SHA-256 is stored (Invitation.token_hash), yet the sender must put the
    token in the first mail and in every reminder. So the token is not a stored
    random value but a keyed function of what the row already holds:
    base64url(HMAC-SHA256(SECRET_KEY, "gapsurvey-invitation:<study>:<contact>:
    <created_at in UTC, microseconds>")). It is 43 characters, as long and as
    unguessable as `secrets.token_urlsafe(32)` to anyone without the secret key; a
    leaked database dump alone reveals no token. Rotating SECRET_KEY keeps the old
    key in SECRET_KEY_FALLBACKS so reminders can still be re-derived.
    """
    return new_token(INVITATION, study_id, contact_id, created_at=created_at)


def invitation_token(invitation: Invitation) -> str | None:
    """Re-derive an invitation's token for mailing; None if it cannot be (the
    contact was erased, or the key that made it is gone)."""
    if invitation.contact_id is None:
        return None
    return rederived_token(
        invitation.token_hash,
        INVITATION,
        invitation.study_id,
        invitation.contact_id,
        created_at=invitation.created_at,
    )


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation a survey link points to, or None for anything unknown.

    One query: with its study, questionnaire, organization, contact and
    response (a draft, or none), all a survey page or a submit needs — the
    objects the ORM's select_related would give, related caches set. Every
    customer page and submit starts here, so the statement is built once per
    process (`_link_read`): compiling the six-table select_related was a fifth
    of a submit's Python."""
    if not TOKEN_RE.match(token or ""):
        return None
    alias = router.db_for_read(Invitation)
    read = _link_read(alias)
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(read.sql, [token_hash(token)])
        row = cursor.fetchone()
    if row is None:
        return None
    found, start = [], 0
    for model, names, converters in read.layout:
        values = list(row[start : start + len(names)])
        start += len(names)
        if values[0] is None:  # a LEFT JOIN that found nothing
            found.append(None)
            continue
        for position, expression, functions in converters:
            for convert in functions:
                values[position] = convert(values[position], expression, connection)
        found.append(model.from_db(alias, names, values))
    invitation, study, questionnaire, organization, contact, response = found
    study.questionnaire = questionnaire
    study.organization = organization
    invitation.study = study
    invitation.contact = contact
    if response is None:
        Invitation.response.related.set_cached_value(invitation, None)
    else:
        invitation.response = response
    return invitation


@dataclass(frozen=True)
class _LinkRead:
    sql: str
    # Per model: (model, attribute names, [(position, column, converters)]).
    layout: tuple


@functools.cache
def _link_read(alias: str) -> _LinkRead:
    """The link's one SELECT (invitation, study, questionnaire, organization,
    contact, draft response) for a database, and how each model's columns
    are converted back to values, as the ORM does it."""
    connection = connections[alias]
    name = connection.ops.quote_name
    parts = (
        ("i", Invitation),
        ("s", Study),
        ("q", Questionnaire),
        ("o", Organization),
        ("c", Contact),
        ("r", Response),
    )
    columns, layout = [], []
    for table_alias, model in parts:
        fields = model._meta.concrete_fields
        columns += [f"{table_alias}.{name(field.column)}" for field in fields]
        converters = []
        for position, field in enumerate(fields):
            expression = field.get_col(table_alias)
            functions = connection.ops.get_db_converters(
                expression
            ) + field.get_db_converters(connection)
            if functions:
                converters.append((position, expression, functions))
        layout.append((model, [field.attname for field in fields], converters))
    tables = {alias_: name(model._meta.db_table) for alias_, model in parts}
    sql = (
        f"SELECT {', '.join(columns)} FROM {tables['i']} i "  # noqa: S608
        f"JOIN {tables['s']} s ON s.id = i.study_id "
        f"JOIN {tables['q']} q ON q.id = s.questionnaire_id "
        f"JOIN {tables['o']} o ON o.id = s.organization_id "
        f"LEFT JOIN {tables['c']} c ON c.id = i.contact_id "
        f"LEFT JOIN {tables['r']} r ON r.invitation_id = i.id "
        "WHERE i.token_hash = %s"
    )
    return _LinkRead(sql=sql, layout=tuple(layout))


# --- creating invitations ------------------------------------------------------------


@dataclass
class InviteResult:
    created: int
    already_invited: int
    opted_out: int


@transaction.atomic
def invitations_create(
    *,
    study: Study,
    actor: AbstractBaseUser | None,
    segment: Segment | None = None,
) -> InviteResult:
    """Invite the organization's contacts (all, or one segment) to the study.

    Opted-out contacts and contacts already invited are skipped. On an open study
    the sending is queued at once; on a draft the invitations wait for the opening.
    Raises InvitationError for a closed study.
    """
    study = Study.objects.select_for_update().get(pk=study.pk)
    if study.status == Study.Status.CLOSED:
        raise InvitationError("This study is closed: nobody more can be invited.")
    contacts = Contact.objects.filter(organization_id=study.organization_id)
    if segment is not None:
        contacts = contacts.filter(segment=segment)
    invited = Invitation.objects.filter(study=study).values("contact_id")
    already = contacts.filter(pk__in=invited).count()
    candidates = contacts.exclude(pk__in=invited)
    opted_out = candidates.filter(opted_out_at__isnull=False).count()
    now = timezone.now()
    new = [
        Invitation(
            study=study,
            contact_id=contact_id,
            created_at=now,
            token_hash=token_hash(
                invitation_token_new(
                    study_id=study.pk, contact_id=contact_id, created_at=now
                )
            ),
        )
        for contact_id in candidates.filter(opted_out_at__isnull=True).values_list(
            "pk", flat=True
        )
    ]
    Invitation.objects.bulk_create(new)
    audit_record(
        organization=study.organization,
        actor=actor,
        action="invitations_create",
        target=study,
        created=len(new),
        segment=segment.name if segment else "",
    )
    if new and study.is_open:
        invitations_enqueue(study)
    return InviteResult(created=len(new), already_invited=already, opted_out=opted_out)


def invitations_enqueue(study: Study) -> None:
    """Queue the sending of the study's pending invitations (after the commit, so
    the worker sees them). Called on inviting and by study_open."""
    from surveys.tasks import invitations_send

    study_id = study.pk
    transaction.on_commit(lambda: invitations_send.enqueue(study_id))


def reminders_enqueue(study: Study) -> None:
    from surveys.tasks import reminders_send

    study_id = study.pk
    transaction.on_commit(lambda: reminders_send.enqueue(study_id))


# --- sending -----------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    # When a follow-up run should look again (a retry or an abandoned claim).
    next_run_at: datetime | None = None

    def as_dict(self) -> dict:
        return {
            "sent": self.sent,
            "deferred": self.deferred,
            "failed": self.failed,
            "next_run_at": self.next_run_at.isoformat() if self.next_run_at else None,
        }


def _claimable(now: datetime) -> Q:
    return Q(sending_started_at__isnull=True) | Q(
        sending_started_at__lt=now - CLAIM_LEASE
    )


def _pending(study_id: int, now: datetime) -> QuerySet[Invitation]:
    """Invitations of an open study that still need their first mail, now."""
    return Invitation.objects.filter(
        _claimable(now),
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        study_id=study_id,
        study__status=Study.Status.OPEN,
        sent_at__isnull=True,
        failed_at__isnull=True,
        contact__isnull=False,
        contact__opted_out_at__isnull=True,
    )


def reminders_due(study: Study, now: datetime | None = None) -> QuerySet[Invitation]:
    """Invitations a reminder may go to now, under the study's policy.

    Sent, not answered, contact not opted out, fewer reminders than the maximum,
    and the last mail (reminder, or else the invitation) older than the interval.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=study.reminder_interval_days)
    return (
        Invitation.objects.annotate(
            last_mailed_at=Coalesce("last_reminded_at", "sent_at")
        )
        .filter(
            study_id=study.pk,
            study__status=Study.Status.OPEN,
            sent_at__isnull=False,
            responded_at__isnull=True,
            contact__isnull=False,
            contact__opted_out_at__isnull=True,
            reminders_sent__lt=study.max_reminders,
            last_mailed_at__lte=cutoff,
        )
        .filter(_claimable(now))
    )


def _claim(queryset: QuerySet[Invitation], exclude: set[int], now: datetime):
    """Take up to BATCH_SIZE rows for this worker; the rows, with related objects."""
    with transaction.atomic():
        ids = list(
            queryset.exclude(pk__in=exclude)
            .order_by("pk")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[:BATCH_SIZE]
        )
        if not ids:
            return []
        Invitation.objects.filter(pk__in=ids).update(sending_started_at=now)
    return list(
        Invitation.objects.filter(pk__in=ids, sending_started_at=now)
        .select_related("study__organization", "contact")
        .order_by("pk")
    )


def _smtp_code(error: BaseException) -> int | None:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return max(codes) if codes else None
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code
    return None


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        parts = []
        for code, reply in error.recipients.values():
            text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
            parts.append(f"{code} {text}")
        return "Recipient refused: " + "; ".join(parts)
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
        return f"{error.smtp_code} {text}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _is_permanent(error: BaseException) -> bool:
    code = _smtp_code(error)
    return code is not None and 500 <= code < 600


def _record_failure(
    invitation: Invitation, error: BaseException | str, report: DeliveryReport
) -> None:
    """First-mail failure: retry later with backoff, or fail for good."""
    now = timezone.now()
    message = error if isinstance(error, str) else _describe(error)
    permanent = isinstance(error, str) or _is_permanent(error)
    attempts = invitation.attempts + 1
    update = {"attempts": attempts, "sending_started_at": None, "last_error": message}
    if permanent or attempts >= MAX_ATTEMPTS:
        update.update(failed_at=now, next_attempt_at=None)
        report.failed += 1
    else:
        retry_at = now + BACKOFF_BASE * (2 ** (attempts - 1))
        update["next_attempt_at"] = retry_at
        report.deferred += 1
        if report.next_run_at is None or retry_at < report.next_run_at:
            report.next_run_at = retry_at
    Invitation.objects.filter(
        pk=invitation.pk, sending_started_at=invitation.sending_started_at
    ).update(**update)


def _record_reminder_failure(
    invitation: Invitation, error: BaseException | str, report: DeliveryReport
) -> None:
    """A reminder that did not go out: the invitation stays as it was, with the
    error noted; the next run (cron) tries again."""
    message = error if isinstance(error, str) else _describe(error)
    Invitation.objects.filter(
        pk=invitation.pk, sending_started_at=invitation.sending_started_at
    ).update(sending_started_at=None, last_error=f"Reminder: {message}")
    report.deferred += 1


def _record_success(invitation: Invitation, reminder: bool) -> bool:
    now = timezone.now()
    update: dict = {"sending_started_at": None}
    if reminder:
        update.update(reminders_sent=F("reminders_sent") + 1, last_reminded_at=now)
    else:
        update.update(sent_at=now, last_error="", next_attempt_at=None)
    updated = Invitation.objects.filter(
        pk=invitation.pk, sending_started_at=invitation.sending_started_at
    ).update(**update)
    if not updated:
        logger.warning("Invitation %s: claim lost before marking it sent", invitation)
    return bool(updated)


def _release(invitations: list[Invitation]) -> None:
    """Give back claimed rows that were not attempted (no attempt counted)."""
    for invitation in invitations:
        Invitation.objects.filter(
            pk=invitation.pk, sending_started_at=invitation.sending_started_at
        ).update(sending_started_at=None)


def _send_batch(
    batch: list[Invitation],
    *,
    reminder: bool,
    report: DeliveryReport,
    sent: set[int] | None = None,
) -> bool:
    """Mail a claimed batch over one SMTP connection; False if the connection
    broke (the rest of the batch is then released). The ids marked sent are
    added to `sent`."""
    on_failure = _record_reminder_failure if reminder else _record_failure
    connection = get_connection()
    try:
        connection.open()
    except (OSError, smtplib.SMTPException) as error:
        for invitation in batch:
            on_failure(invitation, error, report)
        return False
    try:
        for position, invitation in enumerate(batch):
            token = invitation_token(invitation)
            if token is None:
                on_failure(
                    invitation,
                    "The personal link cannot be rebuilt (the contact was erased or "
                    "the secret key changed).",
                    report,
                )
                continue
            try:
                message = invitation_message(
                    invitation, token=token, reminder=reminder, connection=connection
                )
                connection.send_messages([message])
            except (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError) as e:
                on_failure(invitation, e, report)
                _release(batch[position + 1 :])
                return False
            except (OSError, smtplib.SMTPException) as error:
                on_failure(invitation, error, report)
            except Exception as error:  # anything else: this row only, retried
                logger.exception("Invitation %s could not be mailed", invitation.pk)
                on_failure(invitation, error, report)
            else:
                if _record_success(invitation, reminder) and sent is not None:
                    sent.add(invitation.pk)
                report.sent += 1
    finally:
        try:
            connection.close()
        except Exception:  # closing a broken connection must not hide the outcome
            logger.debug("closing the SMTP connection failed", exc_info=True)
    return True


def _deliver(queryset_for, *, reminder: bool) -> DeliveryReport:
    report = DeliveryReport()
    # Rows attempted in this run are not claimed again by it. A first mail
    # marked sent no longer matches the pending rows (sent_at is set), so only
    # the others need excluding: the exclusion stays a handful of ids, not one
    # per mail sent (10,000 ids made every claim of a large study slow).
    # Reminders keep every id: a zero-day interval would make them due again.
    attempted: set[int] = set()
    for _ in range(MAX_BATCHES_PER_RUN):
        now = timezone.now()
        batch = _claim(queryset_for(now), attempted, now)
        if not batch:
            break
        attempted.update(invitation.pk for invitation in batch)
        sent: set[int] = set()
        connected = _send_batch(batch, reminder=reminder, report=report, sent=sent)
        if not reminder:
            attempted -= sent
        if not connected:
            break
    return report


def _held_by_others_until(study_id: int, now: datetime) -> datetime | None:
    """When the oldest claim held by another (or a dead) worker expires."""
    oldest = (
        Invitation.objects.filter(
            study_id=study_id,
            sent_at__isnull=True,
            failed_at__isnull=True,
            sending_started_at__isnull=False,
        )
        .order_by("sending_started_at")
        .values_list("sending_started_at", flat=True)
        .first()
    )
    return oldest + CLAIM_LEASE if oldest else None


def invitations_deliver(*, study_id: int) -> DeliveryReport:
    """Mail every invitation of the study that is due, in batches; see the module
    docstring for the guarantees. Does nothing unless the study is open."""
    report = _deliver(lambda now: _pending(study_id, now), reminder=False)
    held_until = _held_by_others_until(study_id, timezone.now())
    if held_until and (report.next_run_at is None or held_until < report.next_run_at):
        report.next_run_at = held_until
    return report


def reminders_deliver(*, study_id: int) -> DeliveryReport:
    """Mail a reminder to every invitation of the study that is due one."""
    study = Study.objects.filter(pk=study_id, status=Study.Status.OPEN).first()
    if study is None:
        return DeliveryReport()
    return _deliver(lambda now: reminders_due(study, now), reminder=True)


# --- manager actions ------------------------------------------------------------


def reminders_request(*, study: Study, actor: AbstractBaseUser | None) -> int:
    """Queue reminders for the non-respondents who are due one; how many are due."""
    if not study.is_open:
        raise InvitationError("Reminders can only be sent while the study is open.")
    due = reminders_due(study).count()
    audit_record(
        organization=study.organization,
        actor=actor,
        action="reminders_request",
        target=study,
        due=due,
    )
    if due:
        reminders_enqueue(study)
    return due


@transaction.atomic
def invitation_retry(
    *, invitation: Invitation, actor: AbstractBaseUser | None
) -> Invitation:
    """Give a failed invitation a fresh set of attempts and queue it."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.failed_at is None:
        raise InvitationError("Only a failed invitation can be retried.")
    if invitation.contact_id is None or invitation.contact.opted_out_at is not None:
        raise InvitationError("This contact can no longer be mailed.")
    invitation.failed_at = None
    invitation.attempts = 0
    invitation.next_attempt_at = None
    invitation.sending_started_at = None
    invitation.save(
        update_fields=["failed_at", "attempts", "next_attempt_at", "sending_started_at"]
    )
    audit_record(
        organization=invitation.study.organization,
        actor=actor,
        action="invitation_retry",
        target=invitation,
        contact_id=invitation.contact_id,
    )
    if invitation.study.is_open:
        invitations_enqueue(invitation.study)
    return invitation


# --- the customer's side -----------------------------------------------------------


def invitation_mark_opened(invitation: Invitation) -> None:
    """Record the first visit of the survey link (later visits change nothing)."""
    if invitation.opened_at is None:
        now = timezone.now()
        Invitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(
            opened_at=now
        )
        invitation.opened_at = now


def contact_opt_out(*, invitation: Invitation) -> None:
    """The invitation's contact asked never to be mailed again, by any study."""
    if invitation.contact_id is None:
        return
    Contact.objects.filter(pk=invitation.contact_id, opted_out_at__isnull=True).update(
        opted_out_at=timezone.now()
    )
    audit_record(
        organization=invitation.study.organization,
        actor=None,
        action="contact_opt_out",
        target=invitation.contact,
        contact_id=invitation.contact_id,
    )


def contact_opt_in(*, invitation: Invitation) -> None:
    """The invitation's contact, having opted out, chose to take part again."""
    if invitation.contact_id is None:
        return
    changed = Contact.objects.filter(
        pk=invitation.contact_id, opted_out_at__isnull=False
    ).update(opted_out_at=None)
    if changed:
        audit_record(
            organization=invitation.study.organization,
            actor=None,
            action="contact_opt_in",
            target=invitation.contact,
            contact_id=invitation.contact_id,
        )
