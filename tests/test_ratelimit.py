"""Rate limits on survey links, login and password reset."""

import time

import pytest
from django.core.cache import cache

from gapsurvey import ratelimit
from gapsurvey.ratelimit import Rule, rate_limit_hit

pytestmark = pytest.mark.django_db


class Clock:
    """The limiter's clock: starts at the top of an hour and runs in real time,
    so a test's requests never straddle the edge of a window (which made these
    tests flaky); `advance` jumps ahead."""

    def __init__(self) -> None:
        self.start, self.offset = time.monotonic(), 0.0

    def time(self) -> float:
        return 1_800_000_000.0 + self.offset + (time.monotonic() - self.start)

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(ratelimit, "time", clock)
    return clock


@pytest.fixture
def limits(settings, clock):
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


def test_password_reset_is_limited_per_address_across_emails(client, limits):
    for n in range(10):
        response = client.post(
            "/accounts/password_reset/",
            {"email": f"person{n}@example.org"},
            REMOTE_ADDR="10.0.4.4",
        )
        assert response.status_code == 302
    response = client.post(
        "/accounts/password_reset/",
        {"email": "other@example.org"},
        REMOTE_ADDR="10.0.4.4",
    )
    assert response.status_code == 429
    assert b"try again" in response.content


def test_a_locked_out_account_can_log_in_again_once_the_window_has_passed(
    client, limits, clock, alice
):
    from tests import factories

    for n in range(10):
        login(client, alice.user.username, ip=f"10.0.5.{n}")
    # Someone else's failed attempts have filled alice's window ...
    right = {"username": alice.user.username, "password": factories.PASSWORD}
    assert client.post("/accounts/login/", right).status_code == 429
    # ... for at most one window (15 minutes), after which she gets in.
    clock.advance(15 * 60)
    assert client.post("/accounts/login/", right).status_code == 302


@pytest.mark.parametrize(
    "username", ["a\x00b", "x" * 300, "line\nbreak", "'; DROP TABLE x; --", "é" * 200]
)
def test_any_typed_username_is_counted_without_an_error(client, limits, username):
    """The limiter keys on what the client typed: no value may break the cache
    (a NUL was a 500 on PostgreSQL)."""
    for _ in range(11):
        response = client.post(
            "/accounts/login/", {"username": username, "password": "x"}
        )
        assert response.status_code in (200, 429)
    assert response.status_code == 429


def test_behind_a_proxy_a_forged_forwarded_for_does_not_escape_the_limit(
    client, limits
):
    """The client may send its own X-Forwarded-For; the proxy appends the address
    it saw. Counting the first entry let anyone rotate it past the limit."""
    limits.RATE_LIMIT_TRUST_FORWARDED_FOR = True
    for n in range(30):
        client.post(
            "/accounts/login/",
            {"username": f"user{n}@example.org", "password": "x"},
            HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, 203.0.113.7",
        )
    response = client.post(
        "/accounts/login/",
        {"username": "someone@example.org", "password": "x"},
        HTTP_X_FORWARDED_FOR="10.9.9.250, 203.0.113.7",
    )
    assert response.status_code == 429
    # Another client behind the same proxy is counted on its own.
    response = client.post(
        "/accounts/login/",
        {"username": "someone@example.org", "password": "x"},
        HTTP_X_FORWARDED_FOR="203.0.113.8",
    )
    assert response.status_code == 200


def test_a_look_alike_spelling_of_a_locked_account_is_counted_as_that_account(
    client, limits, clock
):
    """Issue 14.2: authentication normalizes the name (NFKC), so the limit must
    too: a fullwidth "ｓ" or other case must not get a fresh counter."""
    from tests import factories

    user = factories.make_user("staff2@acme.example")
    for n in range(10):
        login(client, "staff2@acme.example", ip=f"10.0.6.{n}")
    for spelling in ("\uff53taff2@acme.example", "STAFF2@ACME.EXAMPLE"):
        response = client.post(
            "/accounts/login/",
            {"username": spelling, "password": factories.PASSWORD},
            REMOTE_ADDR="10.0.7.1",
        )
        assert response.status_code == 429, spelling
    assert "_auth_user_id" not in client.session
    assert user.is_active


def test_the_admin_login_is_under_the_same_limits(client, limits):
    statuses = [
        client.post(
            "/admin/login/",
            {"username": "admin@acme.example", "password": f"wrong{n}"},
            REMOTE_ADDR=f"10.0.8.{n}",
        ).status_code
        for n in range(40)
    ]
    assert statuses[:10] == [200] * 10
    assert set(statuses[10:]) == {429}


def test_the_admin_login_and_the_login_share_one_counter_per_account(client, limits):
    for n in range(10):
        login(client, "alice@acme.example", ip=f"10.0.9.{n}")
    response = client.post(
        "/admin/login/",
        {"username": "Alice@acme.example", "password": "x"},
        REMOTE_ADDR="10.0.10.1",
    )
    assert response.status_code == 429


def test_the_admin_login_is_limited_per_address(client, limits):
    for n in range(30):
        client.post(
            "/admin/login/",
            {"username": f"user{n}@example.org", "password": "x"},
            REMOTE_ADDR="10.0.11.1",
        )
    response = client.post(
        "/admin/login/",
        {"username": "someone@example.org", "password": "x"},
        REMOTE_ADDR="10.0.11.1",
    )
    assert response.status_code == 429
