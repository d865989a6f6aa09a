"""Organizations and their departments and segments: every write here is one
transaction and leaves an audit event."""

from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from surveys import branding
from surveys.audit import audit_record
from surveys.models import (
    Department,
    Membership,
    Organization,
    OrganizationLogo,
    Role,
    Segment,
)
from surveys.services.accounts import user_get_or_create
from surveys.services.limits import group_limit_message, group_room

SLUG_MAX = 80


class OrganizationError(Exception):
    """A change that must be refused; the message is fit to show the person."""


def _unique_slug(name: str) -> str:
    base = slugify(name)[: SLUG_MAX - 6].strip("-") or "organization"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


NAME_MAX = {
    model.__name__.lower(): model._meta.get_field("name").max_length
    for model in (Organization, Department, Segment)
}


def _clean_name(name: str, what: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise OrganizationError(f"The {what} needs a name.")
    if len(name) > NAME_MAX[what]:
        raise OrganizationError(
            f"The {what} name is longer than {NAME_MAX[what]} characters."
        )
    return name


@transaction.atomic
def organization_create(
    *, name: str, manager_email: str
) -> tuple[Organization, Membership, bool]:
    """Create an organization and make the person with this email its manager.

    The user is created (without a usable password) when there is none with this
    email. Returns (organization, membership, user_created).
    """
    name = _clean_name(name, "organization")
    try:
        validate_email(manager_email.strip())
    except ValidationError:
        raise OrganizationError(f"{manager_email!r} is not an email address.")
    organization = Organization.objects.create(name=name, slug=_unique_slug(name))
    user, created = user_get_or_create(email=manager_email)
    membership = Membership.objects.create(
        user=user, organization=organization, role=Role.MANAGER
    )
    audit_record(
        organization=organization,
        actor=None,
        action="organization_create",
        target=organization,
        manager=user.email,
    )
    return organization, membership, created


@transaction.atomic
def organization_update(
    *, organization: Organization, name: str, actor: AbstractBaseUser
) -> Organization:
    name = _clean_name(name, "organization")
    old = organization.name
    organization.name = name
    organization.save(update_fields=["name"])
    audit_record(
        organization=organization,
        actor=actor,
        action="organization_update",
        target=organization,
        old_name=old,
    )
    return organization


class BrandingError(OrganizationError):
    """A logo or accent colour that must be refused; `field` says which."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@transaction.atomic
def organization_branding_update(
    *,
    organization: Organization,
    actor: AbstractBaseUser,
    accent_color: str,
    logo: UploadedFile | None = None,
    remove_logo: bool = False,
) -> Organization:
    """Set the face customers see: the accent colour ("#rrggbb" or "" for none)
    and, optionally, a new logo (PNG or JPEG, re-encoded; see surveys.branding)
    or none. Raises BrandingError, and then nothing changes."""
    try:
        accent = branding.accent_normalized(accent_color)
    except ValueError as error:
        raise BrandingError(str(error), field="accent_color")
    try:
        new_logo = branding.logo_from_upload(logo) if logo is not None else None
    except branding.LogoError as error:
        raise BrandingError(str(error), field="logo")
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    changed = []
    if accent != organization.accent_color:
        organization.accent_color = accent
        changed.append("accent_color")
    if new_logo is not None or (remove_logo and organization.logo_key):
        OrganizationLogo.objects.filter(organization=organization).delete()
        organization.logo_key = ""
        if new_logo is not None:
            OrganizationLogo.objects.create(
                organization=organization,
                key=new_logo.key,
                content_type=new_logo.content_type,
                data=new_logo.data,
            )
            organization.logo_key = new_logo.key
        changed.append("logo")
    organization.save(update_fields=["accent_color", "logo_key"])
    if changed:
        audit_record(
            organization=organization,
            actor=actor,
            action="organization_branding",
            target=organization,
            fields=changed,
        )
    return organization


def _save_unique(obj, what: str) -> None:
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise OrganizationError(f"There is already a {what} called “{obj.name}”.")


def _name_taken(model, organization: Organization, name: str, exclude=None) -> bool:
    others = model.objects.filter(organization=organization, name__iexact=name)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    return others.exists()


@transaction.atomic
def department_add(
    *, organization: Organization, name: str, actor: AbstractBaseUser
) -> Department:
    name = _clean_name(name, "department")
    if _name_taken(Department, organization, name):
        raise OrganizationError(f"There is already a department called “{name}”.")
    if not group_room(Department, organization):
        raise OrganizationError(group_limit_message(Department))
    department = Department(organization=organization, name=name)
    _save_unique(department, "department")
    audit_record(
        organization=organization,
        actor=actor,
        action="department_add",
        target=department,
    )
    return department


@transaction.atomic
def department_rename(
    *, department: Department, name: str, actor: AbstractBaseUser
) -> Department:
    name = _clean_name(name, "department")
    if _name_taken(Department, department.organization, name, exclude=department):
        raise OrganizationError(f"There is already a department called “{name}”.")
    old = department.name
    department.name = name
    _save_unique(department, "department")
    audit_record(
        organization=department.organization,
        actor=actor,
        action="department_rename",
        target=department,
        old_name=old,
    )
    return department


@transaction.atomic
def department_remove(*, department: Department, actor: AbstractBaseUser) -> None:
    """Remove a department; its staff and past responses keep no department."""
    organization = department.organization
    name = department.name
    department.delete()
    audit_record(
        organization=organization,
        actor=actor,
        action="department_remove",
        target=name,
    )


def _check_weight(weight: Decimal | None) -> None:
    if weight is not None and weight < 0:
        raise OrganizationError("A segment weight cannot be negative.")


@transaction.atomic
def segment_add(
    *,
    organization: Organization,
    name: str,
    weight: Decimal | None,
    actor: AbstractBaseUser,
) -> Segment:
    name = _clean_name(name, "segment")
    _check_weight(weight)
    if _name_taken(Segment, organization, name):
        raise OrganizationError(f"There is already a segment called “{name}”.")
    if not group_room(Segment, organization):
        raise OrganizationError(group_limit_message(Segment))
    segment = Segment(organization=organization, name=name, weight=weight)
    _save_unique(segment, "segment")
    audit_record(
        organization=organization,
        actor=actor,
        action="segment_add",
        target=segment,
        weight=str(weight) if weight is not None else None,
    )
    return segment


@transaction.atomic
def segment_update(
    *,
    segment: Segment,
    name: str,
    weight: Decimal | None,
    actor: AbstractBaseUser,
) -> Segment:
    name = _clean_name(name, "segment")
    _check_weight(weight)
    if _name_taken(Segment, segment.organization, name, exclude=segment):
        raise OrganizationError(f"There is already a segment called “{name}”.")
    old = (segment.name, segment.weight)
    segment.name = name
    segment.weight = weight
    _save_unique(segment, "segment")
    audit_record(
        organization=segment.organization,
        actor=actor,
        action="segment_update",
        target=segment,
        old_name=old[0],
        old_weight=str(old[1]) if old[1] is not None else None,
        weight=str(weight) if weight is not None else None,
    )
    return segment


@transaction.atomic
def segment_remove(*, segment: Segment, actor: AbstractBaseUser) -> None:
    """Remove a segment; its contacts and past responses keep no segment."""
    organization = segment.organization
    name = segment.name
    segment.delete()
    audit_record(
        organization=organization, actor=actor, action="segment_remove", target=name
    )
