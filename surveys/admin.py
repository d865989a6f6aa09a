from django.contrib import admin
from django.db.models import Count

from surveys.models import (
    Action,
    Allocation,
    Answer,
    AuditEvent,
    Case,
    CaseEvent,
    Contact,
    DataExport,
    Department,
    FollowUpDigest,
    ImportJob,
    Invitation,
    Item,
    Membership,
    MembershipInvite,
    Organization,
    OrganizationLogo,
    Questionnaire,
    Response,
    Segment,
    Snapshot,
    SnapshotEntry,
    Study,
)


class DepartmentInline(admin.TabularInline):
    model = Department
    extra = 0


class SegmentInline(admin.TabularInline):
    model = Segment
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [DepartmentInline, SegmentInline, MembershipInline]


@admin.register(OrganizationLogo)
class OrganizationLogoAdmin(admin.ModelAdmin):
    """Read-only: a logo is only ever stored re-encoded, through the
    organization's settings page (surveys.branding)."""

    list_display = ["organization", "content_type", "created_at"]
    search_fields = ["organization__name"]
    readonly_fields = ["organization", "key", "content_type", "created_at"]
    exclude = ["data"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "organization"]
    list_filter = ["organization"]
    search_fields = ["name"]


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "weight"]
    list_filter = ["organization"]
    search_fields = ["name"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "department", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__email", "user__username", "organization__name"]
    autocomplete_fields = ["user"]
    list_select_related = ["user", "organization", "department"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "organization",
        "kind",
        "status",
        "total_rows",
        "created",
        "created_at",
    ]
    list_filter = ["kind", "status"]
    search_fields = ["organization__name"]
    list_select_related = ["organization"]
    exclude = ["text"]  # the file's addresses; the job's counts are what matter


@admin.register(MembershipInvite)
class MembershipInviteAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    search_fields = ["user__email", "organization__name"]
    autocomplete_fields = ["user"]
    list_select_related = ["user", "organization"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "organization", "segment", "opted_out_at"]
    list_filter = [
        "organization",
        "segment",
        ("opted_out_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["email", "name"]
    list_select_related = ["organization", "segment"]


class ItemInline(admin.TabularInline):
    model = Item
    extra = 0
    fields = ["position", "gap", "dimension", "internal_text", "customer_text"]


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "version",
        "organization",
        "scale_min",
        "scale_max",
        "items",
    ]
    list_filter = ["organization"]
    search_fields = ["name"]
    inlines = [ItemInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(item_count=Count("items"))

    @admin.display(ordering="item_count")
    def items(self, obj: Questionnaire) -> int:
        return obj.item_count


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["questionnaire", "position", "gap", "dimension", "customer_text"]
    list_filter = ["gap", "dimension", "questionnaire"]
    search_fields = ["internal_text", "customer_text"]


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "status", "opens_on", "closes_on"]
    list_filter = ["status", "organization"]
    search_fields = ["name", "organization__name"]
    date_hierarchy = "opens_on"
    list_select_related = ["organization"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "contact",
        "study",
        "sent_at",
        "failed_at",
        "opened_at",
        "responded_at",
        "attempts",
        "reminders_sent",
    ]
    list_filter = [
        "study",
        ("sent_at", admin.EmptyFieldListFilter),
        ("failed_at", admin.EmptyFieldListFilter),
        ("responded_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["contact__email"]
    readonly_fields = ["token_hash"]
    list_select_related = ["contact", "study"]
    raw_id_fields = ["contact"]


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    raw_id_fields = ["item"]


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):
    list_display = ["response", "item", "kind", "value"]
    list_filter = ["kind", "item__gap", "response__audience", "response__study"]
    search_fields = ["item__customer_text", "item__internal_text"]
    raw_id_fields = ["response", "item"]
    list_select_related = ["response", "item"]


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "study",
        "audience",
        "status",
        "department",
        "segment",
        "submitted_at",
    ]
    list_filter = ["audience", "status", "study"]
    search_fields = ["comment"]
    raw_id_fields = ["invitation", "user"]
    list_select_related = ["study", "department", "segment"]
    inlines = [AnswerInline]


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    list_display = [
        "description",
        "gap",
        "organization",
        "study",
        "owner",
        "due_on",
        "status",
    ]
    list_filter = ["status", "gap", "organization"]
    search_fields = ["description", "owner"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "organization", "actor", "action", "target"]
    list_filter = ["action", "organization"]
    search_fields = ["action", "target", "actor__email"]
    list_select_related = ["organization", "actor"]
    readonly_fields = [
        "organization",
        "actor",
        "action",
        "target",
        "detail",
        "created_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Published state: written by the publisher only, never edited by hand
    (an edit could move a published number by one person)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Snapshot)
class SnapshotAdmin(ReadOnlyAdmin):
    list_display = ["study", "seq", "published_at", "final", "left_out"]
    list_filter = ["final"]
    search_fields = ["study__name"]
    list_select_related = ["study"]
    exclude = ["seed"]


@admin.register(SnapshotEntry)
class SnapshotEntryAdmin(ReadOnlyAdmin):
    list_display = ["study", "seq", "audience", "group_name"]
    list_filter = ["audience"]
    search_fields = ["study__name", "group_name"]
    list_select_related = ["study"]


@admin.register(DataExport)
class DataExportAdmin(ReadOnlyAdmin):
    list_display = ["contact", "created_at", "sent_at", "used_at", "expires_at"]
    search_fields = ["contact__email"]
    list_select_related = ["contact"]
    exclude = ["token_hash"]


@admin.register(Allocation)
class AllocationAdmin(admin.ModelAdmin):
    list_display = ["response", "area", "points"]
    list_filter = ["area", "response__audience", "response__study"]
    raw_id_fields = ["response"]
    list_select_related = ["response"]


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    raw_id_fields = ["actor"]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["id", "study", "status", "owner", "opened_at", "due_at"]
    list_filter = ["status", "organization"]
    search_fields = ["trigger", "study__name"]
    raw_id_fields = ["response", "contact", "owner", "action", "segment", "study"]
    list_select_related = ["study", "owner"]
    inlines = [CaseEventInline]


@admin.register(CaseEvent)
class CaseEventAdmin(admin.ModelAdmin):
    list_display = ["case", "kind", "actor", "created_at"]
    list_filter = ["kind"]
    search_fields = ["kind"]
    raw_id_fields = ["case", "actor"]
    list_select_related = ["case", "actor"]


@admin.register(FollowUpDigest)
class FollowUpDigestAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "day", "cases", "sent_at"]
    search_fields = ["user__email"]
    list_select_related = ["user", "organization"]
    raw_id_fields = ["user"]
