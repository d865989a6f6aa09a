from django.urls import path

from analysis import views

urlpatterns = [
    path("cases/export.csv", views.case_export, name="case_export"),
    path("studies/<int:study_id>/dashboard/", views.dashboard, name="dashboard"),
    path(
        "studies/<int:study_id>/export/<slug:kind>.<slug:fmt>",
        views.export,
        name="export",
    ),
]
