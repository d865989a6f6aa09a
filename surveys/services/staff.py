"""Adding staff to an organization: one at a time or from a CSV file.

A new person gets an account without a usable password and an email with a
one-time, expiring link to choose one. A person who already has an account is
not made a member: they get an invitation to accept (until then they see nothing
of the organization). The manager is told the same in both cases, so nobody
learns from this page whether an address has an account anywhere.
The database work is one transaction; the mails go out after it has committed.
"""

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from surveys.audit import audit_record
from surveys.csv_upload import CsvError, CsvRow, csv_rows
from surveys.models import (
    Department,
    ImportJob,
    Membership,
    MembershipInvite,
    Organization,
    Role,
)
from surveys.services.accounts import set_password_link, user_get_or_create
from surveys.services.imports import (
    ImportApplied,
    Progress,
    import_job_run,
    import_job_start,
)
from surveys.services.limits import group_limit_message, group_room
from surveys.services.names import NewName, new_names_with_neighbours
from surveys.text import count

logger = logging.getLogger(__name__)

NAME_MAX = 150
DEPARTMENT_MAX = Department._meta.get_field("name").max_length


class StaffError(Exception):
    """A staff change that must be refused; the message is fit to show the person."""


# Another organization created the same account at the same moment.
_RACED = "Someone else changed these accounts at the same moment; please try again."


def one_line(text: str) -> str:
    """Collapse all whitespace, newlines included, so that a name can never reach
    a mail header or a log line as more than one line."""
    return " ".join((text or "").split())


def _split_name(name: str) -> tuple[str, str]:
    first, _, last = one_line(name).partition(" ")
    return first[:150], last[:150]


def department_get_or_create(
    *, organization: Organization, name: str
) -> Department | None:
    """The organization's department of that name (case-insensitive), created if
    new; None for an empty name."""
    name = one_line(name)
    if not name:
        return None
    department = Department.objects.filter(
        organization=organization, name__iexact=name
    ).first()
    if department is None:
        if not group_room(Department, organization):
            raise StaffError(group_limit_message(Department))
        department = Department.objects.create(organization=organization, name=name)
    return department


@dataclass
class StaffAdded:
    """What happened to one person: a new account made a member, or an existing
    account invited (`invite`, no membership until they accept)."""

    user: AbstractBaseUser
    organization: Organization
    membership: Membership | None = None
    invite: MembershipInvite | None = None
    mail_sent: bool = False

    @property
    def email(self) -> str:
        return self.user.email


def _lock_organization(organization: Organization) -> None:
    """Serialise staff changes of one organization: two imports (or a double
    confirm) racing each plan against what the other has committed."""
    Organization.objects.select_for_update().filter(pk=organization.pk).first()


def _membership_create(
    *,
    organization: Organization,
    email: str,
    name: str,
    department: Department | None,
) -> StaffAdded:
    first, last = _split_name(name)
    user, created = user_get_or_create(email=email, first_name=first, last_name=last)
    if Membership.objects.filter(user=user, organization=organization).exists():
        raise StaffError(f"{user.email} is already a member of {organization.name}.")
    if MembershipInvite.objects.filter(user=user, organization=organization).exists():
        raise StaffError(f"{user.email} has already been invited.")
    if not created:
        # Someone else's account: they choose whether to join.
        invite = MembershipInvite.objects.create(
            user=user,
            email=email.strip(),
            name=one_line(name),
            organization=organization,
            role=Role.STAFF,
            department=department,
        )
        return StaffAdded(user=user, organization=organization, invite=invite)
    membership = Membership.objects.create(
        user=user, organization=organization, role=Role.STAFF, department=department
    )
    return StaffAdded(user=user, organization=organization, membership=membership)


@transaction.atomic
def _staff_add_db(
    *,
    organization: Organization,
    actor: AbstractBaseUser | None,
    email: str,
    name: str,
    department: Department | None = None,
    new_department: str = "",
) -> StaffAdded:
    _lock_organization(organization)
    if department is not None and department.organization_id != organization.pk:
        raise StaffError("That department belongs to another organization.")
    if new_department.strip():
        department = department_get_or_create(
            organization=organization, name=new_department
        )
    added = _membership_create(
        organization=organization, email=email, name=name, department=department
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="staff_add",
        target=added.email,
        department=department.name if department else "",
    )
    return added


