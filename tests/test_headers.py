import pytest

pytestmark = pytest.mark.django_db


def test_every_page_carries_a_strict_content_security_policy(client):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    directives = dict((part.split(" ", 1) + [""])[:2] for part in policy.split("; "))
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


def test_pages_may_not_be_framed(client):
    assert client.get("/accounts/login/")["X-Frame-Options"] == "DENY"


def test_the_login_page_has_no_inline_script(client):
    html = client.get("/accounts/login/").content.decode()
    assert "<script>" not in html
    assert "<script src=" in html
