"""The organization settings page: name, departments, segments with weights."""

import re
from decimal import Decimal

import pytest

from surveys.models import AuditEvent, Department, Segment
from tests import factories

pytestmark = pytest.mark.django_db


URL = "/organization/"


def test_a_manager_sees_the_settings_of_their_organization(alice_client, org_a):
    factories.make_department(org_a, "Support")
    factories.make_segment(org_a, "Retail", weight=Decimal("0.6"))
    response = alice_client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Acme Services" in body
    assert 'value="Support"' in body
    assert 'value="Retail"' in body
    assert 'value="0.600"' in body


def test_a_manager_renames_the_organization(alice_client, alice, org_a):
    response = alice_client.post(URL, {"name": "  Acme   Global "})
    assert response.status_code == 302
    org_a.refresh_from_db()
    assert org_a.name == "Acme Global"
    event = AuditEvent.objects.get(action="organization_update")
    assert event.actor == alice.user
    assert event.detail["old_name"] == "Acme Services"


def test_a_blank_name_is_refused_with_a_message(alice_client, org_a):
    response = alice_client.post(URL, {"name": "  "})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    org_a.refresh_from_db()
    assert org_a.name == "Acme Services"


def test_a_manager_adds_a_department(alice_client, org_a):
    response = alice_client.post(
        "/organization/departments/add/", {"new-name": "Sales"}
    )
    assert response.status_code == 302
    assert list(org_a.departments.values_list("name", flat=True)) == ["Sales"]
    assert AuditEvent.objects.filter(action="department_add").exists()


