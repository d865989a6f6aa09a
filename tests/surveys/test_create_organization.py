"""The create_organization command: an organization, its first manager, a link."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from surveys.models import AuditEvent, Membership, Organization, Role
from tests import factories

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("create_organization", *args, stdout=out)
    return out.getvalue()


def test_it_creates_the_organization_and_a_new_manager_without_password():
    output = run("Acme Services", "--manager", "Ann@Example.org")
    organization = Organization.objects.get()
    assert organization.name == "Acme Services"
    assert organization.slug == "acme-services"
    membership = Membership.objects.get(organization=organization)
    assert membership.role == Role.MANAGER
    assert membership.user.email == "Ann@example.org"
    assert not membership.user.has_usable_password()
    assert "new user" in output
    assert AuditEvent.objects.filter(
        organization=organization, action="organization_create"
    ).exists()


def test_it_prints_a_set_password_link_that_lets_the_manager_in(settings):
    output = run("Acme Services", "--manager", "ann@example.org")
    match = re.search(r"http://\S+/accounts/reset/(\S+)/(\S+)/", output)
    assert match, output
    client = Client()
    path = match.group(0).replace(settings.SITE_URL, "")
    response = client.get(path, follow=True)
    assert response.status_code == 200
    response = client.post(
        response.redirect_chain[-1][0],
        {
            "new_password1": "a-long-new-passphrase",
            "new_password2": "a-long-new-passphrase",
        },
    )
    assert response.status_code == 302
    assert client.login(username="ann@example.org", password="a-long-new-passphrase")
    assert client.get("/", follow=True).redirect_chain[-1][0] == "/studies/"


def test_it_adds_an_existing_user_keeping_their_password():
    user = factories.make_user("existing@example.org")
    other = factories.make_organization(name="Other", slug="other")
    Membership.objects.create(user=user, organization=other, role=Role.STAFF)
    output = run("Second Org", "--manager", "EXISTING@example.org")
    assert get_user_model().objects.count() == 1
    user.refresh_from_db()
    assert user.check_password(factories.PASSWORD)
    membership = Membership.objects.get(user=user, organization__name="Second Org")
    assert membership.role == Role.MANAGER
    assert "existing user" in output


def test_it_gives_each_organization_a_unique_slug():
    run("Acme", "--manager", "a@example.org")
    run("Acme", "--manager", "b@example.org")
    run("ACME!", "--manager", "c@example.org")
    slugs = sorted(Organization.objects.values_list("slug", flat=True))
    assert slugs == ["acme", "acme-2", "acme-3"]


def test_a_name_without_letters_still_gets_a_slug():
    run("!!!", "--manager", "a@example.org")
    assert Organization.objects.get().slug == "organization"


def test_it_refuses_a_blank_name_and_writes_nothing():
    with pytest.raises(CommandError, match="needs a name"):
        run("   ", "--manager", "a@example.org")
    assert not Organization.objects.exists()
    assert not get_user_model().objects.exists()


def test_it_refuses_a_manager_that_is_not_an_email():
    with pytest.raises(CommandError, match="not an email"):
        run("Acme", "--manager", "nobody")
    assert not Organization.objects.exists()


def test_the_manager_option_is_required():
    with pytest.raises(CommandError):
        run("Acme")
