"""The audit log: every manager action worth answering for is recorded with its
actor, and the managers of the organization — only they — can read it."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from surveys.audit import audit_record
from surveys.models import AuditEvent, Study
from tests import factories

pytestmark = pytest.mark.django_db

URL = reverse("audit_log")
ROW_RE = re.compile(r'<tr data-action="([a-z_]+)">')
TODAY = timezone.localdate()


def rows(response) -> list[str]:
    """The actions of the rows shown, top to bottom."""
    assert response.status_code == 200
    return ROW_RE.findall(response.content.decode())


# --- every listed action is recorded, with the manager who did it ---------------------


@pytest.fixture
def questionnaire(org_a):
    return factories.make_questionnaire(organization=org_a)


def _study(org_a, questionnaire, status):
    return factories.make_study(
        org_a,
        questionnaire=questionnaire,
        status=status,
        closes_on=TODAY + timedelta(days=30),
    )


def invite(client, org_a, questionnaire):
    study = _study(org_a, questionnaire, Study.Status.OPEN)
    factories.make_contact(org_a)
    client.post(reverse("invitation_list", args=[study.pk]), {"segment": ""})


def remind(client, org_a, questionnaire):
    study = _study(org_a, questionnaire, Study.Status.OPEN)
    client.post(reverse("invitation_remind", args=[study.pk]))


def export_results(client, org_a, questionnaire):
    study = _study(org_a, questionnaire, Study.Status.OPEN)
    client.get(reverse("export", args=[study.pk, "gaps", "csv"]))


def export_contact(client, org_a, questionnaire):
    contact = factories.make_contact(org_a)
    client.get(reverse("contact_export", args=[contact.pk]))


def erase_contact(client, org_a, questionnaire):
    contact = factories.make_contact(org_a)
    client.post(reverse("contact_erase", args=[contact.pk]))


def study_data(questionnaire) -> dict:
    return {
        "name": "Audited wave",
        "questionnaire": questionnaire.pk,
        "opens_on": (TODAY + timedelta(days=1)).isoformat(),
        "closes_on": (TODAY + timedelta(days=30)).isoformat(),
        "introduction": "",
        "min_group_size": "5",
        "reminder_interval_days": "7",
        "max_reminders": "2",
    }


def create_study(client, org_a, questionnaire):
    client.post(reverse("study_create"), study_data(questionnaire))


def edit_study(client, org_a, questionnaire):
    study = _study(org_a, questionnaire, Study.Status.DRAFT)
    client.post(reverse("study_edit", args=[study.pk]), study_data(questionnaire))


def open_study(client, org_a, questionnaire):
    study = _study(org_a, questionnaire, Study.Status.DRAFT)
    client.post(reverse("study_open", args=[study.pk]), {"confirm": "yes"})


def close_study(client, org_a, questionnaire):
    study = _study(org_a, questionnaire, Study.Status.OPEN)
    client.post(reverse("study_close", args=[study.pk]))


def reopen_study(client, org_a, questionnaire):
    study = _study(org_a, questionnaire, Study.Status.CLOSED)
    until = (TODAY + timedelta(days=10)).isoformat()
    client.post(reverse("study_reopen", args=[study.pk]), {"closes_on": until})


def add_staff(client, org_a, questionnaire):
    client.post(reverse("staff_add"), {"email": "new@acme.example", "name": "New One"})


def import_contacts(client, org_a, questionnaire):
    upload = SimpleUploadedFile(
        "contacts.csv", b"email,name\nimported@example.com,Imp\n", "text/csv"
    )
    page = client.post(reverse("contact_import"), {"file": upload})
    client.post(reverse("contact_import_confirm"), {"key": page.context["key"]})


def delete_contact(client, org_a, questionnaire):
    contact = factories.make_contact(org_a)
    client.post(reverse("contact_delete", args=[contact.pk]))


ACTIONS = [
    (invite, "invitations_create", "Invited contacts"),
    (remind, "reminders_request", "Sent reminders"),
    (export_results, "study_export", "Exported study results"),
    (export_contact, "contact_export", "Exported a contact&#x27;s data"),
    (erase_contact, "contact_erase", "Erased a contact"),
    (create_study, "study_create", "Created a study"),
    (edit_study, "study_update", "Edited a study"),
    (open_study, "study_open", "Opened a study"),
    (close_study, "study_close", "Closed a study"),
    (reopen_study, "study_reopen", "Reopened a study"),
    (add_staff, "staff_add", "Added a staff member"),
    (import_contacts, "contacts_import", "Imported contacts"),
    (delete_contact, "contact_delete", "Removed a contact"),
]


@pytest.mark.parametrize(
    ("do", "action", "label"), ACTIONS, ids=[a for _, a, _ in ACTIONS]
)
def test_the_action_is_recorded_with_its_actor_and_shown(
    do, action, label, alice, alice_client, org_a, questionnaire, mailoutbox
):
    do(alice_client, org_a, questionnaire)
    event = AuditEvent.objects.get(action=action)
    assert (event.actor, event.organization) == (alice.user, org_a)
    page = alice_client.get(URL)
    assert rows(page)[0] == action
    text = page.content.decode()
    row = text[text.index(f'<tr data-action="{action}">') :]
    row = row[: row.index("</tr>")]
    assert "alice@acme.example" in row
    assert label in row


# --- the page ------------------------------------------------------------------------


def test_newest_first(alice_client, org_a, alice):
    now = timezone.now()
    for minutes, action in [
        (30, "study_create"),
        (10, "study_open"),
        (20, "staff_add"),
    ]:
        event = audit_record(organization=org_a, actor=alice.user, action=action)
        AuditEvent.objects.filter(pk=event.pk).update(
            created_at=now - timedelta(minutes=minutes)
        )
    assert rows(alice_client.get(URL)) == ["study_open", "staff_add", "study_create"]


def test_it_filters_by_kind(alice_client, org_a, alice):
    for action in ("study_open", "study_export", "contact_export", "staff_add"):
        audit_record(organization=org_a, actor=alice.user, action=action)
    shown = rows(alice_client.get(URL, {"kind": "exports"}))
    assert sorted(shown) == ["contact_export", "study_export"]
    assert rows(alice_client.get(URL, {"kind": "studies"})) == ["study_open"]


def test_an_unknown_kind_shows_everything(alice_client, org_a, alice):
    audit_record(organization=org_a, actor=alice.user, action="study_open")
    assert rows(alice_client.get(URL, {"kind": "bogus"})) == ["study_open"]


def test_it_is_paginated_and_keeps_the_filter(alice_client, org_a, alice):
    AuditEvent.objects.bulk_create(
        AuditEvent(organization=org_a, actor=alice.user, action="study_export")
        for _ in range(60)
    )
    audit_record(organization=org_a, actor=alice.user, action="staff_add")
    first = alice_client.get(URL, {"kind": "exports"})
    assert len(rows(first)) == 50
    assert "kind=exports&amp;page=2" in first.content.decode()
    second = alice_client.get(URL, {"kind": "exports", "page": 2})
    assert rows(second) == ["study_export"] * 10


def test_it_shows_who_what_and_which_escaped(alice_client, org_a, alice):
    audit_record(
        organization=org_a,
        actor=alice.user,
        action="study_create",
        target="<script>alert(1)</script>",
        study_id=7,
    )
    text = alice_client.get(URL).content.decode()
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "study_id: 7" in text


def test_an_event_without_actor_is_shown_as_system(alice_client, org_a):
    audit_record(organization=org_a, actor=None, action="contact_opt_out")
    assert "System or customer" in alice_client.get(URL).content.decode()


def test_another_organizations_manager_sees_only_their_own(
    charlie_client, charlie, org_a, org_b, alice
):
    audit_record(organization=org_a, actor=alice.user, action="study_open", target="A")
    audit_record(organization=org_b, actor=charlie.user, action="staff_add")
    page = charlie_client.get(URL)
    assert rows(page) == ["staff_add"]
    assert "alice@acme.example" not in page.content.decode()


def test_staff_get_403(bob_client, org_a, alice):
    audit_record(organization=org_a, actor=alice.user, action="study_open")
    response = bob_client.get(URL)
    assert response.status_code == 403
    assert b"study_open" not in response.content


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_post_is_not_allowed(alice_client):
    assert alice_client.post(URL).status_code == 405


def test_the_nav_links_it_for_managers_only(alice_client, bob_client):
    assert (
        f'href="{URL}"'
        in alice_client.get(reverse("home"), follow=True).content.decode()
    )
    staff_page = bob_client.get(reverse("staff_home")).content.decode()
    assert f'href="{URL}"' not in staff_page
