from django.urls import path

from surveys.views import contacts, invitations, my_data, survey

urlpatterns = [
    path("contacts/", contacts.contact_list, name="contact_list"),
    path("contacts/new/", contacts.contact_create, name="contact_create"),
    path("contacts/<int:contact_id>/edit/", contacts.contact_edit, name="contact_edit"),
    path(
        "contacts/<int:contact_id>/delete/",
        contacts.contact_delete,
        name="contact_delete",
    ),
    path(
        "contacts/<int:contact_id>/export/",
        contacts.contact_export,
        name="contact_export",
    ),
    path(
        "contacts/<int:contact_id>/export/mail/",
        contacts.contact_export_mail,
        name="contact_export_mail",
    ),
    path(
        "contacts/<int:contact_id>/erase/",
        contacts.contact_erase_confirm,
        name="contact_erase_confirm",
    ),
    path(
        "contacts/<int:contact_id>/erase/confirm/",
        contacts.contact_erase,
        name="contact_erase",
    ),
    path("contacts/import/", contacts.contact_import, name="contact_import"),
    path(
        "contacts/import/confirm/",
        contacts.contact_import_confirm,
        name="contact_import_confirm",
    ),
    path(
        "contacts/import/<int:job_id>/",
        contacts.contact_import_status,
        name="contact_import_status",
    ),
    path(
        "studies/<int:study_id>/invitations/",
        invitations.invitation_list,
        name="invitation_list",
    ),
    path(
        "studies/<int:study_id>/invitations/remind/",
        invitations.invitation_remind,
        name="invitation_remind",
    ),
    path(
        "studies/<int:study_id>/invitations/<int:invitation_id>/retry/",
        invitations.invitation_retry,
        name="invitation_retry",
    ),
    path(
        "studies/<int:study_id>/rates/",
        invitations.response_rates,
        name="response_rates",
    ),
    path("s/<str:token>/", survey.survey, name="survey"),
    path("s/<str:token>/thanks/", survey.survey_thanks, name="survey_thanks"),
    path("s/<str:token>/opt-out/", survey.survey_opt_out, name="survey_opt_out"),
    path("my-data/<str:export_token>/", my_data.my_data, name="my_data"),
    path("s/<str:token>/opt-in/", survey.survey_opt_in, name="survey_opt_in"),
]
