"""The admin lists and opens every model, with the demo data loaded."""

from io import StringIO

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    call_command("loaddata", "default_questionnaire", verbosity=0)
    call_command("demo", stdout=StringIO())
    user = factories.make_user("root@example.org", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_every_surveys_model_is_registered():
    for model in apps.get_app_config("surveys").get_models():
        assert admin.site.is_registered(model), model.__name__


@pytest.mark.parametrize(
    "model",
    [m.__name__.lower() for m in apps.get_app_config("surveys").get_models()],
)
def test_each_changelist_and_a_change_page_open(superuser_client, model):
    changelist = reverse(f"admin:surveys_{model}_changelist")
    assert superuser_client.get(changelist).status_code == 200
    assert superuser_client.get(changelist, {"q": "a"}).status_code == 200
    instance = apps.get_model("surveys", model).objects.first()
    if instance is not None:
        change = reverse(f"admin:surveys_{model}_change", args=[instance.pk])
        assert superuser_client.get(change).status_code == 200


def test_the_admin_shows_the_demo_organization_and_its_studies(superuser_client):
    page = superuser_client.get(reverse("admin:surveys_study_changelist"))
    assert "Autumn wave" in page.content.decode()
    assert "Northwind Services" in page.content.decode()
