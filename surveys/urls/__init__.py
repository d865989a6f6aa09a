from django.urls import include, path

from surveys.views import home

urlpatterns = [
    path("", home.home, name="home"),
    path("", include("surveys.urls.workspace")),
    path("", include("surveys.urls.staff")),
    path("", include("surveys.urls.customers")),
    path("", include("surveys.urls.actions")),
    path("", include("surveys.urls.cases")),
]
