"""Issue 14.5: bounds on what one organization can create (settings
MAX_DEPARTMENTS and MAX_SEGMENTS), and every page stays under a second with the
limits filled."""

import time

import pytest
from django.urls import reverse

from surveys.models import Department, Segment
from surveys.services.contacts import contacts_import_plan
from surveys.services.organizations import (
    OrganizationError,
    department_add,
    segment_add,
)
from tests import factories
from tests.surveys.test_staff import preview as staff_preview

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.MAX_DEPARTMENTS = 3
    settings.MAX_SEGMENTS = 3
    return settings


def test_the_limits_are_200_by_default(settings):
    assert settings.MAX_DEPARTMENTS == 200
    assert settings.MAX_SEGMENTS == 200


def test_adding_a_department_past_the_limit_is_refused(org_a, alice, limits):
    for n in range(3):
        department_add(organization=org_a, name=f"D{n}", actor=alice.user)
    with pytest.raises(OrganizationError, match="at most 3 departments"):
        department_add(organization=org_a, name="One more", actor=alice.user)
    assert Department.objects.filter(organization=org_a).count() == 3


def test_adding_a_segment_past_the_limit_is_refused(org_a, alice, limits):
    for n in range(3):
        segment_add(organization=org_a, name=f"S{n}", weight=None, actor=alice.user)
    with pytest.raises(OrganizationError, match="at most 3 segments"):
        segment_add(organization=org_a, name="One more", weight=None, actor=alice.user)


def test_a_contacts_import_cannot_pass_the_segment_limit(org_a, limits):
    factories.make_segment(org_a, "Old")
    text = "email,segment\n" + "".join(f"c{n}@example.org,New {n}\n" for n in range(4))
    plan = contacts_import_plan(organization=org_a, text=text)
    assert plan.rejects == 4
    assert "at most 3 segments" in plan.rows[0].reason
    assert not plan.can_apply
    # Rows naming existing segments are fine.
    plan = contacts_import_plan(organization=org_a, text="email,segment\na@x.org,old\n")
    assert plan.rejects == 0


def test_a_staff_import_cannot_pass_the_department_limit(alice_client, org_a, limits):
    text = "email,name,department\n" + "".join(
        f"s{n}@acme.example,S {n},Dept {n}\n" for n in range(4)
    )
    plan = staff_preview(alice_client, text).context["plan"]
    assert len(plan.rejected) == 4
    assert "at most 3 departments" in plan.rejected[0].reason


def test_the_contact_form_cannot_pass_the_segment_limit(alice_client, org_a, limits):
    for n in range(3):
        factories.make_segment(org_a, f"S{n}")
    response = alice_client.post(
        reverse("contact_create"), {"email": "x@example.org", "segment": "New"}
    )
    assert Segment.objects.filter(organization=org_a).count() == 3
    assert "at most 3 segments" in response.content.decode()


@pytest.fixture
def filled(org_a, alice, settings):
    """The limits filled: 200 departments, 200 segments, a contact in each
    segment and an open study with invitations."""
    Department.objects.bulk_create(
        Department(organization=org_a, name=f"Department {n:03}")
        for n in range(settings.MAX_DEPARTMENTS)
    )
    segments = Segment.objects.bulk_create(
        Segment(organization=org_a, name=f"Segment {n:03}")
        for n in range(settings.MAX_SEGMENTS)
    )
    study = factories.make_study(org_a, status="open")
    for segment in segments:
        contact = factories.make_contact(org_a, segment=segment)
        factories.make_invitation(study, contact)
    return study


PAGES = [
    ("organization_edit", False),
    ("contact_list", False),
    ("staff_list", False),
    ("staff_add", False),
    ("contact_create", False),
    ("study_detail", True),
    ("invitation_list", True),
    ("response_rates", True),
    ("dashboard", True),
]


@pytest.mark.parametrize(("name", "needs_study"), PAGES, ids=[p[0] for p in PAGES])
def test_every_page_answers_within_a_second_at_the_limits(
    alice_client, filled, name, needs_study
):
    url = reverse(name, args=[filled.pk] if needs_study else [])
    alice_client.get(url)  # warm up (templates, caches)
    started = time.perf_counter()
    response = alice_client.get(url)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert elapsed < 1.0, f"{name} took {elapsed:.2f} s"


def test_the_organization_page_pages_its_departments_and_segments(alice_client, filled):
    html = alice_client.get(reverse("organization_edit")).content.decode()
    assert "Department 000" in html and "Department 030" not in html
    assert 'aria-label="Pages of departments"' in html
    assert "?segments=2" in html
    html = alice_client.get(
        reverse("organization_edit") + "?segments=2"
    ).content.decode()
    assert "Segment 030" in html and "Segment 000" not in html
    assert "Department 000" in html
