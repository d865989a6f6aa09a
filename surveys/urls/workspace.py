from django.urls import path

from surveys.views import audit, organization, organizations, questionnaires, studies

urlpatterns = [
    path(
        "organization/switch/",
        organizations.organization_switch,
        name="organization_switch",
    ),
    path("organization/", organization.organization_edit, name="organization_edit"),
    path("organization/audit/", audit.audit_log, name="audit_log"),
    path(
        "organization/branding/",
        organization.organization_branding,
        name="organization_branding",
    ),
    path("logo/<str:key>/", organization.organization_logo, name="organization_logo"),
    path(
        "organization/departments/add/",
        organization.department_add,
        name="department_add",
    ),
    path(
        "organization/departments/<int:department_id>/rename/",
        organization.department_rename,
        name="department_rename",
    ),
    path(
        "organization/departments/<int:department_id>/remove/",
        organization.department_remove,
        name="department_remove",
    ),
    path("organization/segments/add/", organization.segment_add, name="segment_add"),
    path(
        "organization/segments/<int:segment_id>/edit/",
        organization.segment_edit,
        name="segment_edit",
    ),
    path(
        "organization/segments/<int:segment_id>/remove/",
        organization.segment_remove,
        name="segment_remove",
    ),
    path(
        "questionnaires/", questionnaires.questionnaire_list, name="questionnaire_list"
    ),
    path(
        "questionnaires/<int:questionnaire_id>/",
        questionnaires.questionnaire_detail,
        name="questionnaire_detail",
    ),
    path(
        "questionnaires/<int:questionnaire_id>/copy/",
        questionnaires.questionnaire_copy,
        name="questionnaire_copy",
    ),
    path(
        "questionnaires/<int:questionnaire_id>/edit/",
        questionnaires.questionnaire_edit,
        name="questionnaire_edit",
    ),
    path(
        "questionnaires/<int:questionnaire_id>/new-version/",
        questionnaires.questionnaire_new_version,
        name="questionnaire_new_version",
    ),
    path(
        "questionnaires/<int:questionnaire_id>/items/add/",
        questionnaires.item_add,
        name="questionnaire_item_add",
    ),
    path(
        "questionnaires/<int:questionnaire_id>/items/<int:item_id>/edit/",
        questionnaires.item_edit,
        name="questionnaire_item_edit",
    ),
    path(
        "questionnaires/<int:questionnaire_id>/items/<int:item_id>/remove/",
        questionnaires.item_remove,
        name="questionnaire_item_remove",
    ),
    path(
        "questionnaires/<int:questionnaire_id>/items/<int:item_id>/move/",
        questionnaires.item_move,
        name="questionnaire_item_move",
    ),
    path("studies/", studies.study_list, name="study_list"),
    path("studies/new/", studies.study_create, name="study_create"),
    path("studies/<int:study_id>/", studies.study_detail, name="study_detail"),
    path("studies/<int:study_id>/edit/", studies.study_edit, name="study_edit"),
    path("studies/<int:study_id>/open/", studies.study_open, name="study_open"),
    path("studies/<int:study_id>/close/", studies.study_close, name="study_close"),
    path("studies/<int:study_id>/reopen/", studies.study_reopen, name="study_reopen"),
]
