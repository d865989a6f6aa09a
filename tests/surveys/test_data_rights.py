"""A contact's data rights: a manager exports everything held about a contact, or
erases the contact — personal data gone everywhere, the answers kept anonymous so
that the results already reported do not move."""

import json
import re
from io import StringIO

import pandas as pd
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from analysis import queries
from analysis.dashboard import study_results
from surveys.forms.answers import item_field_name
from surveys.models import (
    AuditEvent,
    Contact,
    Invitation,
    Membership,
    Response,
    Role,
)
from tests import factories
from tests.analysis.conftest import submit

pytestmark = pytest.mark.django_db

PAT_EMAIL = "pat.rights@example.com"
PAT_NAME = "Pat Quillfeather"
# Pat's address as a whole word: the other contacts' addresses contain it.
PAT_RE = re.compile(r"(?<![\w.+-])" + re.escape(PAT_EMAIL), re.IGNORECASE)


def mentions_pat(text: str) -> bool:
    return PAT_RE.search(text) is not None


def answer_by_link(client, study, token, value: int, comment: str = ""):
    data = {
        item_field_name(item): str(value) for item in study.questionnaire.items.all()
    }
    data["comment"] = comment
    response = client.post(reverse("survey", args=[token]), data)
    assert response.status_code == 302, "the survey did not accept the answers"


@pytest.fixture
def world(org_a, alice, alice_client, client):
    """A study of A with four staff and five Retail customers who answered through
    their links — Pat among them, with a comment naming themselves — and a second
    study where Pat's invitation failed. Pat was added through the app, so the
    audit log already carries Pat's address."""
    study = factories.make_study(org_a, name="Rights wave", min_group_size=3)
    retail = factories.make_segment(org_a, "Retail")
    alice_client.post(
        reverse("contact_create"),
        {"email": PAT_EMAIL, "name": PAT_NAME, "segment": "Retail"},
    )
    pat = Contact.objects.get(email=PAT_EMAIL)
    items = list(study.questionnaire.items.all())
    for value in (6, 7, 5, 6):
        submit(study, "internal", {item: value for item in items}, department=None)
    _, token = factories.make_invitation(study, pat, sent_at=timezone.now())
    answer_by_link(client, study, token, 2, comment=f"Write to me: {PAT_EMAIL}")
    others = []
    for n, value in enumerate((3, 4, 5, 3)):
        # "spat…" contains Pat's address as a substring: it must be left alone.
        other = factories.make_contact(org_a, email=f"s{n}{PAT_EMAIL}", segment=retail)
        _, other_token = factories.make_invitation(study, other, sent_at=timezone.now())
        answer_by_link(client, study, other_token, value, comment=f"Comment {n}")
        others.append(other)
    second = factories.make_study(org_a, name="Second wave")
    failed, _ = factories.make_invitation(
        second,
        pat,
        attempts=3,
        failed_at=timezone.now(),
        last_error=f"550 5.1.1 <{PAT_EMAIL}>: mailbox unavailable",
        reminders_sent=1,
    )
    alice_client.post(reverse("invitation_retry", args=[second.pk, failed.pk]))
    return {
        "study": study,
        "second": second,
        "pat": pat,
        "retail": retail,
        "others": others,
    }


def export(client, contact):
    return client.get(reverse("contact_export", args=[contact.pk]))


def erase(client, contact):
    return client.post(reverse("contact_erase", args=[contact.pk]))


# --- export --------------------------------------------------------------------------


def test_the_export_is_a_json_attachment_not_kept_in_caches(alice_client, world):
    response = export(alice_client, world["pat"])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == (
        f'attachment; filename="contact-{world["pat"].pk}.json"'
    )
    assert "no-store" in response["Cache-Control"]


