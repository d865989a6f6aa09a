from django.urls import path

from surveys.views import staff

urlpatterns = [
    path("staff/", staff.staff_list, name="staff_list"),
    path("staff/add/", staff.staff_add_view, name="staff_add"),
    path("staff/import/", staff.staff_import_view, name="staff_import"),
    path(
        "staff/import/confirm/",
        staff.staff_import_confirm,
        name="staff_import_confirm",
    ),
    path(
        "staff/import/<int:staff_job_id>/",
        staff.staff_import_status,
        name="staff_import_status",
    ),
    path("staff/<int:membership_id>/resend/", staff.staff_resend, name="staff_resend"),
    path(
        "staff/invites/<int:invite_id>/resend/",
        staff.staff_invite_resend_view,
        name="staff_invite_resend",
    ),
    path("my/invitations/", staff.membership_invites, name="membership_invites"),
    path(
        "my/invitations/answer/",
        staff.membership_invite_answer,
        name="membership_invite_answer",
    ),
    path("assessments/", staff.staff_home, name="staff_home"),
    path("assessments/<int:study_id>/", staff.assessment, name="assessment"),
]
