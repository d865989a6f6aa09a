"""Importing contacts from CSV: preview every row, then all or nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from surveys.csv_upload import CsvError
from surveys.models import AuditEvent, Contact, Segment
from surveys.services.contacts import (
    ContactError,
    contacts_import,
    contacts_import_plan,
)
from tests import factories


def _upload(text: str | bytes, name="contacts.csv"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


def _preview(client, text):
    return client.post(reverse("contact_import"), {"file": _upload(text)})


def _actions(plan):
    return [(row.line, row.action, row.reason) for row in plan.rows]


# --- the plan ------------------------------------------------------------------------


def test_it_classifies_rows_as_create_update_unchanged(org_a):
    retail = factories.make_segment(org_a, "Retail")
    factories.make_contact(org_a, email="old@example.com", name="Old", segment=retail)
    factories.make_contact(org_a, email="same@example.com", name="Same")
    plan = contacts_import_plan(
        organization=org_a,
        text="email,name,segment\n"
        "new@example.com,New,Retail\n"
        "OLD@example.com,Old Renamed,\n"
        "same@example.com,Same,\n",
    )
    assert [(r.line, r.action) for r in plan.rows] == [
        (2, "create"),
        (3, "update"),
        (4, "unchanged"),
    ]
    assert plan.can_apply


def test_it_rejects_bad_rows_with_line_and_reason(org_a):
    plan = contacts_import_plan(
        organization=org_a,
        text="email,name,segment\n"
        "ok@example.com,Ok,\n"
        "not-an-email,Bad,\n"
        ",No email,\n"
        "OK@example.com,Twice,\n"
        "extra@example.com,Extra,Seg,surplus\n",
    )
    assert _actions(plan) == [
        (2, "create", ""),
        (3, "reject", "Invalid email address."),
        (4, "reject", "Missing email."),
        (5, "reject", "Duplicate in the file: same email as line 2."),
        (6, "reject", "More cells than columns in the header row."),
    ]
    assert not plan.can_apply


def test_a_missing_column_is_refused_with_its_name(org_a):
    with pytest.raises(CsvError, match="missing column: email"):
        contacts_import_plan(organization=org_a, text="name,segment\nPat,Retail\n")


def test_an_unknown_column_is_refused_with_its_name(org_a):
    with pytest.raises(CsvError, match="Unknown column: phone"):
        contacts_import_plan(
            organization=org_a, text="email,phone\npat@example.com,123\n"
        )


def test_semicolons_and_a_byte_order_mark_are_understood(alice_client, org_a):
    text = "\ufeffEmail;Name;Segment\npat@example.com;Pat;Retail\n"
    page = _preview(alice_client, text)
    plan = page.context["plan"]
    assert [(r.email, r.name, r.segment, r.action) for r in plan.rows] == [
        ("pat@example.com", "Pat", "Retail", "create")
    ]


def test_name_and_segment_columns_are_optional(org_a):
    plan = contacts_import_plan(organization=org_a, text="email\npat@example.com\n")
    assert plan.rows[0].action == "create"


# --- applying ----------------------------------------------------------------------


def test_applying_creates_updates_and_makes_segments(org_a):
    factories.make_contact(org_a, email="old@example.com", name="Old")
    contacts_import(
        organization=org_a,
        actor=None,
        text="email,name,segment\nnew@example.com,New,Retail\n"
        "old@example.com,,retail\n",
    )
    assert Contact.objects.get(email="new@example.com").segment.name == "Retail"
    old = Contact.objects.get(email="old@example.com")
    assert old.name == "Old"  # an empty cell leaves the name as it is
    assert old.segment.name == "Retail"
    assert Segment.objects.filter(organization=org_a).count() == 1
    assert AuditEvent.objects.get(action="contacts_import").detail["created"] == 1


def test_a_file_with_any_rejected_row_changes_nothing(org_a):
    with pytest.raises(ContactError):
        contacts_import(
            organization=org_a,
            actor=None,
            text="email,segment\ngood@example.com,New segment\nbad,\n",
        )
    assert not Contact.objects.exists()
    assert not Segment.objects.exists()


def test_an_import_never_undoes_an_opt_out(org_a):
    factories.make_contact(org_a, email="gone@example.com", opted_out_at=timezone.now())
    contacts_import(
        organization=org_a, actor=None, text="email,name\ngone@example.com,Back\n"
    )
    assert Contact.objects.get(email="gone@example.com").opted_out_at is not None


# --- the pages ---------------------------------------------------------------------


def test_the_preview_lists_every_row_and_writes_nothing(alice_client):
    page = _preview(
        alice_client, "email,name\na@example.com,A\nb@example.com,B\nnope,C\n"
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "a@example.com" in html and "b@example.com" in html
    assert "Invalid email address." in html
    assert "Nothing has been imported" in html
    assert 'action="/contacts/import/confirm/"' not in html
    assert not Contact.objects.exists()


def test_preview_then_confirm_imports_all_rows(alice_client, org_a):
    page = _preview(alice_client, "email,name,segment\na@example.com,A,Retail\n")
    key = page.context["key"]
    response = alice_client.post(reverse("contact_import_confirm"), {"key": key})
    assert response.status_code == 302
    assert Contact.objects.get(organization=org_a).email == "a@example.com"


def test_a_second_confirm_applies_nothing(alice_client, org_a):
    page = _preview(alice_client, "email\na@example.com\n")
    key = page.context["key"]
    alice_client.post(reverse("contact_import_confirm"), {"key": key})
    Contact.objects.all().delete()
    response = alice_client.post(
        reverse("contact_import_confirm"), {"key": key}, follow=True
    )
    assert b"was already applied, has expired" in response.content
    assert not Contact.objects.exists()


def test_a_forged_confirm_key_applies_nothing(alice_client):
    alice_client.post(reverse("contact_import_confirm"), {"key": "forged"})
    assert not Contact.objects.exists()


def test_an_oversized_file_gets_a_clear_message(alice_client, settings):
    settings.MAX_UPLOAD_BYTES = 100
    page = _preview(alice_client, "email\n" + "x@example.com\n" * 20)
    assert b"too large" in page.content
    assert page.context["plan"] is None


def test_too_many_rows_get_a_clear_message(alice_client, settings):
    settings.MAX_IMPORT_ROWS = 2
    page = _preview(alice_client, "email\na@e.com\nb@e.com\nc@e.com\n")
    assert b"more than 2 rows" in page.content


def test_a_file_that_is_not_utf8_gets_a_clear_message(alice_client):
    page = _preview(
        alice_client, "email,name\nj@example.com,J\xf6rg\n".encode("latin-1")
    )
    assert b"not UTF-8" in page.content


def test_an_empty_file_gets_a_clear_message(alice_client):
    page = alice_client.post(
        reverse("contact_import"), {"file": _upload(" \n", name="empty.csv")}
    )
    assert b"empty" in page.content
    assert not Contact.objects.exists()


def test_the_import_lands_in_the_managers_own_organization(
    charlie_client, org_a, org_b
):
    page = _preview(charlie_client, "email\na@example.com\n")
    charlie_client.post(reverse("contact_import_confirm"), {"key": page.context["key"]})
    assert Contact.objects.get().organization == org_b


def test_staff_cannot_import(bob_client):
    response = bob_client.post(
        reverse("contact_import"), {"file": _upload("email\na@example.com\n")}
    )
    assert response.status_code == 403
    assert bob_client.post(reverse("contact_import_confirm")).status_code == 403


def test_anonymous_cannot_confirm(client, db):
    response = client.post(reverse("contact_import_confirm"), {"key": "x"})
    assert response.status_code == 302
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("separator", "named"),
    [("\t", "tabs"), ("|", "vertical bars (|)")],
)
def test_a_header_in_one_column_names_the_separator_it_holds(separator, named):
    from surveys.csv_upload import CsvError, csv_rows

    text = separator.join(["email", "name", "segment"]) + "\na@example.com\n"
    with pytest.raises(CsvError) as error:
        csv_rows(text, required=["email"], optional=["name", "segment"])
    assert f"The header is one column separated by {named}" in str(error.value)
