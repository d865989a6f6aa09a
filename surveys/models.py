"""The collection side of GapSurvey: who is asked what, and what they answered.

Every row belongs to exactly one organization (directly or through its study); the
rules that must never break are database constraints, not only form checks.
"""

import hashlib
import secrets

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone


class Gap(models.TextChoices):
    KNOWLEDGE = "knowledge", "Knowledge"
    STANDARDS = "standards", "Standards"
    DELIVERY = "delivery", "Delivery"
    COMMUNICATION = "communication", "Communication"
    PERCEPTION = "perception", "Perception"


GAP_EXPLANATIONS = {
    Gap.KNOWLEDGE: "What we think customers expect, against what they really expect.",
    Gap.STANDARDS: "What we believe about service, against the standards we have set.",
    Gap.DELIVERY: "The standards we have set, against the service we deliver.",
    Gap.COMMUNICATION: "The service we deliver, against what we promise.",
    Gap.PERCEPTION: "What customers expect, against what they receive.",
}


class Dimension(models.TextChoices):
    TANGIBLES = "tangibles", "Tangibles"
    RELIABILITY = "reliability", "Reliability"
    RESPONSIVENESS = "responsiveness", "Responsiveness"
    ASSURANCE = "assurance", "Assurance"
    EMPATHY = "empathy", "Empathy"


class Role(models.TextChoices):
    MANAGER = "manager", "Manager"
    STAFF = "staff", "Staff"


class Audience(models.TextChoices):
    INTERNAL = "internal", "Staff"
    CUSTOMER = "customer", "Customers"


class MeasurementMode(models.TextChoices):
    """What a questionnaire asks per item (DESIGN.md, "Expectations, importance
    and priorities"); fixed with the questionnaire."""

    PERCEPTION = "perception", "Perception only"
    EXPECTATION = "expectation", "Expectation and perception"
    TOLERANCE = "tolerance", "Zone of tolerance (minimum, desired, perceived)"


class RatingKind(models.TextChoices):
    """One rating of an item. Staff give E, A and D as they believe customers
    would (predicted expectation)."""

    PERCEPTION = "P", "Perception"
    EXPECTATION = "E", "Expectation"
    MINIMUM = "A", "Minimum acceptable"
    DESIRED = "D", "Desired"


# The ratings each mode asks for, in the order a form shows them.
MODE_KINDS: dict[str, tuple[str, ...]] = {
    MeasurementMode.PERCEPTION: (RatingKind.PERCEPTION,),
    MeasurementMode.EXPECTATION: (RatingKind.EXPECTATION, RatingKind.PERCEPTION),
    MeasurementMode.TOLERANCE: (
        RatingKind.MINIMUM,
        RatingKind.DESIRED,
        RatingKind.PERCEPTION,
    ),
}

# Importance: points spread over the questionnaire's areas.
IMPORTANCE_POINTS = 100


# The database accepts any value a supported scale can produce; the questionnaire's
# own scale is enforced in validation.
ANSWER_MIN = 1
ANSWER_MAX = 10


class Organization(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The face customers see (surveys.branding): the key of its OrganizationLogo
    # (kept here so pages link to it without loading the image), and an accent
    # colour, "#rrggbb" or empty.
    logo_key = models.CharField(max_length=64, blank=True, editable=False)
    accent_color = models.CharField(
        max_length=7,
        blank=True,
        validators=[RegexValidator(r"^#[0-9a-f]{6}\Z", "Write it #rrggbb.")],
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OrganizationLogo(models.Model):
    """An organization's logo, re-encoded on upload (surveys.branding), in the
    database so every web process can serve it; its own table so that loading an
    organization never loads the image. The key is the SHA-256 of the bytes: the
    public URL, which changes whenever the image does."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, primary_key=True, related_name="logo"
    )
    key = models.CharField(max_length=64, unique=True)
    content_type = models.CharField(max_length=16)
    data = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(content_type__in=["image/png", "image/jpeg"]),
                name="organization_logo_type_safe",
            ),
        ]

    def __str__(self) -> str:
        return f"Logo of {self.organization}"


class Department(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="departments"
    )
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "organization", Lower("name"), name="department_name_unique_per_org"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Segment(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="segments"
    )
    name = models.CharField(max_length=120)
    # E.g. a revenue share; used to rank where to act first.
    weight = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "organization", Lower("name"), name="segment_name_unique_per_org"
            ),
            models.CheckConstraint(
                condition=Q(weight__isnull=True) | Q(weight__gte=0),
                name="segment_weight_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="memberships",
    )
    created_at = models.DateTimeField(default=timezone.now)
    # When the person last chose this organization (switched to it, or accepted
    # its invitation): their default is the one chosen last, so being added
    # somewhere by someone else never moves them.
    last_chosen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organization__name", "user__email"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], name="membership_unique_user_org"
            ),
            models.CheckConstraint(
                condition=Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organization} ({self.role})"

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER


class MembershipInvite(models.Model):
    """An existing account asked to join an organization. Until the person accepts
    they are not a member and see nothing of it; the inviting manager learns
    nothing about the account either way."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="membership_invites"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="membership_invites",
    )
    # As the manager typed them: the staff list shows these, not the account's.
    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=300, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STAFF)
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="membership_invites",
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organization__name", "user__email"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], name="membership_invite_unique"
            ),
            models.CheckConstraint(
                condition=Q(role__in=Role.values), name="membership_invite_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} invited to {self.organization} ({self.role})"


class Contact(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contacts"
    )
    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=200, blank=True)
    segment = models.ForeignKey(
        Segment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contacts",
    )
    opted_out_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                "organization", Lower("email"), name="contact_email_unique_per_org"
            )
        ]

    def __str__(self) -> str:
        return self.email


