"""Rate limits on survey links, login and password reset."""

import pytest
from django.core.cache import cache

from gapsurvey.ratelimit import Rule, rate_limit_hit

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.RATE_LIMITS_ENABLED = True
    cache.clear()
    yield settings
    cache.clear()


def login(client, username: str, ip: str = "10.0.0.1"):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": "wrong"},
        REMOTE_ADDR=ip,
    )


def test_survey_links_answer_429_with_retry_after_past_the_limit(client, limits):
    limits.RATE_LIMITS = [
        {
            "name": "survey-ip",
            "path_prefix": "/s/",
            "methods": ("GET", "POST"),
            "key": "ip",
            "limit": 3,
            "window": 60,
        },
    ]
    statuses = [client.get("/s/not-a-token/").status_code for _ in range(4)]
    assert statuses[:3] == [404, 404, 404]
    assert statuses[3] == 429
    response = client.get("/s/not-a-token/")
    assert int(response["Retry-After"]) > 0
    assert b"try again" in response.content


def test_login_is_limited_per_account_whatever_the_address(client, limits):
    for n in range(10):
        assert login(client, "alice@acme.example", ip=f"10.0.1.{n}").status_code == 200
    assert login(client, "alice@acme.example", ip="10.0.2.1").status_code == 429
    # Another account from the same addresses is not affected.
    assert login(client, "bob@acme.example", ip="10.0.1.1").status_code == 200


def test_login_is_limited_per_address_across_accounts(client, limits):
    for n in range(30):
        login(client, f"user{n}@example.org", ip="10.0.3.3")
    assert login(client, "someone@example.org", ip="10.0.3.3").status_code == 429
    assert login(client, "someone@example.org", ip="10.0.3.4").status_code == 200


def test_password_reset_is_limited_per_email(client, limits):
    for _ in range(3):
        response = client.post(
            "/accounts/password_reset/", {"email": "alice@acme.example"}
        )
        assert response.status_code == 302
    response = client.post("/accounts/password_reset/", {"email": "alice@acme.example"})
    assert response.status_code == 429


def test_a_limit_is_a_window_not_a_lockout(limits):
    rule = Rule("t", "/x/", ("GET",), "ip", limit=2, window=60)
    assert rate_limit_hit(rule, "a", now=1000.0) is None
    assert rate_limit_hit(rule, "a", now=1001.0) is None
    assert rate_limit_hit(rule, "a", now=1002.0) == 18  # the window ends at 1020
    # The next window starts afresh, however much was tried before.
    assert rate_limit_hit(rule, "a", now=1020.0) is None
