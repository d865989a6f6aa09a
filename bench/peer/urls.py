"""The peer's URLs as its documentation mounts them: `survey/` (the survey list,
each survey's answering page `survey/<id>/`, its confirmation page)."""

from django.urls import include, path

urlpatterns = [path("survey/", include("survey.urls"))]