class ImportJob(models.Model):
    """A confirmed CSV import (contacts or staff) too big for one web request:
    run by the task queue, checked in chunks with progress, applied all-or-nothing
    in one short final transaction. It belongs to the organization it was
    previewed in."""

    class Kind(models.TextChoices):
        CONTACTS = "contacts", "Contacts"
        STAFF = "staff", "Staff"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Nothing imported"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="import_jobs"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CONTACTS)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The file's text until the import has run (then emptied: it holds addresses).
    text = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    # Contacts: created / updated / unchanged. Staff: added / - / already members.
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    # Staff: welcome mails the mail server refused (sent after the apply commits).
    mails_failed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]),
                name="import_job_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["contacts", "staff"]),
                name="import_job_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import #{self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(99, round(100 * self.processed_rows / self.total_rows))

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


def new_items_version() -> str:
    return secrets.token_hex(8)


class Questionnaire(models.Model):
    # Null organization: available to every organization (the default questionnaire).
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="questionnaires",
    )
    name = models.CharField(max_length=200)
    version = models.PositiveIntegerField(default=1)
    previous_version = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="next_versions",
    )
    scale_min = models.PositiveSmallIntegerField(default=1)
    scale_max = models.PositiveSmallIntegerField(default=7)
    label_min = models.CharField(max_length=60, default="Strongly disagree")
    label_mid = models.CharField(max_length=60, default="Neither agree nor disagree")
    label_max = models.CharField(max_length=60, default="Strongly agree")
    allow_dont_know = models.BooleanField(default=True)
    mode = models.CharField(
        "measurement mode",
        max_length=16,
        choices=MeasurementMode.choices,
        default=MeasurementMode.PERCEPTION,
        db_default=MeasurementMode.PERCEPTION,
    )
    # Respondents spread IMPORTANCE_POINTS over the areas.
    ask_importance = models.BooleanField(default=False, db_default=False)
    # One overall rating of the organization's service, on the same scale.
    ask_overall = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(default=timezone.now)
    # A fresh random stamp on creation and on every change of its items
    # (signals below): with the id, it keys the items a process keeps in memory
    # (surveys.selectors.questionnaire_items), so a submit need not read them
    # again. Random, not a counter: an id and a count can come back (a database
    # restored or flushed while processes run), a stamp does not.
    items_version = models.CharField(
        max_length=32, default=new_items_version, editable=False
    )

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.CheckConstraint(
                condition=Q(mode__in=MeasurementMode.values),
                name="questionnaire_mode_valid",
            ),
            models.CheckConstraint(
                condition=Q(scale_min__gte=ANSWER_MIN)
                & Q(scale_max__lte=ANSWER_MAX)
                & Q(scale_max__gte=models.F("scale_min") + 2),
                name="questionnaire_scale_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"

    @property
    def scale_points(self) -> int:
        return self.scale_max - self.scale_min + 1

    @property
    def scale_midpoint(self) -> float:
        return (self.scale_min + self.scale_max) / 2

    @property
    def kinds(self) -> tuple[str, ...]:
        """The rating kinds each item gets in this questionnaire's mode."""
        return MODE_KINDS[self.mode]

    @property
    def is_frozen(self) -> bool:
        """Once any study has responses, the questionnaire may no longer change."""
        return Response.objects.filter(study__questionnaire=self).exists()


class Item(models.Model):
    """One paired statement: both wordings in one row so they cannot drift apart."""

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="items"
    )
    gap = models.CharField(max_length=16, choices=Gap.choices)
    dimension = models.CharField(
        max_length=16, choices=Dimension.choices, blank=True, default=""
    )
    internal_text = models.TextField(help_text="Wording for staff.")
    customer_text = models.TextField(help_text="Wording for customers.")
    # What an excellent company would do (the customers' expectation rating).
    expectation_text = models.TextField(
        blank=True, default="", db_default="", help_text="Expectation wording."
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["questionnaire", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(gap__in=Gap.values), name="item_gap_valid"
            ),
            models.CheckConstraint(
                condition=Q(dimension="") | Q(dimension__in=Dimension.values),
                name="item_dimension_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_gap_display()}: {self.customer_text[:60]}"


class Study(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="studies"
    )
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.PROTECT, related_name="studies"
    )
    name = models.CharField(max_length=200)
    # What respondents see (mail subject, customer pages); the name is internal.
    public_title = models.CharField(max_length=200, blank=True)
    introduction = models.TextField(
        blank=True, help_text="Shown to customers and staff before the questions."
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    opens_on = models.DateField(null=True, blank=True)
    closes_on = models.DateField(null=True, blank=True)
    min_group_size = models.PositiveSmallIntegerField(
        default=5, help_text="Groups smaller than this are never reported."
    )
    reminder_interval_days = models.PositiveSmallIntegerField(default=7)
    max_reminders = models.PositiveSmallIntegerField(default=2)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Bumped on every write that changes results; keys cached dashboard aggregates.
    changed_at = models.DateTimeField(default=timezone.now)
    # When a consenting customer's answers open a follow-up case, who owns it and
    # by when (surveys.services.followup.FollowUpRules). On the study's row so a
    # submit, which has the study loaded already, needs no query to apply them.
    followup_rules = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-opens_on", "-created_at"]
        verbose_name_plural = "studies"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "open", "closed"]),
                name="study_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(min_group_size__gte=3),
                name="study_min_group_size_at_least_3",
            ),
            models.CheckConstraint(
                condition=Q(opens_on__isnull=True)
                | Q(closes_on__isnull=True)
                | Q(closes_on__gte=models.F("opens_on")),
                name="study_closes_after_opening",
            ),
        ]
        indexes = [models.Index(fields=["organization", "status"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def respondent_title(self) -> str:
        """The study's title for respondents; never the internal name."""
        return self.public_title or f"{self.organization.name} survey"


def token_hash(token: str) -> str:
    """SHA-256 of a survey token; only the hash is ever stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Invitation(models.Model):
    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="invitations"
    )
    # Null once the contact has been erased (their answers stay, unlinked).
    contact = models.ForeignKey(
        Contact,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Sending state: an invitation is sent only once the mail server accepted it.
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sending_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["study", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "contact"], name="invitation_unique_study_contact"
            )
        ]
        indexes = [
            models.Index(fields=["study", "sent_at", "responded_at"]),
            # The sending worker claims a study's unsent invitations in id
            # order, 50 at a time: without this the claim walked the id index
            # through every other study's invitations (and the sent ones).
            models.Index(
                fields=["study", "id"],
                condition=models.Q(sent_at__isnull=True, failed_at__isnull=True),
                name="invitation_unsent_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact} → {self.study}"


class Response(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="responses")
    audience = models.CharField(max_length=16, choices=Audience.choices)
    # The group as it was when the response was given, for the cuts.
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="responses",
    )
    segment = models.ForeignKey(
        Segment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="responses",
    )
    invitation = models.OneToOneField(
        Invitation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="response",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="responses",
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    comment = models.TextField(blank=True)
    # The optional overall rating of the service (questionnaire.ask_overall);
    # empty when not asked, not answered or "don't know".
    overall_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["study", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "user"],
                condition=Q(user__isnull=False),
                name="response_unique_staff_per_study",
            ),
            models.CheckConstraint(
                condition=Q(audience__in=Audience.values),
                name="response_audience_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "submitted"]),
                name="response_status_valid",
            ),
            # Staff answer under their login, customers through an invitation.
            models.CheckConstraint(
                condition=(Q(audience="internal") & Q(invitation__isnull=True))
                | (Q(audience="customer") & Q(user__isnull=True)),
                name="response_source_matches_audience",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False),
                name="response_submitted_has_time",
            ),
            models.CheckConstraint(
                condition=Q(overall_rating__isnull=True)
                | (
                    Q(overall_rating__gte=ANSWER_MIN)
                    & Q(overall_rating__lte=ANSWER_MAX)
                ),
                name="response_overall_rating_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=["study", "audience", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_audience_display()} response #{self.pk} to {self.study}"


class Answer(models.Model):
    """One rating of one item by one response: P (perception) in every mode,
    E, A, D as the questionnaire's mode asks."""

    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="answers"
    )
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="answers")
    kind = models.CharField(
        max_length=1,
        choices=RatingKind.choices,
        default=RatingKind.PERCEPTION,
        db_default=RatingKind.PERCEPTION,
    )
    # Empty means "don't know".
    value = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            # On PostgreSQL its index also holds the value (INCLUDE, made by
            # migration 0013): the analysis reads the ratings from it alone.
            models.UniqueConstraint(
                fields=["response", "item", "kind"],
                name="answer_unique_response_item_kind",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=RatingKind.values), name="answer_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=True)
                | (Q(value__gte=ANSWER_MIN) & Q(value__lte=ANSWER_MAX)),
                name="answer_value_in_range",
            ),
        ]
        indexes = [models.Index(fields=["item", "response"])]

    def __str__(self) -> str:
        return f"{self.item_id}{self.kind}={self.value}"


