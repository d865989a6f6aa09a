"""Every page of the staff issue × {anonymous, bob = staff of A, alice = manager
of A, charlie = manager of B} → the expected status.

Another organization's objects are a 404 (existence does not leak), and so is a
manager's page about an object for staff; the wrong role on a list or form page in
the same organization is a 403; GET on a POST-only view is a 405.
"""

import pytest
from django.test import Client
from django.urls import reverse

from surveys.models import Role
from tests import factories

pytestmark = pytest.mark.django_db

ANON, BOB, ALICE, CHARLIE = "anonymous", "bob", "alice", "charlie"
LOGIN = "/accounts/login/"


@pytest.fixture
def world(client, alice_client, bob_client, charlie_client, bob, study_a):
    return {
        "clients": {
            ANON: client,
            BOB: bob_client,
            ALICE: alice_client,
            CHARLIE: charlie_client,
        },
        "bob_membership": bob.pk,
        "study_a": study_a.pk,
    }


# (name, method, url maker, {persona: expected status})
PAGES = [
    (
        "staff_list",
        "get",
        lambda w: reverse("staff_list"),
        {ANON: 302, BOB: 403, ALICE: 200, CHARLIE: 200},
    ),
    (
        "staff_add",
        "get",
        lambda w: reverse("staff_add"),
        {ANON: 302, BOB: 403, ALICE: 200, CHARLIE: 200},
    ),
    (
        "staff_add",
        "post",
        lambda w: reverse("staff_add"),
        # An empty form: re-rendered with its errors.
        {ANON: 302, BOB: 403, ALICE: 200, CHARLIE: 200},
    ),
    (
        "staff_import",
        "get",
        lambda w: reverse("staff_import"),
        {ANON: 302, BOB: 403, ALICE: 200, CHARLIE: 200},
    ),
    (
        "staff_import",
        "post",
        lambda w: reverse("staff_import"),
        {ANON: 302, BOB: 403, ALICE: 200, CHARLIE: 200},
    ),
    (
        "staff_import_confirm",
        "get",
        lambda w: reverse("staff_import_confirm"),
        {ANON: 302, BOB: 405, ALICE: 405, CHARLIE: 405},
    ),
    (
        "staff_import_confirm",
        "post",
        lambda w: reverse("staff_import_confirm"),
        # Nothing stashed: back to the staff list with a message.
        {ANON: 302, BOB: 403, ALICE: 302, CHARLIE: 302},
    ),
    (
        "staff_resend",
        "get",
        lambda w: reverse("staff_resend", args=[w["bob_membership"]]),
        {ANON: 302, BOB: 405, ALICE: 405, CHARLIE: 405},
    ),
    (
        "staff_resend",
        "post",
        lambda w: reverse("staff_resend", args=[w["bob_membership"]]),
        {ANON: 302, BOB: 404, ALICE: 302, CHARLIE: 404},
    ),
    (
        "staff_home",
        "get",
        lambda w: reverse("staff_home"),
        # Managers are not respondents: the self-assessment is for staff.
        {ANON: 302, BOB: 200, ALICE: 403, CHARLIE: 403},
    ),
    (
        "assessment",
        "get",
        lambda w: reverse("assessment", args=[w["study_a"]]),
        {ANON: 302, BOB: 200, ALICE: 403, CHARLIE: 404},
    ),
    (
        "assessment",
        "post",
        lambda w: reverse("assessment", args=[w["study_a"]]),
        # An empty draft is a valid save: redirected back to the form.
        {ANON: 302, BOB: 302, ALICE: 403, CHARLIE: 404},
    ),
    (
        "assessment (no such study)",
        "get",
        lambda w: reverse("assessment", args=[w["study_a"] + 10_000]),
        {ANON: 302, BOB: 404, ALICE: 404, CHARLIE: 404},
    ),
]

CASES = [
    pytest.param(
        name,
        method,
        make_url,
        persona,
        expected[persona],
        id=f"{name}-{method}-{persona}",
    )
    for name, method, make_url, expected in PAGES
    for persona in (ANON, BOB, ALICE, CHARLIE)
]


@pytest.mark.parametrize("name, method, make_url, persona, expected", CASES)
def test_page_status_by_persona(world, name, method, make_url, persona, expected):
    client: Client = world["clients"][persona]
    target = make_url(world)
    response = getattr(client, method)(target)
    assert response.status_code == expected, (name, method, persona)
    if persona == ANON:
        assert response["Location"].startswith(LOGIN)


def test_staff_of_another_organization_cannot_open_a_study_of_a(study_a, org_b):
    dave = factories.make_member(org_b, Role.STAFF, email="dave@bright.example")
    client = Client()
    client.force_login(dave.user)
    assert client.get(reverse("assessment", args=[study_a.pk])).status_code == 404
    assert client.post(reverse("assessment", args=[study_a.pk])).status_code == 404
    assert study_a.responses.count() == 0


def test_home_sends_staff_to_their_self_assessments(bob_client):
    response = bob_client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("staff_home")


def test_a_person_with_no_organization_is_refused(client):
    lone = factories.make_user("lone@example.org")
    client.force_login(lone)
    assert client.get(reverse("staff_home")).status_code == 403
    assert client.get(reverse("staff_list")).status_code == 403


def test_a_manager_of_b_who_is_also_staff_of_a_answers_only_as_a_when_a_is_active(
    charlie, charlie_client, org_a, study_a
):
    from surveys.models import Membership

    Membership.objects.create(user=charlie.user, organization=org_a, role=Role.STAFF)
    # Active organization is B (first by name is Acme, so choose B explicitly).
    charlie_client.post(
        reverse("organization_switch"), {"organization": charlie.organization_id}
    )
    assert charlie_client.get(reverse("assessment", args=[study_a.pk])).status_code == (
        404
    )
    charlie_client.post(reverse("organization_switch"), {"organization": org_a.pk})
    assert charlie_client.get(reverse("assessment", args=[study_a.pk])).status_code == (
        200
    )
    assert charlie_client.get(reverse("staff_list")).status_code == 403
