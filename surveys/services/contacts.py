"""Customers of an organization: added by hand or imported from CSV.

An import is planned first (every row classified as create / update / unchanged /
reject with its line number and reason), shown to the manager, and then applied in
one transaction — and only when no row is rejected, so a partly bad file changes
nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Lower

from surveys.audit import audit_record
from surveys.csv_upload import CsvError, csv_rows
from surveys.models import Contact, ImportJob, Invitation, Organization, Segment
from surveys.services.followup import followup_erase_contact
from surveys.services.imports import ImportApplied, import_job_run, import_job_start
from surveys.services.limits import group_limit_message, group_room
from surveys.services.names import NewName, new_names_with_neighbours
from surveys.services.responses import customer_drafts_delete
from surveys.services.rights import audit_redact_contact
from surveys.text import count

IMPORT_COLUMNS_REQUIRED = ["email"]
IMPORT_COLUMNS_OPTIONAL = ["name", "segment"]

EMAIL_MAX = Contact._meta.get_field("email").max_length
NAME_MAX = Contact._meta.get_field("name").max_length
SEGMENT_MAX = Segment._meta.get_field("name").max_length


class ContactError(Exception):
    """A change that must be refused; the message is fit to show the person."""


def segment_get_or_create(*, organization: Organization, name: str) -> Segment | None:
    """The organization's segment of that name (any case), created if new."""
    name = " ".join(name.split())
    if not name:
        return None
    same_name = (
        Segment.objects.filter(organization=organization)
        .annotate(lname=Lower("name"))
        .filter(lname=name.lower())
    )
    segment = same_name.first()
    if segment is None:
        if not group_room(Segment, organization):
            raise ContactError(group_limit_message(Segment))
        try:
            with transaction.atomic():
                segment = Segment.objects.create(organization=organization, name=name)
        except IntegrityError:
            # Another transaction (a second import, a contact saved at the same
            # moment) created it meanwhile: use theirs.
            segment = same_name.get()
    return segment


def _email_taken(organization: Organization, email: str, exclude_pk=None) -> bool:
    contacts = Contact.objects.filter(organization=organization, email__iexact=email)
    if exclude_pk is not None:
        contacts = contacts.exclude(pk=exclude_pk)
    return contacts.exists()


@transaction.atomic
def contact_create(
    *,
    organization: Organization,
    actor: AbstractBaseUser | None,
    email: str,
    name: str = "",
    segment_name: str = "",
) -> Contact:
    """Add one contact. Raises ContactError when the email is already a contact."""
    email = email.strip()
    if _email_taken(organization, email):
        raise ContactError(f"{email} is already a contact.")
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                organization=organization,
                email=email,
                name=name.strip(),
                segment=segment_get_or_create(
                    organization=organization, name=segment_name
                ),
            )
    except IntegrityError:
        raise ContactError(f"{email} is already a contact.")
    audit_record(
        organization=organization,
        actor=actor,
        action="contact_create",
        target=contact,
        contact_id=contact.pk,
    )
    return contact


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    actor: AbstractBaseUser | None,
    email: str,
    name: str = "",
    segment_name: str = "",
) -> Contact:
    """Change one contact's email, name or segment."""
    email = email.strip()
    organization = contact.organization
    if _email_taken(organization, email, exclude_pk=contact.pk):
        raise ContactError(f"{email} is already another contact.")
    contact.email = email
    contact.name = name.strip()
    contact.segment = segment_get_or_create(
        organization=organization, name=segment_name
    )
    try:
        with transaction.atomic():
            contact.save(update_fields=["email", "name", "segment"])
    except IntegrityError:
        raise ContactError(f"{email} is already another contact.")
    audit_record(
        organization=organization,
        actor=actor,
        action="contact_update",
        target=contact,
        contact_id=contact.pk,
    )
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact, actor: AbstractBaseUser | None) -> None:
    """Remove a contact. Their invitations stay, unlinked, so submitted answers are
    kept; answers saved but never submitted (never counted) go with the contact.

    Once the contact is gone nothing could erase its address later, so it leaves
    no trace here either: not in the audit log (earlier events are redacted, this
    one names the id), not in its invitations' last errors (SMTP errors quote it).
    For removing the invitations and comments too, see `rights.contact_erase`.
    """
    organization = contact.organization
    contact_id = contact.pk
    Invitation.objects.filter(contact=contact).exclude(last_error="").update(
        last_error=""
    )
    customer_drafts_delete(Invitation.objects.filter(contact=contact))
    followup_erase_contact(contact.pk)
    audit_redact_contact(contact)
    contact.delete()
    audit_record(
        organization=organization,
        actor=actor,
        action="contact_delete",
        target=f"contact #{contact_id}",
        contact_id=contact_id,
    )


# --- import ------------------------------------------------------------------------