class Allocation(models.Model):
    """Points a respondent gave one area of the questionnaire (importance):
    a response's allocations total IMPORTANCE_POINTS (checked on saving).
    Staff allocate as they believe customers would."""

    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="allocations"
    )
    # A service dimension or a gap (surveys.areas).
    area = models.CharField(max_length=16)
    points = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["response", "area"]
        constraints = [
            models.UniqueConstraint(
                fields=["response", "area"], name="allocation_unique_response_area"
            ),
            models.CheckConstraint(
                condition=Q(points__lte=IMPORTANCE_POINTS),
                name="allocation_points_at_most_total",
            ),
            models.CheckConstraint(
                condition=Q(area__in=[*Dimension.values, *Gap.values]),
                name="allocation_area_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area}={self.points}"


class Action(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        DROPPED = "dropped", "Dropped"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="actions"
    )
    study = models.ForeignKey(
        Study, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions"
    )
    gap = models.CharField(max_length=16, choices=Gap.choices)
    description = models.TextField()
    owner = models.CharField(max_length=200, blank=True)
    due_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PLANNED
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["gap", "due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(gap__in=Gap.values), name="action_gap_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["planned", "in_progress", "done", "dropped"]),
                name="action_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_gap_display()}: {self.description[:60]}"


class AuditEvent(models.Model):
    """Who did what to an organization's data: invited, exported, erased, changed."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    # `<thing>_<action>`, e.g. "study_open", "contacts_import", "contact_erase".
    action = models.CharField(max_length=64)
    target = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action}"


class Snapshot(models.Model):
    """A published state of a study's results.

    Results (dashboard, exports, comments, counts by group, trend points) are
    computed from published snapshots only, never from the live responses:
    `surveys.services.snapshots` publishes one when no published number would
    move by fewer than the minimum group size (see `surveys.disclosure`).
    `state` holds, per unit and audience, the new snapshot's cell counts and
    its release (cutoff, visible groups, whether the total is shown).
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="snapshots")
    seq = models.PositiveIntegerField()
    published_at = models.DateTimeField(default=timezone.now)
    # The closing snapshot: nothing is published after it.
    final = models.BooleanField(default=False)
    # Submitted answers that a final snapshot had to leave out.
    left_out = models.PositiveIntegerField(default=0)
    # Respondents published up to and including this snapshot (both audiences).
    respondents = models.PositiveIntegerField(default=0)
    # Orders this snapshot's exported answers and comments; never shown.
    seed = models.CharField(max_length=64)
    state = models.JSONField(default=dict)

    class Meta:
        ordering = ["study", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "seq"], name="snapshot_unique_study_seq"
            ),
            models.UniqueConstraint(
                fields=["study"],
                condition=Q(final=True),
                name="snapshot_one_final_per_study",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.study} snapshot {self.seq}"


