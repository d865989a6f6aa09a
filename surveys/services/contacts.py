"""Customers of an organization: added by hand or imported from CSV.

An import is planned first (every row classified as create / update / unchanged /
reject with its line number and reason), shown to the manager, and then applied in
one transaction — and only when no row is rejected, so a partly bad file changes
nothing.
"""

from dataclasses import dataclass, field

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from surveys.audit import audit_record
from surveys.csv_upload import csv_rows
from surveys.models import Contact, Invitation, Organization, Segment
from surveys.services.responses import customer_drafts_delete
from surveys.services.rights import audit_redact_contact

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


def contacts_import_plan(*, organization: Organization, text: str) -> ImportPlan:
    """Classify every row of a contacts CSV against the organization's contacts.

    Input: the file's text (header `email,name,segment`; name and segment optional).
    An empty name or segment cell leaves an existing contact's value as it is; an
    import never clears an opt-out. Raises CsvError when the file as a whole is bad.
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
    for record in records:
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
    if plan.rejects:
        raise ContactError(
            f"{plan.rejects} row(s) are rejected; nothing was imported. "
            "Fix the file and upload it again."
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

    new_contacts = []
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
        elif row.action == UPDATE:
            contact = Contact.objects.select_for_update().get(pk=row.contact_id)
            if row.name:
                contact.name = row.name
            if row.segment:
                contact.segment = segment_for(row.segment)
            contact.save(update_fields=["name", "segment"])
    try:
        with transaction.atomic():
            Contact.objects.bulk_create(new_contacts)
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
