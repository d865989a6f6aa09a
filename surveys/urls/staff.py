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
    path("staff/<int:membership_id>/resend/", staff.staff_resend, name="staff_resend"),
    path("assessments/", staff.staff_home, name="staff_home"),
    path("assessments/<int:study_id>/", staff.assessment, name="assessment"),
]