class SnapshotEntry(models.Model):
    """A submitted response as published: the snapshot it entered in, and its
    group frozen then, so later edits of departments or segments never move
    it to another group."""

    response = models.OneToOneField(
        Response, on_delete=models.CASCADE, related_name="snapshot_entry"
    )
    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="snapshot_entries"
    )
    seq = models.PositiveIntegerField()
    audience = models.CharField(max_length=16, choices=Audience.choices)
    # The department (staff) or segment (customers) id when published; not a
    # foreign key, so deleting the group leaves it as it was.
    group_id = models.BigIntegerField(null=True, blank=True)
    group_name = models.CharField(max_length=120, blank=True)
    # Whether its answers were shown on a follow-up case when it was taken in
    # (a customer who agreed to be contacted): the publisher then counted it
    # as known (surveys.disclosure). A case whose response was taken in as
    # not known never shows its answers.
    known = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["study", "seq"])]
        verbose_name_plural = "snapshot entries"

    def __str__(self) -> str:
        return f"response {self.response_id} in snapshot {self.seq}"


class DataExport(models.Model):
    """A contact's copy of their own data, mailed to them (never to a manager):
    a single-use link, valid for `DATA_EXPORT_DAYS` days. Only the hash of
    its token is stored; the mail task re-derives the token (see
    surveys.services.rights)."""

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="data_exports"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"data export for contact #{self.contact_id}"

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()