def test_the_managers_export_holds_identity_and_history_but_no_answers(
    alice_client, world
):
    """Attack 5: the export showed any manager a named customer's every answer
    and comment, whatever the minimum group size. Now it holds who they are
    and what was sent to them, and nothing of what they answered."""
    pat = world["pat"]
    Contact.objects.filter(pk=pat.pk).update(opted_out_at=timezone.now())
    response = export(alice_client, pat)
    data = json.loads(response.content)

    assert data["contact"]["email"] == PAT_EMAIL
    assert data["contact"]["name"] == PAT_NAME
    assert data["contact"]["segment"] == "Retail"
    assert data["contact"]["opted_out_at"] is not None
    by_study = {each["study"]["name"]: each for each in data["invitations"]}
    assert set(by_study) == {"Rights wave", "Second wave"}
    assert by_study["Rights wave"]["sent_at"]
    assert all("response" not in each for each in data["invitations"])
    text = response.content.decode()
    assert "Write to me" not in text and '"answers"' not in text

    failed = by_study["Second wave"]
    assert failed["reminders_sent"] == 1
    assert failed["attempts"] == 0  # the retry gave it a fresh set of attempts
    assert "mailbox unavailable" in failed["last_error"]
    assert {"contact_create", "invitation_retry"} <= {
        event["action"] for event in data["history"]
    }


