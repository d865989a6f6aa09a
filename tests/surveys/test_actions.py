"""Actions per gap: managers add, edit and close them; nobody else can."""

import datetime

import pytest
from django.urls import reverse

from surveys.models import Action, AuditEvent
from surveys.services.actions import action_close, action_create, action_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def action(study_a, alice):
    return action_create(
        study=study_a,
        actor=alice.user,
        gap="delivery",
        description="Answer every call within a day",
        owner="Support lead",
    )


def _pages(study, action) -> dict:
    return {
        "action_list": reverse("action_list"),
        "action_create": reverse("action_create", args=[study.pk]),
        "action_edit": reverse("action_edit", args=[action.pk]),
    }


@pytest.mark.parametrize("name", ["action_list", "action_create", "action_edit"])
def test_anonymous_is_sent_to_login(client, study_a, action, name):
    response = client.get(_pages(study_a, action)[name])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("name", "status"),
    [("action_list", 403), ("action_create", 404), ("action_edit", 404)],
)
def test_staff_are_refused(bob_client, study_a, action, name, status):
    # A page about an object is a 404 to staff; a list explains with a 403.
    assert bob_client.get(_pages(study_a, action)[name]).status_code == status


@pytest.mark.parametrize("name", ["action_create", "action_edit"])
def test_another_organizations_manager_gets_404(charlie_client, study_a, action, name):
    assert charlie_client.get(_pages(study_a, action)[name]).status_code == 404


def test_another_organizations_manager_sees_none_of_the_actions(charlie_client, action):
    response = charlie_client.get(reverse("action_list"))
    assert response.status_code == 200
    assert "Answer every call" not in response.content.decode()


def test_close_is_post_only(alice_client, action):
    response = alice_client.get(reverse("action_close", args=[action.pk]))
    assert response.status_code == 405


def test_another_organization_cannot_close(charlie_client, action):
    response = charlie_client.post(reverse("action_close", args=[action.pk]))
    assert response.status_code == 404
    action.refresh_from_db()
    assert action.status == Action.Status.PLANNED


def test_a_manager_adds_an_action_to_a_gap(alice_client, study_a):
    response = alice_client.post(
        reverse("action_create", args=[study_a.pk]),
        {
            "gap": "knowledge",
            "description": "  Interview ten customers  ",
            "owner": "Dana",
            "due_on": "2026-12-31",
            "status": "planned",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard", args=[study_a.pk])
    action = Action.objects.get()
    assert action.organization == study_a.organization
    assert action.study == study_a
    assert action.description == "Interview ten customers"
    assert action.due_on == datetime.date(2026, 12, 31)
    assert AuditEvent.objects.filter(action="action_create").exists()


def test_the_form_preselects_the_gap_from_the_dashboard_link(alice_client, study_a):
    response = alice_client.get(
        reverse("action_create", args=[study_a.pk]) + "?gap=perception"
    )
    assert response.context["form"].initial["gap"] == "perception"


def test_an_action_needs_a_description_and_a_real_gap(alice_client, study_a):
    response = alice_client.post(
        reverse("action_create", args=[study_a.pk]),
        {"gap": "vibes", "description": "", "status": "planned"},
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"gap", "description"}
    assert not Action.objects.exists()


def test_a_manager_edits_an_action(alice_client, action):
    response = alice_client.post(
        reverse("action_edit", args=[action.pk]),
        {
            "gap": "delivery",
            "description": "Answer every call within four hours",
            "owner": "Support lead",
            "due_on": "",
            "status": "in_progress",
        },
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.description == "Answer every call within four hours"
    assert action.status == Action.Status.IN_PROGRESS
    assert action.closed_at is None


def test_a_manager_closes_an_action(alice_client, action):
    response = alice_client.post(reverse("action_close", args=[action.pk]))
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.status == Action.Status.DONE
    assert action.closed_at is not None
    assert AuditEvent.objects.filter(action="action_close").exists()


def test_closing_keeps_the_first_close_time_and_reopening_clears_it(action, alice):
    action_close(action=action, actor=alice.user)
    closed_at = action.closed_at
    action_close(action=action, actor=alice.user, status=Action.Status.DROPPED)
    assert action.closed_at == closed_at
    action_update(
        action=action,
        actor=alice.user,
        gap="delivery",
        description=action.description,
        status=Action.Status.PLANNED,
    )
    assert action.closed_at is None


def test_an_action_cannot_be_closed_as_planned(action, alice):
    with pytest.raises(ValueError):
        action_close(action=action, actor=alice.user, status=Action.Status.PLANNED)


def test_the_list_groups_actions_by_gap_and_escapes_them(alice_client, study_a, alice):
    action_create(
        study=study_a,
        actor=alice.user,
        gap="communication",
        description="<script>alert(1)</script>",
    )
    html = alice_client.get(reverse("action_list")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert html.index('id="actions-delivery"') < html.index(
        'id="actions-communication"'
    )


def test_the_nav_links_to_actions_for_managers_only(alice_client, bob_client):
    assert (
        reverse("action_list")
        in alice_client.get(reverse("action_list")).content.decode()
    )
    staff_page = bob_client.get(reverse("staff_home")).content.decode()
    assert reverse("action_list") not in staff_page