CREATE = "create"
UPDATE = "update"
UNCHANGED = "unchanged"
REJECT = "reject"


@dataclass
class ImportRow:
    line: int
    email: str
    name: str
    segment: str
    action: str
    reason: str = ""
    contact_id: int | None = None


@dataclass
class ImportPlan:
    rows: list[ImportRow] = field(default_factory=list)
    # The segments the file would create, each with the existing ones it is close to.
    new_segments: list[NewName] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def creates(self) -> int:
        return self.count(CREATE)

    @property
    def updates(self) -> int:
        return self.count(UPDATE)

    @property
    def unchanged(self) -> int:
        return self.count(UNCHANGED)

    @property
    def rejects(self) -> int:
        return self.count(REJECT)

    @property
    def can_apply(self) -> bool:
        return self.rejects == 0 and (self.creates + self.updates) > 0


def _reject_reason(values: dict[str, str], email: str, seen: dict[str, int]) -> str:
    if "__extra__" in values:
        return "More cells than columns in the header row."
    if not email:
        return "Missing email."
    if len(email) > EMAIL_MAX:
        return f"Email longer than {EMAIL_MAX} characters."
    try:
        validate_email(email)
    except ValidationError:
        return "Invalid email address."
    if email.lower() in seen:
        return f"Duplicate in the file: same email as line {seen[email.lower()]}."
    if len(values.get("name", "")) > NAME_MAX:
        return f"Name longer than {NAME_MAX} characters."
    if len(values.get("segment", "")) > SEGMENT_MAX:
        return f"Segment longer than {SEGMENT_MAX} characters."
    return ""


def contacts_import_plan(
    *,
    organization: Organization,
    text: str,
    progress: Callable[[int, int], None] | None = None,
) -> ImportPlan:
    """Classify every row of a contacts CSV against the organization's contacts.

    Input: the file's text (header `email,name,segment`; name and segment optional).
    An empty name or segment cell leaves an existing contact's value as it is; an
    import never clears an opt-out. Raises CsvError when the file as a whole is bad.
    `progress(done, total)` is called after every chunk of rows.
    """
    records = csv_rows(
        text, required=IMPORT_COLUMNS_REQUIRED, optional=IMPORT_COLUMNS_OPTIONAL
    )
    existing = {
        contact.email.lower(): contact
        for contact in Contact.objects.filter(organization=organization).select_related(
            "segment"
        )
    }
    plan = ImportPlan()
    seen: dict[str, int] = {}
    chunk = settings.IMPORT_CHUNK_ROWS
    for index, record in enumerate(records, start=1):
        if progress is not None and index % chunk == 0:
            progress(index, len(records))
        values = record.values
        email = values.get("email", "")
        name = " ".join(values.get("name", "").split())
        segment = " ".join(values.get("segment", "").split())
        row = ImportRow(
            line=record.line, email=email, name=name, segment=segment, action=CREATE
        )
        reason = _reject_reason(values, email, seen)
        if reason:
            row.action, row.reason = REJECT, reason
        else:
            seen[email.lower()] = record.line
            contact = existing.get(email.lower())
            if contact is not None:
                row.contact_id = contact.pk
                current_segment = contact.segment.name if contact.segment else ""
                changes = []
                if name and name != contact.name:
                    changes.append("name")
                if segment and segment.lower() != current_segment.lower():
                    changes.append("segment")
                if changes:
                    row.action, row.reason = (
                        UPDATE,
                        "New " + " and ".join(changes) + ".",
                    )
                else:
                    row.action = UNCHANGED
        plan.rows.append(row)
    existing_segments = list(
        Segment.objects.filter(organization=organization).values_list("name", flat=True)
    )
    known = {name.lower() for name in existing_segments}
    new: dict[str, str] = {}
    for row in plan.rows:
        if row.action in (CREATE, UPDATE) and row.segment:
            if row.segment.lower() not in known:
                new.setdefault(row.segment.lower(), row.segment)
    plan.new_segments = new_names_with_neighbours(new.values(), existing_segments)
    room = max(0, settings.MAX_SEGMENTS - len(existing_segments))
    if len(new) > room:
        message = group_limit_message(Segment) + f" This file would add {len(new)}."
        for row in plan.rows:
            if row.action in (CREATE, UPDATE) and row.segment.lower() in new:
                row.action, row.reason = REJECT, message
    return plan


@transaction.atomic
def contacts_import(
    *, organization: Organization, actor: AbstractBaseUser | None, text: str
) -> ImportPlan:
    """Apply a contacts CSV: all rows or none.

    The plan is recomputed inside the transaction, so it reflects the contacts as
    they are now. Raises ContactError when any row is rejected (nothing is written)
    and CsvError when the file cannot be read.
    """
    plan = contacts_import_plan(organization=organization, text=text)
    return _contacts_import_apply(organization=organization, actor=actor, plan=plan)