def staff_add(
    *,
    organization: Organization,
    actor: AbstractBaseUser | None,
    email: str,
    name: str,
    department: Department | None = None,
    new_department: str = "",
) -> StaffAdded:
    """Add one staff member and mail them (after the commit).

    `new_department`, when given, names a department to use (created if new)
    instead of `department`. Raises StaffError if the person is already a member.
    """
    try:
        added = _staff_add_db(
            organization=organization,
            actor=actor,
            email=email,
            name=name,
            department=department,
            new_department=new_department,
        )
    except IntegrityError:
        raise StaffError(_RACED)
    added.mail_sent = staff_welcome_send(added=added, actor=actor)
    return added


# --- Mail ---------------------------------------------------------------------


def staff_welcome_send(*, added: StaffAdded, actor: AbstractBaseUser | None) -> bool:
    """Mail a new person their set-password link, or an existing account the
    invitation to accept. True if the mail server accepted it; a failure is
    logged, not raised, because the person has been added all the same (the
    manager can resend)."""
    user, organization = added.user, added.organization
    context = {
        "user": user,
        "name": one_line(user.get_full_name()),
        "organization": organization,
        "inviter": one_line(actor.get_full_name() or actor.email) if actor else "",
        "login_url": f"{settings.SITE_URL}{reverse('login')}",
        "site_url": settings.SITE_URL,
        "timeout_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    if added.invite is not None:
        template = "staff_added"
        context["invites_url"] = f"{settings.SITE_URL}{reverse('membership_invites')}"
        context["reset_url"] = f"{settings.SITE_URL}{reverse('password_reset')}"
        subject = f"You are invited to join {organization.name} on GapSurvey"
    else:
        template = "staff_invite"
        context["link"] = set_password_link(user)
        subject = f"You are invited to GapSurvey by {organization.name}"
    message = EmailMultiAlternatives(
        subject=one_line(subject),
        body=render_to_string(f"emails/{template}.txt", context),
        to=[one_line(user.email)],
    )
    message.attach_alternative(
        render_to_string(f"emails/{template}.html", context), "text/html"
    )
    try:
        message.send()
    except Exception:  # any transport failure: the membership stands
        logger.exception("staff mail to user %s failed", user.pk)
        return False
    return True


@transaction.atomic
def staff_invite_resend(
    *, membership: Membership, actor: AbstractBaseUser | None
) -> bool:
    """Send a fresh set-password link to a member who has not chosen a password."""
    if membership.user.has_usable_password():
        raise StaffError(f"{membership.user.email} has already set a password.")
    audit_record(
        organization=membership.organization,
        actor=actor,
        action="staff_invite_resend",
        target=membership.user.email,
    )
    return staff_welcome_send(
        added=StaffAdded(
            user=membership.user,
            organization=membership.organization,
            membership=membership,
        ),
        actor=actor,
    )


def membership_invite_resend(
    *, invite: MembershipInvite, actor: AbstractBaseUser | None
) -> bool:
    """Mail a pending invitation again."""
    audit_record(
        organization=invite.organization,
        actor=actor,
        action="staff_invite_resend",
        target=invite.user.email,
    )
    return staff_welcome_send(
        added=StaffAdded(
            user=invite.user, organization=invite.organization, invite=invite
        ),
        actor=actor,
    )


@transaction.atomic
def membership_invite_accept(*, invite: MembershipInvite) -> Membership:
    """The invited person joins: the membership is made and becomes their chosen
    organization (accepting is a choice they made)."""
    invite = (
        MembershipInvite.objects.select_for_update()
        .select_related("organization", "user")
        .get(pk=invite.pk)
    )
    membership, _ = Membership.objects.get_or_create(
        user=invite.user,
        organization=invite.organization,
        defaults={"role": invite.role, "department": invite.department},
    )
    membership.last_chosen_at = timezone.now()
    membership.save(update_fields=["last_chosen_at"])
    audit_record(
        organization=invite.organization,
        actor=invite.user,
        action="staff_invite_accept",
        target=invite.user.email,
    )
    invite.delete()
    return membership


@transaction.atomic
def membership_invite_decline(*, invite: MembershipInvite) -> None:
    audit_record(
        organization=invite.organization,
        actor=invite.user,
        action="staff_invite_decline",
        target=invite.user.email,
    )
    invite.delete()


# --- CSV import ---------------------------------------------------------------

CSV_REQUIRED = ["email", "name"]
CSV_OPTIONAL = ["department"]


@dataclass
class StaffImportRow:
    line: int
    email: str
    name: str
    department: str
    action: str  # "create", "skip" or "reject"
    reason: str = ""


@dataclass
class StaffImportPlan:
    rows: list[StaffImportRow]
    new_departments: list[str] = field(default_factory=list)
    # The same, each with the existing departments it is close to (a typo?).
    new_department_names: list[NewName] = field(default_factory=list)
    # Line -> the unsaved account that row would create (see _accounts_prepare).
    new_accounts: dict[int, AbstractBaseUser] | None = None

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def rejected(self) -> list[StaffImportRow]:
        return [row for row in self.rows if row.action == "reject"]

    @property
    def skipped(self) -> list[StaffImportRow]:
        return [row for row in self.rows if row.action == "skip"]

    @property
    def to_create(self) -> list[StaffImportRow]:
        return [row for row in self.rows if row.action == "create"]


def staff_import_plan(
    *,
    organization: Organization,
    rows: list[CsvRow],
    progress: Progress | None = None,
) -> StaffImportPlan:
    """What importing these rows would do, row by row, without writing anything.
    `progress(done, total)` is called after every IMPORT_CHUNK_ROWS rows.

    Whether an address has an account elsewhere is never part of the plan: a
    manager learns nothing about accounts outside their organization.
    """
    member_emails = {
        email.lower()
        for email in Membership.objects.filter(organization=organization).values_list(
            "user__email", flat=True
        )
    }
    invited_emails = {
        email.lower()
        for email in MembershipInvite.objects.filter(
            organization=organization
        ).values_list("user__email", flat=True)
    }
    existing_departments = list(
        Department.objects.filter(organization=organization).values_list(
            "name", flat=True
        )
    )
    departments = {name.lower() for name in existing_departments}
    seen: dict[str, int] = {}
    new_departments: dict[str, str] = {}
    planned = []
    chunk = settings.IMPORT_CHUNK_ROWS
    for index, row in enumerate(rows, start=1):
        if progress is not None and index % chunk == 0:
            progress(index, len(rows))
        email = one_line(row.values.get("email", ""))
        name = one_line(row.values.get("name", ""))
        department = one_line(row.values.get("department", ""))
        plan = StaffImportRow(
            line=row.line, email=email, name=name, department=department, action=""
        )
        planned.append(plan)
        reason = ""
        if row.values.get("__extra__"):
            reason = "The row has more cells than the header has columns."
        elif not email:
            reason = "The email address is missing."
        else:
            try:
                validate_email(email)
            except ValidationError:
                reason = f"“{email}” is not a valid email address."
        if not reason and len(email) > 254:
            reason = "The email address is longer than 254 characters."
        if not reason and len(name) > NAME_MAX:
            reason = f"The name is longer than {NAME_MAX} characters."
        if not reason and len(department) > DEPARTMENT_MAX:
            reason = f"The department is longer than {DEPARTMENT_MAX} characters."
        if not reason and email.lower() in seen:
            reason = f"The same address is on line {seen[email.lower()]}."
        if reason:
            plan.action, plan.reason = "reject", reason
            continue
        seen[email.lower()] = row.line
        if email.lower() in member_emails:
            plan.action, plan.reason = "skip", "Already a member."
            continue
        if email.lower() in invited_emails:
            plan.action, plan.reason = "skip", "Already invited."
            continue
        plan.action = "create"
        if department and department.lower() not in departments:
            new_departments.setdefault(department.lower(), department)
    room = max(0, settings.MAX_DEPARTMENTS - len(existing_departments))
    if len(new_departments) > room:
        message = (
            group_limit_message(Department)
            + f" This file would add {len(new_departments)}."
        )
        for plan in planned:
            if plan.action == "create" and plan.department.lower() in new_departments:
                plan.action, plan.reason = "reject", message
    return StaffImportPlan(
        rows=planned,
        new_departments=list(new_departments.values()),
        new_department_names=new_names_with_neighbours(
            new_departments.values(), existing_departments
        ),
    )


@dataclass
class StaffImportResult:
    added: list[StaffAdded]
    skipped: int
    mails_failed: int = 0


def _refuse_rejected(plan: StaffImportPlan) -> None:
    if plan.rejected:
        first = plan.rejected[0]
        raise StaffError(
            f"Nothing was imported: {count(len(plan.rejected), 'row')} cannot be "
            f"imported (line {first.line}: {first.reason}) Correct the file and "
            "upload it again."
        )


def _in_chunks(values: list, size: int = 500):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _users_by_email(emails: list[str]) -> dict[str, AbstractBaseUser]:
    """The existing accounts of these addresses (case-insensitive), the oldest
    account of an address winning, as in `user_get_or_create`."""
    User = get_user_model()
    found: dict[str, AbstractBaseUser] = {}
    for chunk in _in_chunks(sorted({email.lower() for email in emails})):
        users = (
            User.objects.annotate(lower_email=Lower("email"))
            .filter(lower_email__in=chunk)
            .order_by("-id")
        )
        for user in users:
            found[user.email.lower()] = user
    for email in emails:  # SQL's LOWER may not fold what Python's lower() does
        if email.lower() not in found and not email.isascii():
            user = User.objects.filter(email__iexact=email).order_by("id").first()
            if user is not None:
                found[email.lower()] = user
    return found


def _accounts_prepare(plan: StaffImportPlan) -> None:
    """Build (unsaved) the account each row to create would get, with its
    unusable password: 20,000 of those take seconds of CPU, better spent before
    the final transaction than inside it."""
    User = get_user_model()
    plan.new_accounts = {}
    for row in plan.to_create:
        email = User.objects.normalize_email(row.email).strip()
        first, last = _split_name(row.name)
        user = User(
            username=email.lower(), email=email, first_name=first, last_name=last
        )
        user.set_unusable_password()
        plan.new_accounts[row.line] = user


def _memberships_create(memberships: list[Membership]) -> None:
    Membership.objects.bulk_create(memberships, batch_size=500)


def _staff_import_apply(
    *, organization: Organization, actor: AbstractBaseUser | None, plan: StaffImportPlan
) -> StaffImportResult:
    """Write a plan inside the caller's transaction with set-sized statements (a
    20,000-row file is a few dozen statements), so the final transaction is
    short. The organization is locked first; a row whose person became a member
    or was invited since the plan fails the whole import."""
    _lock_organization(organization)
    _refuse_rejected(plan)
    rows = plan.to_create
    normalized = {
        row.line: get_user_model().objects.normalize_email(row.email).strip()
        for row in rows
    }
    lowered = [normalized[row.line].lower() for row in rows]
    taken = set()
    for chunk in _in_chunks(lowered):
        for model in (Membership, MembershipInvite):
            taken.update(
                model.objects.filter(organization=organization)
                .annotate(lower_email=Lower("user__email"))
                .filter(lower_email__in=chunk)
                .values_list("lower_email", flat=True)
            )
    if taken:
        raise StaffError(
            f"Nothing was imported: {sorted(taken)[0]} was added to "
            f"{organization.name} meanwhile. Upload the file again to see what "
            "is left to import."
        )
    departments: dict[str, Department | None] = {}
    for row in rows:  # a new department takes its spelling from its first line
        if row.department.lower() not in departments:
            departments[row.department.lower()] = department_get_or_create(
                organization=organization, name=row.department
            )
    existing = _users_by_email(list(normalized.values()))
    User = get_user_model()
    if plan.new_accounts is None:
        _accounts_prepare(plan)
    new_users = [
        plan.new_accounts[row.line]
        for row in rows
        if normalized[row.line].lower() not in existing
    ]
    User.objects.bulk_create(new_users, batch_size=500)
    if new_users and new_users[0].pk is None:  # a backend without RETURNING
        by_name = User.objects.in_bulk(
            [user.username for user in new_users], field_name="username"
        )
        new_users = [by_name[user.username] for user in new_users]
    created = {user.email.lower(): user for user in new_users}
    memberships, invites, added = [], [], []
    for row in rows:
        key = normalized[row.line].lower()
        department = departments[row.department.lower()]
        if key in created:
            membership = Membership(
                user=created[key],
                organization=organization,
                role=Role.STAFF,
                department=department,
            )
            memberships.append(membership)
            added.append(
                StaffAdded(
                    user=created[key], organization=organization, membership=membership
                )
            )
        else:
            # Someone else's account: they choose whether to join.
            invite = MembershipInvite(
                user=existing[key],
                email=row.email.strip(),
                name=one_line(row.name),
                organization=organization,
                role=Role.STAFF,
                department=department,
            )
            invites.append(invite)
            added.append(
                StaffAdded(user=existing[key], organization=organization, invite=invite)
            )
    _memberships_create(memberships)
    MembershipInvite.objects.bulk_create(invites, batch_size=500)
    audit_record(
        organization=organization,
        actor=actor,
        action="staff_import",
        target=f"{len(added)} staff",
        added=len(added),
        skipped=plan.count("skip"),
        new_departments=plan.new_departments,
    )
    return StaffImportResult(added=added, skipped=plan.count("skip"))


@transaction.atomic
def _staff_import_db(
    *, organization: Organization, actor: AbstractBaseUser | None, rows: list[CsvRow]
) -> StaffImportResult:
    # Planned again inside the transaction, under the organization's lock: the
    # database may have changed since the preview, and what is applied must be
    # what is valid now.
    _lock_organization(organization)
    plan = staff_import_plan(organization=organization, rows=rows)
    return _staff_import_apply(organization=organization, actor=actor, plan=plan)


def _welcome_all(result: StaffImportResult, actor: AbstractBaseUser | None) -> int:
    """Mail each person added (after the commit); the number the server refused."""
    for added in result.added:
        added.mail_sent = staff_welcome_send(added=added, actor=actor)
        if not added.mail_sent:
            result.mails_failed += 1
    return result.mails_failed


def staff_import(
    *, organization: Organization, actor: AbstractBaseUser | None, rows: list[CsvRow]
) -> StaffImportResult:
    """Import staff rows all-or-nothing, then mail each person added.

    Raises StaffError (and writes nothing) if any row is rejected.
    """
    try:
        result = _staff_import_db(organization=organization, actor=actor, rows=rows)
    except IntegrityError:
        raise StaffError(f"Nothing was imported: {_RACED}")
    _welcome_all(result, actor)
    return result


# --- big imports, through the task queue (surveys.services.imports) -------------


def staff_import_start(
    *, organization: Organization, actor: AbstractBaseUser | None, text: str
) -> StaffImportResult | ImportJob:
    """Apply a confirmed staff CSV: at once when it is small (the result is
    returned, mails sent), else as a queued job (returned) that the task queue
    checks in chunks and applies in one short transaction, mailing afterwards."""
    rows = csv_rows(text, required=CSV_REQUIRED, optional=CSV_OPTIONAL)
    if len(rows) <= settings.IMPORT_INLINE_MAX_ROWS:
        return staff_import(organization=organization, actor=actor, rows=rows)
    return import_job_start(
        organization=organization,
        actor=actor,
        kind=ImportJob.Kind.STAFF,
        text=text,
        total_rows=len(rows),
    )


def _job_check(job: ImportJob, progress) -> StaffImportPlan:
    rows = csv_rows(job.text, required=CSV_REQUIRED, optional=CSV_OPTIONAL)
    plan = staff_import_plan(
        organization=job.organization, rows=rows, progress=progress
    )
    progress(len(plan.rows), len(plan.rows))
    if not plan.rejected:
        _accounts_prepare(plan)
    return plan


def _job_apply(job: ImportJob, plan: StaffImportPlan) -> ImportApplied:
    try:
        with transaction.atomic():
            result = _staff_import_apply(
                organization=job.organization, actor=job.actor, plan=plan
            )
    except IntegrityError:
        raise StaffError(f"Nothing was imported: {_RACED}")
    return ImportApplied(
        created=len(result.added),
        unchanged=result.skipped,
        after_commit=lambda: _welcome_all(result, job.actor),
    )


def staff_import_job_run(*, job_id: int) -> ImportJob:
    """Run a queued staff import: check in chunks with progress, apply in one
    final transaction (all or nothing), then mail the people added. Safe to run
    twice: a finished job is left alone."""
    return import_job_run(
        job_id=job_id,
        kind=ImportJob.Kind.STAFF,
        check=_job_check,
        apply=_job_apply,
        refusals=(CsvError, StaffError),
    )
