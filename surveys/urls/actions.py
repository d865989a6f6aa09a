from django.urls import path

from surveys.views import actions

urlpatterns = [
    path("actions/", actions.action_list, name="action_list"),
    path(
        "studies/<int:study_id>/actions/new/",
        actions.action_create,
        name="action_create",
    ),
    path("actions/<int:action_id>/edit/", actions.action_edit, name="action_edit"),
    path("actions/<int:action_id>/close/", actions.action_close, name="action_close"),
]