@pytest.fixture
def mail_sink(mail_sink, settings):
    """The real SMTP sink, with tasks run as they are enqueued (on commit)."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
    }
    return mail_sink


def mail_export(alice_client, contact, callbacks):
    with callbacks(execute=True):
        response = alice_client.post(reverse("contact_export_mail", args=[contact.pk]))
    assert response.status_code == 302
    return response


def link_in(message) -> str:
    from tests.smtp_sink import body_text

    found = re.search(r"https?://\S+/my-data/([A-Za-z0-9_-]+)/", body_text(message))
    assert found, "no link in the mail"
    return found.group(1)


def test_the_answers_are_mailed_to_the_contact_only_as_a_single_use_link(
    alice_client, client, world, mail_sink, django_capture_on_commit_callbacks
):
    pat = world["pat"]
    mail_export(alice_client, pat, django_capture_on_commit_callbacks)
    (message,) = mail_sink.wait_for(PAT_EMAIL)
    assert [m["To"] for m in mail_sink.messages] == [message["To"]]
    assert "Write to me" not in message.as_string()  # the answers are behind a link
    token = link_in(message)

    page = client.get(reverse("my_data", args=[token]))
    assert page.status_code == 200 and "Download my data" in page.content.decode()
    download = client.post(reverse("my_data", args=[token]))
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="my-data.json"'
    data = json.loads(download.content)
    answered = {e["study"]["name"]: e for e in data["invitations"]}["Rights wave"]
    assert answered["response"]["comment"] == f"Write to me: {PAT_EMAIL}"
    items = world["study"].questionnaire.items.order_by("position")
    assert [(a["item"], a["value"]) for a in answered["response"]["answers"]] == [
        (item.customer_text, 2) for item in items
    ]
    # Single use: the link is spent.
    assert client.get(reverse("my_data", args=[token])).status_code == 404
    assert client.post(reverse("my_data", args=[token])).status_code == 404


def test_the_manager_sees_that_and_when_the_copy_was_sent(
    alice_client, world, mail_sink, django_capture_on_commit_callbacks
):
    pat = world["pat"]
    mail_export(alice_client, pat, django_capture_on_commit_callbacks)
    mail_sink.wait_for(PAT_EMAIL)
    page = alice_client.get(reverse("contact_edit", args=[pat.pk])).content.decode()
    listed = page.split('data-testid="data-exports"')[1].split("</ul>")[0]
    assert "mailed" in listed
    assert "Write to me" not in page
    assert AuditEvent.objects.filter(action="contact_export_mail").exists()


def test_an_expired_or_unknown_link_is_a_plain_404(
    alice_client, client, world, mail_sink, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from freezegun import freeze_time

    pat = world["pat"]
    mail_export(alice_client, pat, django_capture_on_commit_callbacks)
    token = link_in(mail_sink.wait_for(PAT_EMAIL)[0])
    assert client.get(reverse("my_data", args=["x" * 43])).status_code == 404
    assert client.get(reverse("my_data", args=["nonsense"])).status_code == 404
    with freeze_time(timezone.now() + timedelta(days=7, minutes=1)):
        assert client.get(reverse("my_data", args=[token])).status_code == 404
    assert client.get(reverse("my_data", args=[token])).status_code == 200


def test_mailing_a_copy_is_for_the_contacts_own_managers_only(
    charlie_client, bob_client, alice_client, world
):
    pat = world["pat"]
    url = reverse("contact_export_mail", args=[pat.pk])
    assert charlie_client.post(url).status_code == 404
    assert bob_client.post(url).status_code in (403, 404)
    assert alice_client.get(url).status_code == 405
    assert not pat.data_exports.exists()


def test_the_export_leaves_out_the_token_hash_and_other_contacts(alice_client, world):
    content = export(alice_client, world["pat"]).content.decode()
    for invitation in Invitation.objects.all():
        assert invitation.token_hash not in content
    assert "Comment 0" not in content
    assert world["others"][0].email not in content


def test_exporting_is_audited_by_id(alice, alice_client, world):
    export(alice_client, world["pat"])
    event = AuditEvent.objects.get(action="contact_export")
    assert (event.actor, event.organization) == (alice.user, world["pat"].organization)
    assert event.detail["contact_id"] == world["pat"].pk
    assert not mentions_pat(event.target + json.dumps(event.detail))


def test_another_organizations_manager_gets_404(charlie_client, world):
    pat = world["pat"]
    assert export(charlie_client, pat).status_code == 404
    confirm = charlie_client.get(reverse("contact_erase_confirm", args=[pat.pk]))
    assert confirm.status_code == 404
    assert erase(charlie_client, pat).status_code == 404
    assert Contact.objects.filter(pk=pat.pk).exists()
    assert not AuditEvent.objects.filter(
        action__in=["contact_export", "contact_erase"]
    ).exists()


def test_staff_are_refused(bob_client, world):
    # 403 or 404: a manager's page about an object is not for staff (access.py).
    pat = world["pat"]
    assert export(bob_client, pat).status_code in (403, 404)
    confirm = bob_client.get(reverse("contact_erase_confirm", args=[pat.pk]))
    assert confirm.status_code in (403, 404)
    assert erase(bob_client, pat).status_code in (403, 404)
    assert Contact.objects.filter(pk=pat.pk).exists()
    assert not AuditEvent.objects.filter(
        action__in=["contact_export", "contact_erase"]
    ).exists()


def test_anonymous_visitors_are_sent_to_login(client, world):
    response = export(client, world["pat"])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert erase(client, world["pat"]).status_code == 302
    assert Contact.objects.filter(pk=world["pat"].pk).exists()


def test_a_manager_of_both_organizations_exports_only_from_the_active_one(
    alice, alice_client, org_b, world
):
    Membership.objects.create(user=alice.user, organization=org_b, role=Role.MANAGER)
    alice_client.post(reverse("organization_switch"), {"organization": org_b.pk})
    assert export(alice_client, world["pat"]).status_code == 404


# --- erase ---------------------------------------------------------------------------


def test_get_on_erase_is_refused_and_changes_nothing(alice_client, world):
    response = alice_client.get(reverse("contact_erase", args=[world["pat"].pk]))
    assert response.status_code == 405
    assert Contact.objects.filter(pk=world["pat"].pk).exists()


def test_the_confirmation_page_says_what_goes_and_what_stays(alice_client, world):
    pat = world["pat"]
    page = alice_client.get(reverse("contact_erase_confirm", args=[pat.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "2 invitations" in text
    assert "1 response " in text
    assert "1 free-text comment " in text
    assert f'action="{reverse("contact_erase", args=[pat.pk])}"' in text
    assert Contact.objects.filter(pk=pat.pk).exists()


def test_the_edit_page_links_to_export_and_erase(alice_client, world):
    pat = world["pat"]
    text = alice_client.get(reverse("contact_edit", args=[pat.pk])).content.decode()
    assert reverse("contact_export", args=[pat.pk]) in text
    assert reverse("contact_erase_confirm", args=[pat.pk]) in text


def _dump() -> str:
    out = StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue()


def test_erasing_removes_the_personal_data_everywhere(alice_client, world):
    pat = world["pat"]
    invitation_ids = list(pat.invitations.values_list("pk", flat=True))
    # The checks below can fail: the address is really there before.
    assert AuditEvent.objects.filter(target__iexact=PAT_EMAIL).exists()
    assert mentions_pat(_dump())
    alice_client.get(reverse("contact_list"))  # shows the earlier messages

    response = erase(alice_client, pat)
    assert response.status_code == 302
    assert not mentions_pat(alice_client.get(response["Location"]).content.decode())

    assert not Contact.objects.filter(pk=pat.pk).exists()
    assert not Contact.objects.filter(email__iexact=PAT_EMAIL).exists()
    assert not Invitation.objects.filter(pk__in=invitation_ids).exists()
    for invitation in Invitation.objects.all():
        assert not mentions_pat(invitation.last_error)
    for response in Response.objects.all():
        assert not mentions_pat(response.comment)
    for event in AuditEvent.objects.all():
        assert not mentions_pat(event.target + json.dumps(event.detail))
    dump = _dump()
    assert not mentions_pat(dump)
    assert PAT_NAME not in dump


def test_erasing_keeps_the_answers_without_any_link(alice_client, world):
    study = world["study"]
    before = Response.objects.filter(study=study).count()
    erase(alice_client, world["pat"])
    assert Response.objects.filter(study=study).count() == before
    kept = Response.objects.get(study=study, audience="customer", invitation=None)
    assert kept.segment == world["retail"]
    assert kept.comment == ""
    assert {a.value for a in kept.answers.all()} == {2}


def test_erasing_leaves_other_contacts_alone(alice_client, world):
    first = world["others"][0]
    alice_client.post(
        reverse("contact_edit", args=[first.pk]),
        {"email": first.email, "name": "Sam", "segment": "Retail"},
    )
    erase(alice_client, world["pat"])
    assert AuditEvent.objects.get(action="contact_update").target == first.email
    for n, other in enumerate(world["others"]):
        assert Contact.objects.filter(pk=other.pk, email=other.email).exists()
        response = Response.objects.get(invitation__contact=other)
        assert response.comment == f"Comment {n}"


def test_the_aggregates_are_the_same_before_and_after(alice_client, world):
    study, retail = world["study"], world["retail"]
    cuts = [queries.ALL, queries.Cut(segment_id=retail.pk)]
    before = [study_results(study, cut) for cut in cuts]
    dashboard = reverse("dashboard", args=[study.pk])
    page_before = alice_client.get(dashboard).context["gaps"]

    erase(alice_client, world["pat"])

    after = [study_results(study, cut) for cut in cuts]
    for old, new in zip(before, after, strict=True):
        for table in ("gap_table", "item_table"):
            pd.testing.assert_frame_equal(old[table], new[table])
    customer = before[0]["gap_table"]
    assert customer["customer_n"].max() == 5  # Pat's answers are still counted
    assert alice_client.get(dashboard).context["gaps"] == page_before


def test_erasing_is_audited_by_id_and_counts(alice, alice_client, world):
    pat_id = world["pat"].pk
    erase(alice_client, world["pat"])
    event = AuditEvent.objects.get(action="contact_erase")
    assert event.actor == alice.user
    assert event.target == f"contact #{pat_id}"
    assert event.detail["contact_id"] == pat_id
    assert event.detail["invitations_deleted"] == 2
    assert event.detail["responses_kept"] == 1
    assert event.detail["comments_removed"] == 1
    assert event.detail["audit_events_redacted"] >= 2


def test_an_erasure_is_all_or_nothing(alice_client, world, monkeypatch):
    from surveys.services import rights

    def broken(**kwargs):
        raise RuntimeError("the audit log is down")

    monkeypatch.setattr(rights, "audit_record", broken)
    with pytest.raises(RuntimeError):
        erase(alice_client, world["pat"])
    pat = Contact.objects.get(pk=world["pat"].pk)
    assert pat.invitations.count() == 2
    assert Response.objects.get(invitation__contact=pat).comment.endswith(PAT_EMAIL)
    assert AuditEvent.objects.filter(target__iexact=PAT_EMAIL).exists()


def test_a_second_erase_is_a_404(alice_client, world):
    erase(alice_client, world["pat"])
    assert erase(alice_client, world["pat"]).status_code == 404
    assert AuditEvent.objects.filter(action="contact_erase").count() == 1


def test_removing_a_contact_leaves_its_address_nowhere_in_the_audit_log(
    alice_client, world
):
    pat = world["pat"]
    alice_client.post(reverse("contact_delete", args=[pat.pk]))
    assert not Contact.objects.filter(pk=pat.pk).exists()
    for event in AuditEvent.objects.all():
        assert not mentions_pat(event.target + json.dumps(event.detail))
    for invitation in Invitation.objects.all():
        assert not mentions_pat(invitation.last_error)
    assert AuditEvent.objects.get(action="contact_delete").target == (
        f"contact #{pat.pk}"
    )
