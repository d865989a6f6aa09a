"""Personas, in the spirit of healthchecks' alice/bob/charlie:

- alice: manager of organization A
- bob: staff member of A (department "Support")
- charlie: manager of organization B, who must see nothing of A
"""

import pytest
from django.test import Client

from surveys.models import Role
from tests import factories


@pytest.fixture(autouse=True)
def _test_settings(settings):
    """Tests send many requests from one address; tests/test_ratelimit.py turns the
    limits back on where they are the point. A fast hasher: password hashing is
    deliberately slow and the suite makes hundreds of users."""
    settings.RATE_LIMITS_ENABLED = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_items_kept_from_another_test():
    """The process keeps questionnaires' items by (id, items revision)
    (surveys.selectors); test databases reuse ids (a transactional test's flush
    restarts the sequences on PostgreSQL), so a later test's questionnaire could
    find an earlier one's items. Each test starts with none kept."""
    from surveys.selectors import _ITEMS

    _ITEMS.clear()


@pytest.fixture
def org_a(db):
    return factories.make_organization(name="Acme Services", slug="acme")


@pytest.fixture
def org_b(db):
    return factories.make_organization(name="Brightside Ltd", slug="brightside")


@pytest.fixture
def support(org_a):
    return factories.make_department(org_a, "Support")


@pytest.fixture
def alice(org_a):
    return factories.make_member(org_a, Role.MANAGER, email="alice@acme.example")


@pytest.fixture
def bob(org_a, support):
    return factories.make_member(org_a, Role.STAFF, support, email="bob@acme.example")


@pytest.fixture
def charlie(org_b):
    return factories.make_member(org_b, Role.MANAGER, email="charlie@bright.example")


def _client_for(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


@pytest.fixture
def alice_client(alice):
    return _client_for(alice)


@pytest.fixture
def bob_client(bob):
    return _client_for(bob)


@pytest.fixture
def charlie_client(charlie):
    return _client_for(charlie)


@pytest.fixture
def study_a(org_a):
    return factories.make_study(org_a, name="Acme wave 1")


@pytest.fixture
def on_postgres(settings):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://...)")
    return True


@pytest.fixture(scope="session")
def redis_server():
    """Redis on 127.0.0.1:6379, for the RQ backend's tests. Skipped on a laptop
    without it; in CI (CI=true, where .ci/run starts Redis) its absence fails."""
    import os
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        if os.environ.get("CI"):
            pytest.fail("Redis is not answering on 127.0.0.1:6379")
        pytest.skip("needs Redis on 127.0.0.1:6379 (the RQ backend)")


@pytest.fixture
def mail_sink(settings):
    """Django's mail goes over SMTP to a real aiosmtpd server on 127.0.0.1."""
    from tests.smtp_sink import SmtpSink

    sink = SmtpSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    yield sink
    sink.stop()