def test_a_duplicate_department_is_refused_keeping_what_was_typed(alice_client, org_a):
    factories.make_department(org_a, "Sales")
    response = alice_client.post(
        "/organization/departments/add/", {"new-name": "SALES"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "There is already a department called “SALES”" in body
    assert 'value="SALES"' in body
    assert org_a.departments.count() == 1


def test_the_same_department_name_is_fine_in_another_organization(
    alice_client, org_a, org_b
):
    factories.make_department(org_b, "Sales")
    alice_client.post("/organization/departments/add/", {"new-name": "Sales"})
    assert org_a.departments.filter(name="Sales").exists()


def test_a_manager_renames_a_department(alice_client, support):
    url = f"/organization/departments/{support.pk}/rename/"
    response = alice_client.post(url, {f"department-{support.pk}-name": "Care"})
    assert response.status_code == 302
    support.refresh_from_db()
    assert support.name == "Care"
    assert AuditEvent.objects.filter(action="department_rename").exists()


def test_renaming_to_a_taken_name_keeps_what_was_typed(alice_client, org_a, support):
    factories.make_department(org_a, "Sales")
    url = f"/organization/departments/{support.pk}/rename/"
    response = alice_client.post(url, {f"department-{support.pk}-name": "sales"})
    assert response.status_code == 200
    assert 'value="sales"' in response.content.decode()
    support.refresh_from_db()
    assert support.name == "Support"


def test_removing_a_department_keeps_its_staff_without_department(
    alice_client, bob, support
):
    response = alice_client.post(f"/organization/departments/{support.pk}/remove/")
    assert response.status_code == 302
    assert not Department.objects.filter(pk=support.pk).exists()
    bob.refresh_from_db()
    assert bob.department is None
    assert AuditEvent.objects.filter(action="department_remove").exists()


def test_a_manager_adds_a_segment_with_a_weight(alice_client, org_a):
    response = alice_client.post(
        "/organization/segments/add/", {"new-name": "Retail", "new-weight": "0.25"}
    )
    assert response.status_code == 302
    segment = org_a.segments.get()
    assert (segment.name, segment.weight) == ("Retail", Decimal("0.250"))
    assert AuditEvent.objects.filter(action="segment_add").exists()


def test_a_segment_weight_is_optional(alice_client, org_a):
    alice_client.post("/organization/segments/add/", {"new-name": "Online"})
    assert org_a.segments.get().weight is None


def test_a_negative_weight_is_refused_keeping_what_was_typed(alice_client, org_a):
    response = alice_client.post(
        "/organization/segments/add/", {"new-name": "Retail", "new-weight": "-1"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "greater than or equal to 0" in body
    assert 'value="Retail"' in body
    assert not org_a.segments.exists()


def test_a_manager_edits_a_segment(alice_client, org_a):
    segment = factories.make_segment(org_a, "Retail")
    response = alice_client.post(
        f"/organization/segments/{segment.pk}/edit/",
        {f"segment-{segment.pk}-name": "Shops", f"segment-{segment.pk}-weight": "2"},
    )
    assert response.status_code == 302
    segment.refresh_from_db()
    assert (segment.name, segment.weight) == ("Shops", Decimal("2"))
    assert AuditEvent.objects.filter(action="segment_update").exists()


def test_a_manager_removes_a_segment_and_its_contacts_stay(alice_client, org_a):
    segment = factories.make_segment(org_a, "Retail")
    contact = factories.make_contact(org_a, segment=segment)
    response = alice_client.post(f"/organization/segments/{segment.pk}/remove/")
    assert response.status_code == 302
    assert not Segment.objects.filter(pk=segment.pk).exists()
    contact.refresh_from_db()
    assert contact.segment is None
    assert AuditEvent.objects.get(action="segment_remove").target == "Retail"


# --- permissions -------------------------------------------------------------


@pytest.fixture
def objects(org_a, support):
    segment = factories.make_segment(org_a, "Retail")
    return {"department": support.pk, "segment": segment.pk}


PAGES = [
    ("get", "/organization/"),
    ("post", "/organization/departments/add/"),
    ("post", "/organization/departments/{department}/rename/"),
    ("post", "/organization/departments/{department}/remove/"),
    ("post", "/organization/segments/add/"),
    ("post", "/organization/segments/{segment}/edit/"),
    ("post", "/organization/segments/{segment}/remove/"),
]


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_anonymous_people_are_sent_to_log_in(client, objects, method, url):
    response = getattr(client, method)(url.format(**objects))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_staff_are_refused(bob_client, objects, method, url):
    response = getattr(bob_client, method)(url.format(**objects))
    # A page about an object is a 404 to staff; the others explain with a 403.
    assert response.status_code == (404 if "{" in url else 403)


@pytest.mark.parametrize(
    "url", [u for m, u in PAGES if "{" in u], ids=lambda u: u.split("/")[2]
)
def test_another_organizations_department_or_segment_is_a_404(
    charlie_client, objects, url
):
    response = charlie_client.post(url.format(**objects), {"x": "y"})
    assert response.status_code == 404
    assert Department.objects.filter(pk=objects["department"]).exists()
    assert Segment.objects.filter(pk=objects["segment"]).exists()


def test_charlie_sees_only_his_own_organization(charlie_client, objects):
    body = charlie_client.get("/organization/").content.decode()
    assert "Brightside Ltd" in body
    assert "Support" not in body
    assert "Retail" not in body


@pytest.mark.parametrize(("method", "url"), [p for p in PAGES if p[0] == "post"])
def test_post_only_pages_refuse_get(alice_client, objects, method, url):
    assert alice_client.get(url.format(**objects)).status_code == 405


def test_every_workspace_page_shows_the_active_organization(alice_client):
    for url in ("/studies/", "/questionnaires/", "/organization/", "/studies/new/"):
        body = alice_client.get(url).content.decode()
        assert 'data-testid="active-organization"' in body, url
        assert "Acme Services" in body, url


def test_a_manager_of_two_organizations_switches_between_them(alice, org_b):
    from django.test import Client

    from surveys.models import Membership, Role

    factories.make_department(org_b, "Brightside desk")
    Membership.objects.create(user=alice.user, organization=org_b, role=Role.MANAGER)
    client = Client()
    client.force_login(alice.user)
    assert "Brightside desk" not in client.get(URL).content.decode()
    client.post("/organization/switch/", {"organization": org_b.pk})
    body = client.get(URL).content.decode()
    assert 'value="Brightside desk"' in body
    assert "Brightside Ltd: settings" in body


def test_each_add_forms_label_points_at_its_own_input(alice_client):
    html = alice_client.get("/organization/").content.decode()
    ids = re.findall(r'<input[^>]* id="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert 'for="id_department_new-name"' in html
    assert 'for="id_segment_new-name"' in html