class ContactChannel(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"


class Case(models.Model):
    """A follow-up case: a customer who agreed to be contacted about their
    answers (on the survey form, no by default) and whose answers met the
    study's rules, to be contacted by its owner before it is due.

    The agreement lives here, on the response's side, and only here: nothing
    marks the contact, and a yes whose answers open no case is not kept."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        CONTACTED = "contacted", "Contacted"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed without contact"

    # Few indexes, since a submit may write a case: the organization's and the
    # owner's are the composite ones below; segments and actions are looked
    # up by case, not the other way round.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="cases", db_index=False
    )
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="cases")
    # One case per response at most (the constraint is the unique column). Null
    # once the contact is erased: the answers stay, unlinked.
    response = models.OneToOneField(
        Response,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="case",
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    # The segment as it was when the case opened, for the response-time panel.
    segment = models.ForeignKey(
        Segment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="followup_cases",
        db_index=False,
    )
    # How the customer asked to be contacted.
    channel = models.CharField(
        max_length=8, choices=ContactChannel.choices, default=ContactChannel.EMAIL
    )
    phone = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    # What opened it, in words ("Reliability: 2.5, at or below 3").
    trigger = models.CharField(max_length=200)
    opened_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    first_contact_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.TextField(blank=True)
    # The owner's short note to the customer when resolved, if mailed.
    customer_note = models.TextField(blank=True)
    customer_mailed_at = models.DateTimeField(null=True, blank=True)
    owner_mailed_at = models.DateTimeField(null=True, blank=True)
    action = models.ForeignKey(
        Action,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
        db_index=False,
    )
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["new", "contacted", "resolved", "closed"]),
                name="case_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(due_at__gt=F("opened_at")), name="case_due_after_opening"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=ContactChannel.values),
                name="case_channel_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="resolved") | Q(resolved_at__isnull=False),
                name="case_resolved_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False),
                name="case_closed_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "due_at"]),
            models.Index(fields=["owner", "status", "due_at"]),
        ]

    def __str__(self) -> str:
        return f"Case #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.NEW, self.Status.CONTACTED)

    @property
    def overdue(self) -> bool:
        """Not contacted by its due time (the due time is for first contact)."""
        return self.status == self.Status.NEW and self.due_at <= timezone.now()


class CaseEvent(models.Model):
    """One line of a case's timeline: a note or a change, who and when."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Opened"
        NOTE = "note", "Note"
        CONTACTED = "contacted", "Contacted the customer"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed without contact"
        ASSIGNED = "assigned", "Assigned"
        ACTION = "action", "Raised an action"
        MAILED = "mailed", "Mailed the customer"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on case #{self.case_id}"


class FollowUpDigest(models.Model):
    """The overdue-cases mail of one owner and day: claimed before it is sent,
    so repeating the command never mails anyone twice a day."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()
    cases = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user", "day"], name="followup_digest_once"
            )
        ]

    def __str__(self) -> str:
        return f"digest for {self.user_id} on {self.day}"


def questionnaire_items_changed(questionnaire_id: int) -> None:
    """Mark a questionnaire's items as changed (every process re-reads them)."""
    Questionnaire.objects.filter(pk=questionnaire_id).update(
        items_version=new_items_version()
    )


@receiver(post_save, sender=Item)
@receiver(post_delete, sender=Item)
def _item_changed(sender, instance: Item, **kwargs) -> None:
    questionnaire_items_changed(instance.questionnaire_id)
