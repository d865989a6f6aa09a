"""CSRF is enforced on every form a logged-in person posts; cookies are locked down."""

import pytest
from django.test import Client

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


def test_a_login_without_the_csrf_token_is_refused(csrf_client, alice):
    response = csrf_client.post(
        "/accounts/login/",
        {"username": alice.user.username, "password": factories.PASSWORD},
    )
    assert response.status_code == 403


def test_a_login_with_the_csrf_token_succeeds(csrf_client, alice):
    csrf_client.get("/accounts/login/")
    token = csrf_client.cookies["csrftoken"].value
    response = csrf_client.post(
        "/accounts/login/",
        {
            "username": alice.user.username,
            "password": factories.PASSWORD,
            "csrfmiddlewaretoken": token,
        },
    )
    assert response.status_code == 302


def test_a_manager_action_without_the_csrf_token_is_refused(
    csrf_client, alice, study_a
):
    csrf_client.force_login(alice.user)
    response = csrf_client.post(f"/studies/{study_a.pk}/close/")
    assert response.status_code == 403
    study_a.refresh_from_db()
    assert study_a.status == "open"


def test_the_session_cookie_is_httponly_and_samesite(client, alice):
    client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/",
        {"username": alice.user.username, "password": factories.PASSWORD},
    )
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
