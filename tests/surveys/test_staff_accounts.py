"""Django's auth views at /accounts/, in the app's Bootstrap layout: log in, log
out (POST), change the password, reset it and choose a new one from the link."""

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from surveys.services.accounts import set_password_link
from tests import factories

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-long-passphrase"


def in_layout(html: str) -> bool:
    """The page extends base.html: Bootstrap from our static files, our nav."""
    return (
        "/static/bootstrap/css/bootstrap.min.css" in html
        and 'aria-label="Main"' in html
        and 'id="main"' in html
    )


def test_the_login_page_renders_in_the_layout_and_says_the_username_is_the_email(
    client,
):
    response = client.get(reverse("login"))
    html = response.content.decode()
    assert response.status_code == 200
    assert in_layout(html)
    assert "<h1" in html and "Log in" in html
    assert "email address" in html
    assert 'for="id_username"' in html and 'for="id_password"' in html


def test_logging_in_sends_staff_to_their_self_assessments(client, bob):
    response = client.post(
        reverse("login"),
        {"username": "bob@acme.example", "password": factories.PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("staff_home")
    assert "My self-assessments" in response.content.decode()


def test_a_wrong_password_is_refused_in_the_layout(client, bob):
    response = client.post(
        reverse("login"), {"username": "bob@acme.example", "password": "nope"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert in_layout(html)
    assert "alert" in html
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post_and_shows_the_login_page(bob_client):
    assert bob_client.get(reverse("logout")).status_code == 405
    response = bob_client.post(reverse("logout"), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("login")
    assert "_auth_user_id" not in bob_client.session


def test_the_nav_offers_log_out_as_a_form_and_change_password(bob_client):
    html = bob_client.get(reverse("staff_home")).content.decode()
    assert f'<form method="post" action="{reverse("logout")}">' in html
    assert reverse("password_change") in html


def test_changing_the_password(bob, bob_client):
    page = bob_client.get(reverse("password_change"))
    assert page.status_code == 200
    assert in_layout(page.content.decode())
    response = bob_client.post(
        reverse("password_change"),
        {
            "old_password": factories.PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("password_change_done")
    assert in_layout(response.content.decode())
    bob.user.refresh_from_db()
    assert bob.user.check_password(NEW_PASSWORD)


def test_a_wrong_old_password_is_refused_with_the_error_shown(bob, bob_client):
    response = bob_client.post(
        reverse("password_change"),
        {
            "old_password": "wrong",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode()
    bob.user.refresh_from_db()
    assert bob.user.check_password(factories.PASSWORD)


def test_the_password_change_page_needs_a_login(client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_password_reset_mails_a_link_that_sets_a_new_password(
    client, bob, mailoutbox
):
    page = client.get(reverse("password_reset"))
    assert in_layout(page.content.decode())
    done = client.post(
        reverse("password_reset"), {"email": "bob@acme.example"}, follow=True
    )
    assert done.redirect_chain[-1][0] == reverse("password_reset_done")
    assert in_layout(done.content.decode())
    [mail] = mailoutbox
    path = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", mail.body).group(1)
    confirm = client.get(path, follow=True)
    html = confirm.content.decode()
    assert in_layout(html)
    assert "Choose your password" in html
    final = client.post(
        confirm.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert final.redirect_chain[-1][0] == reverse("password_reset_complete")
    assert in_layout(final.content.decode())
    assert client.login(username="bob@acme.example", password=NEW_PASSWORD)


def test_a_reset_for_an_unknown_address_says_the_same_and_sends_nothing(
    client, mailoutbox
):
    response = client.post(
        reverse("password_reset"), {"email": "nobody@nowhere.example"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("password_reset_done")
    assert mailoutbox == []


def test_a_forged_or_used_set_password_link_says_it_no_longer_works(client, bob):
    uid = urlsafe_base64_encode(force_bytes(bob.user.pk))
    response = client.get(
        reverse("password_reset_confirm", args=[uid, "forged-token"]), follow=True
    )
    html = response.content.decode()
    assert in_layout(html)
    assert "no longer works" in html
    assert "new_password1" not in html


def test_the_set_password_link_stops_working_once_the_password_is_set(client, bob):
    token = default_token_generator.make_token(bob.user)
    link = set_password_link(bob.user)
    assert token in link
    bob.user.set_password(NEW_PASSWORD)
    bob.user.save()
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    assert "no longer works" in client.get(path, follow=True).content.decode()


def test_the_set_password_link_expires(client, bob, settings):
    from datetime import datetime, timedelta

    link = set_password_link(bob.user)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    generator = default_token_generator
    later = datetime.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    original_now = generator._now
    generator._now = lambda: later
    try:
        html = client.get(path, follow=True).content.decode()
    finally:
        generator._now = original_now
    assert "no longer works" in html
