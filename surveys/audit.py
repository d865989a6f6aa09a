"""The audit log: one call per manager action worth answering for later."""

from django.contrib.auth.base_user import AbstractBaseUser

from surveys.models import AuditEvent, Organization


def audit_record(
    *,
    organization: Organization,
    actor: AbstractBaseUser | None,
    action: str,
    target: object = "",
    **detail,
) -> AuditEvent:
    """Record that `actor` did `action` (`<thing>_<action>`) to `target`."""
    return AuditEvent.objects.create(
        organization=organization,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target=str(target)[:200],
        detail=detail,
    )


# What each action means, in the words of the audit log page.
ACTION_LABELS = {
    "study_create": "Created a study",
    "study_update": "Edited a study",
    "study_open": "Opened a study",
    "study_close": "Closed a study",
    "study_reopen": "Reopened a study",
    "study_export": "Exported study results",
    "invitations_create": "Invited contacts",
    "reminders_request": "Sent reminders",
    "invitation_retry": "Retried an invitation",
    "contact_create": "Added a contact",
    "contact_update": "Edited a contact",
    "contact_delete": "Removed a contact",
    "contacts_import": "Imported contacts",
    "contact_opt_out": "A contact opted out",
    "contact_export": "Exported a contact's data",
    "contact_erase": "Erased a contact",
    "staff_add": "Added a staff member",
    "staff_import": "Imported staff",
    "staff_invite_resend": "Resent a staff invitation",
    "organization_create": "Created the organization",
    "organization_update": "Edited the organization",
    "organization_branding": "Changed the logo or accent colour",
    "department_add": "Added a department",
    "department_rename": "Renamed a department",
    "department_remove": "Removed a department",
    "segment_add": "Added a segment",
    "segment_update": "Edited a segment",
    "segment_remove": "Removed a segment",
    "questionnaire_copy": "Copied a questionnaire",
    "questionnaire_new_version": "Made a new questionnaire version",
    "questionnaire_update": "Edited a questionnaire",
    "item_add": "Added an item",
    "item_update": "Edited an item",
    "item_remove": "Removed an item",
    "item_move": "Moved an item",
    "action_create": "Recorded an action",
    "action_update": "Edited an action",
    "action_close": "Closed an action",
    "followup_rules_set": "Set a study's follow-up rules",
    "case_note": "Added a note to a case",
    "case_contacted": "Logged contact on a case",
    "case_resolve": "Resolved a case",
    "case_close": "Closed a case without contact",
    "case_assign": "Assigned a case",
    "case_action": "Raised an action from a case",
    "cases_export": "Exported the follow-up cases",
}

# The kinds the audit log page filters by: (label, actions).
AUDIT_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "studies": (
        "Studies",
        ("study_create", "study_update", "study_open", "study_close", "study_reopen"),
    ),
    "invitations": (
        "Invitations and reminders",
        ("invitations_create", "reminders_request", "invitation_retry"),
    ),
    "exports": ("Exports", ("study_export", "contact_export")),
    "erasures": ("Erasures", ("contact_erase",)),
    "contacts": (
        "Contacts",
        (
            "contact_create",
            "contact_update",
            "contact_delete",
            "contacts_import",
            "contact_opt_out",
        ),
    ),
    "staff": ("Staff", ("staff_add", "staff_import", "staff_invite_resend")),
    "organization": (
        "Organization, departments, segments",
        (
            "organization_create",
            "organization_update",
            "organization_branding",
            "department_add",
            "department_rename",
            "department_remove",
            "segment_add",
            "segment_update",
            "segment_remove",
        ),
    ),
    "questionnaires": (
        "Questionnaires",
        (
            "questionnaire_copy",
            "questionnaire_new_version",
            "questionnaire_update",
            "item_add",
            "item_update",
            "item_remove",
            "item_move",
        ),
    ),
    "actions": ("Actions", ("action_create", "action_update", "action_close")),
    "cases": (
        "Follow-up cases",
        (
            "followup_rules_set",
            "case_note",
            "case_contacted",
            "case_resolve",
            "case_close",
            "case_assign",
            "case_action",
            "cases_export",
        ),
    ),
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action.replace("_", " ").capitalize())