def _contacts_update_many(contacts: list[Contact]) -> None:
    """Write the name and segment of many contacts with one prepared statement
    (bulk_update's CASE expressions took 17 s for 20,000 rows on SQLite)."""
    if not contacts:
        return
    meta = Contact._meta
    quote = connection.ops.quote_name
    # Only the model's own, quoted identifiers are formatted in; values are bound.
    sql = "UPDATE {table} SET {name} = %s, {segment} = %s WHERE {pk} = %s".format(  # noqa: S608
        table=quote(meta.db_table),
        name=quote(meta.get_field("name").column),
        segment=quote(meta.get_field("segment").column),
        pk=quote(meta.pk.column),
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [(contact.name, contact.segment_id, contact.pk) for contact in contacts],
        )


@transaction.atomic
def _contacts_import_apply(
    *, organization: Organization, actor: AbstractBaseUser | None, plan: ImportPlan
) -> ImportPlan:
    """Write a plan in one transaction, with set-sized statements (a 20,000-row
    file is a few dozen statements, not 20,000), so it holds the database's
    write lock for a moment only."""
    if plan.rejects:
        raise ContactError(
            f"{count(plan.rejects, 'row is', 'rows are')} rejected; nothing was "
            "imported. Fix the file and upload it again."
        )
    segments: dict[str, Segment] = {}

    def segment_for(name: str) -> Segment | None:
        if not name:
            return None
        if name.lower() not in segments:
            segments[name.lower()] = segment_get_or_create(
                organization=organization, name=name
            )
        return segments[name.lower()]

    for row in plan.rows:  # a new segment takes its spelling from its first line
        if row.action in (CREATE, UPDATE):
            segment_for(row.segment)
    new_contacts = []
    updates = {row.contact_id: row for row in plan.rows if row.action == UPDATE}
    changed = []
    for contact in Contact.objects.filter(
        organization=organization, pk__in=list(updates)
    ).select_related("segment"):
        row = updates[contact.pk]
        if row.name:
            contact.name = row.name
        if row.segment:
            contact.segment = segment_for(row.segment)
        changed.append(contact)
    for row in plan.rows:
        if row.action == CREATE:
            new_contacts.append(
                Contact(
                    organization=organization,
                    email=row.email,
                    name=row.name,
                    segment=segment_for(row.segment),
                )
            )
    _contacts_update_many(changed)
    try:
        with transaction.atomic():
            Contact.objects.bulk_create(new_contacts, batch_size=500)
    except IntegrityError:
        raise ContactError(
            "Another change added some of these contacts meanwhile; nothing was "
            "imported. Upload the file again."
        )
    audit_record(
        organization=organization,
        actor=actor,
        action="contacts_import",
        target=f"{plan.creates} created, {plan.updates} updated",
        created=plan.creates,
        updated=plan.updates,
        unchanged=plan.unchanged,
    )
    return plan


# --- big imports, through the task queue (surveys.services.imports) -------------


def contacts_import_start(
    *, organization: Organization, actor: AbstractBaseUser | None, text: str
) -> ImportPlan | ImportJob:
    """Apply a confirmed import: at once when it is small (the applied plan is
    returned), else as a queued job (returned) that the task queue runs, so no
    web request and no long transaction holds the database for it."""
    rows = csv_rows(
        text, required=IMPORT_COLUMNS_REQUIRED, optional=IMPORT_COLUMNS_OPTIONAL
    )
    if len(rows) <= settings.IMPORT_INLINE_MAX_ROWS:
        return contacts_import(organization=organization, actor=actor, text=text)
    return import_job_start(
        organization=organization,
        actor=actor,
        kind=ImportJob.Kind.CONTACTS,
        text=text,
        total_rows=len(rows),
    )


def _job_check(job: ImportJob, progress) -> ImportPlan:
    plan = contacts_import_plan(
        organization=job.organization, text=job.text, progress=progress
    )
    progress(len(plan.rows), len(plan.rows))
    return plan


def _job_apply(job: ImportJob, plan: ImportPlan) -> ImportApplied:
    _contacts_import_apply(organization=job.organization, actor=job.actor, plan=plan)
    return ImportApplied(
        created=plan.creates, updated=plan.updates, unchanged=plan.unchanged
    )


def contacts_import_job_run(*, job_id: int) -> ImportJob:
    """Run a queued contacts import: plan in chunks with progress, then apply in
    one final transaction. All or nothing: a rejected row or a clash found at the
    end writes no contact. Safe to run twice: a finished job is left alone."""
    return import_job_run(
        job_id=job_id,
        kind=ImportJob.Kind.CONTACTS,
        check=_job_check,
        apply=_job_apply,
        refusals=(CsvError, ContactError),
    )
