"""Managers' contacts pages: list, add, edit, remove, and who may see them."""

import pytest
from django.urls import reverse
from django.utils import timezone

from surveys.models import AuditEvent, Contact, Invitation, Segment
from surveys.services.contacts import ContactError, contact_create
from tests import factories


@pytest.fixture
def pat(org_a):
    return factories.make_contact(org_a, email="pat@example.com", name="Pat Doe")


# --- permissions ---------------------------------------------------------------------


def _pages(contact_id):
    return {
        "contact_list": reverse("contact_list"),
        "contact_create": reverse("contact_create"),
        "contact_edit": reverse("contact_edit", args=[contact_id]),
        "contact_import": reverse("contact_import"),
    }


@pytest.mark.parametrize(
    "name", ["contact_list", "contact_create", "contact_edit", "contact_import"]
)
def test_anonymous_is_sent_to_login(client, pat, name):
    response = client.get(_pages(pat.pk)[name])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("contact_list", 403),
        ("contact_create", 403),
        ("contact_edit", 404),
        ("contact_import", 403),
    ],
)
def test_staff_are_refused(bob_client, pat, name, status):
    # A page about an object is a 404 to staff; a list or form explains with a 403.
    assert bob_client.get(_pages(pat.pk)[name]).status_code == status


@pytest.mark.parametrize(
    "name", ["contact_list", "contact_create", "contact_edit", "contact_import"]
)
def test_the_manager_gets_200(alice_client, pat, name):
    assert alice_client.get(_pages(pat.pk)[name]).status_code == 200


def test_another_organizations_manager_gets_404_on_a_contact(charlie_client, pat):
    assert charlie_client.get(reverse("contact_edit", args=[pat.pk])).status_code == 404
    response = charlie_client.post(reverse("contact_delete", args=[pat.pk]))
    assert response.status_code == 404
    assert Contact.objects.filter(pk=pat.pk).exists()


def test_another_organizations_manager_sees_none_of_our_contacts(charlie_client, pat):
    page = charlie_client.get(reverse("contact_list"))
    assert page.status_code == 200
    assert b"pat@example.com" not in page.content


@pytest.mark.parametrize(
    "url_name, args",
    [("contact_delete", True), ("contact_import_confirm", False)],
)
def test_post_only_views_refuse_get(alice_client, pat, url_name, args):
    url = reverse(url_name, args=[pat.pk] if args else [])
    assert alice_client.get(url).status_code == 405


def test_staff_cannot_delete(bob_client, pat):
    assert bob_client.post(reverse("contact_delete", args=[pat.pk])).status_code == 404
    assert Contact.objects.filter(pk=pat.pk).exists()


def test_the_nav_shows_contacts_to_managers_only(alice_client, bob_client, pat):
    url = reverse("contact_list")
    assert url.encode() in alice_client.get(url).content
    staff_page = bob_client.get(reverse("password_change"))
    assert url.encode() not in staff_page.content


# --- list --------------------------------------------------------------------------


def test_the_list_searches_email_and_name(alice_client, org_a, pat):
    factories.make_contact(org_a, email="sam@example.com", name="Sam Roe")
    page = alice_client.get(reverse("contact_list"), {"q": "doe"})
    assert b"pat@example.com" in page.content
    assert b"sam@example.com" not in page.content


def test_the_list_filters_by_segment(alice_client, org_a, pat):
    retail = factories.make_segment(org_a, "Retail")
    factories.make_contact(org_a, email="shop@example.com", segment=retail)
    page = alice_client.get(reverse("contact_list"), {"segment": retail.pk})
    assert b"shop@example.com" in page.content
    assert b"pat@example.com" not in page.content


def test_the_list_shows_who_opted_out(alice_client, pat):
    pat.opted_out_at = timezone.now()
    pat.save()
    assert b"Opted out" in alice_client.get(reverse("contact_list")).content


def test_the_list_is_paginated_and_keeps_the_filter(alice_client, org_a):
    for n in range(55):
        factories.make_contact(org_a, email=f"c{n:02d}@example.com", name="Many")
    first = alice_client.get(reverse("contact_list"), {"q": "many"})
    assert first.context["page"].paginator.num_pages == 2
    assert b"q=many&amp;page=2" in first.content
    second = alice_client.get(reverse("contact_list"), {"q": "many", "page": 2})
    assert len(second.context["page"].object_list) == 5


def test_names_are_escaped(alice_client, org_a):
    factories.make_contact(org_a, name="<script>alert(1)</script>")
    page = alice_client.get(reverse("contact_list")).content
    assert b"<script>alert(1)</script>" not in page
    assert b"&lt;script&gt;" in page


# --- add, edit, remove -------------------------------------------------------------


def test_adding_a_contact_creates_its_new_segment(alice_client, org_a):
    response = alice_client.post(
        reverse("contact_create"),
        {"email": "new@example.com", "name": "New One", "segment": "  Large   firms "},
    )
    assert response.status_code == 302
    contact = Contact.objects.get(email="new@example.com")
    assert contact.segment.name == "Large firms"
    assert AuditEvent.objects.filter(action="contact_create").exists()


def test_adding_reuses_a_segment_whatever_its_case(alice_client, org_a):
    retail = factories.make_segment(org_a, "Retail")
    alice_client.post(
        reverse("contact_create"), {"email": "a@example.com", "segment": "RETAIL"}
    )
    assert Contact.objects.get(email="a@example.com").segment == retail
    assert Segment.objects.filter(organization=org_a).count() == 1


def test_adding_an_existing_email_in_any_case_is_refused(alice_client, pat):
    page = alice_client.post(reverse("contact_create"), {"email": "PAT@example.com"})
    assert page.status_code == 200
    assert b"already a contact" in page.content
    assert Contact.objects.count() == 1


def test_the_same_email_may_be_a_contact_of_another_organization(org_b, pat):
    contact_create(organization=org_b, actor=None, email="pat@example.com")
    with pytest.raises(ContactError):
        contact_create(organization=org_b, actor=None, email="Pat@Example.com")


def test_an_invalid_email_is_refused(alice_client, org_a):
    page = alice_client.post(reverse("contact_create"), {"email": "not-an-email"})
    assert page.status_code == 200
    assert not Contact.objects.exists()


def test_editing_changes_email_name_and_segment(alice_client, pat):
    response = alice_client.post(
        reverse("contact_edit", args=[pat.pk]),
        {"email": "pat.doe@example.com", "name": "Pat D.", "segment": "Retail"},
    )
    assert response.status_code == 302
    pat.refresh_from_db()
    assert (pat.email, pat.name, pat.segment.name) == (
        "pat.doe@example.com",
        "Pat D.",
        "Retail",
    )


def test_editing_to_another_contacts_email_is_refused(alice_client, org_a, pat):
    other = factories.make_contact(org_a, email="other@example.com")
    page = alice_client.post(
        reverse("contact_edit", args=[other.pk]), {"email": "pat@example.com"}
    )
    assert b"already another contact" in page.content
    other.refresh_from_db()
    assert other.email == "other@example.com"


def test_removing_a_contact_keeps_its_invitations_answers(alice_client, pat, study_a):
    invitation, _ = factories.make_invitation(study_a, contact=pat)
    response = alice_client.post(reverse("contact_delete", args=[pat.pk]))
    assert response.status_code == 302
    assert not Contact.objects.filter(pk=pat.pk).exists()
    invitation.refresh_from_db()
    assert invitation.contact is None
    assert Invitation.objects.filter(pk=invitation.pk).exists()
    assert AuditEvent.objects.filter(action="contact_delete").exists()
