"""Reminding non-respondents: the policy, the button and the cron command."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from surveys.models import Invitation, Study
from surveys.services.invitations import reminders_deliver, reminders_due
from surveys.tasks import reminders_send
from tests import factories
from tests.smtp_sink import body_text

LONG_AGO = timedelta(days=30)


def _sent(study, email, **fields):
    contact = factories.make_contact(study.organization, email=email)
    invitation, token = factories.make_mailable_invitation(
        study,
        contact=contact,
        sent_at=fields.pop("sent_at", timezone.now() - LONG_AGO),
        **fields,
    )
    return invitation


@pytest.fixture
def mixed(study_a):
    """One invitation of each kind; only `due` may be reminded."""
    now = timezone.now()
    return {
        "due": _sent(study_a, "due@example.com"),
        "answered": _sent(study_a, "answered@example.com", responded_at=now),
        "unsent": _sent(study_a, "unsent@example.com", sent_at=None),
        "recent": _sent(study_a, "recent@example.com", sent_at=now),
        "reminded_recently": _sent(
            study_a,
            "rr@example.com",
            reminders_sent=1,
            last_reminded_at=now - timedelta(days=1),
        ),
        "maxed": _sent(
            study_a,
            "maxed@example.com",
            reminders_sent=study_a.max_reminders,
            last_reminded_at=now - LONG_AGO,
        ),
        "opted_out": _sent(study_a, "out@example.com"),
    }


@pytest.fixture
def policy(mixed):
    contact = mixed["opted_out"].contact
    contact.opted_out_at = timezone.now()
    contact.save()
    return mixed


def test_only_non_respondents_under_the_policy_are_due(study_a, policy):
    assert list(reminders_due(study_a)) == [policy["due"]]


def test_a_reminder_reaches_only_those_who_have_not_answered(
    mail_sink, study_a, policy
):
    report = reminders_send.call(study_a.pk)
    assert report["sent"] == 1
    assert [to for _, [to] in mail_sink.envelopes] == ["due@example.com"]
    [message] = mail_sink.messages
    assert str(message["Subject"]).strip().startswith("Reminder:")
    assert "not heard from you" in body_text(message)
    invitation = Invitation.objects.get(pk=policy["due"].pk)
    assert invitation.reminders_sent == 1 and invitation.last_reminded_at


def test_the_reminder_carries_the_same_personal_link(mail_sink, study_a):
    contact = factories.make_contact(study_a.organization, email="x@example.com")
    from surveys.services.invitations import invitation_token, invitations_create
    from surveys.tasks import invitations_send

    invitations_create(study=study_a, actor=None)
    invitations_send.call(study_a.pk)
    Invitation.objects.update(sent_at=timezone.now() - LONG_AGO)
    reminders_send.call(study_a.pk)
    first, reminder = mail_sink.to(contact.email)
    token = invitation_token(Invitation.objects.get())
    assert f"/s/{token}/" in body_text(first)
    assert f"/s/{token}/" in body_text(reminder)


def test_a_second_run_sends_no_second_reminder_within_the_interval(
    mail_sink, study_a, policy
):
    reminders_send.call(study_a.pk)
    assert reminders_send.call(study_a.pk)["sent"] == 0
    assert len(mail_sink.messages) == 1


def test_after_the_interval_the_next_reminder_goes_until_the_maximum(
    mail_sink, study_a
):
    invitation = _sent(study_a, "slow@example.com")
    for _ in range(study_a.max_reminders + 1):
        Invitation.objects.filter(pk=invitation.pk).update(
            last_reminded_at=timezone.now() - LONG_AGO
        )
        reminders_deliver(study_id=study_a.pk)
    invitation.refresh_from_db()
    assert invitation.reminders_sent == study_a.max_reminders
    assert len(mail_sink.messages) == study_a.max_reminders


def test_a_refused_reminder_is_not_counted(mail_sink, study_a):
    invitation = _sent(study_a, "due@example.com")
    mail_sink.refuse_with = "451 later"
    report = reminders_deliver(study_id=study_a.pk)
    assert report.sent == 0
    invitation.refresh_from_db()
    assert invitation.reminders_sent == 0 and invitation.last_reminded_at is None
    assert "451" in invitation.last_error
    assert invitation.failed_at is None and invitation.sending_started_at is None


def test_a_closed_study_sends_no_reminders(mail_sink, study_a, policy):
    Study.objects.filter(pk=study_a.pk).update(status=Study.Status.CLOSED)
    assert reminders_send.call(study_a.pk)["sent"] == 0
    assert mail_sink.messages == []


def test_the_command_applies_every_open_studys_policy(mail_sink, study_a, org_b):
    _sent(study_a, "a@example.com")
    other = factories.make_study(org_b, reminder_interval_days=60)
    _sent(other, "b@example.com")  # mailed 30 days ago: not due under 60 days
    draft = factories.make_study(org_b, status=Study.Status.DRAFT)
    _sent(draft, "c@example.com")
    out = StringIO()
    call_command("send_reminders", stdout=out)
    assert [to for _, [to] in mail_sink.envelopes] == ["a@example.com"]
    assert "1 reminder sent." in out.getvalue()


def test_the_command_also_sends_overdue_invitations(mail_sink, study_a):
    factories.make_mailable_invitation(study_a)  # never sent: the worker missed it
    call_command("send_reminders", stdout=StringIO())
    assert len(mail_sink.messages) == 1
    assert Invitation.objects.get().sent_at is not None


# --- the button --------------------------------------------------------------------


def test_the_button_queues_the_reminders(
    alice_client, study_a, policy, django_capture_on_commit_callbacks
):
    url = reverse("invitation_remind", args=[study_a.pk])
    with django_capture_on_commit_callbacks() as callbacks:
        response = alice_client.post(url, follow=True)
    assert b"Reminding 1 non-respondent" in response.content
    assert len(callbacks) == 1


def test_the_button_with_nobody_due_says_so(alice_client, study_a):
    url = reverse("invitation_remind", args=[study_a.pk])
    response = alice_client.post(url, follow=True)
    assert b"Nobody is due a reminder" in response.content


def test_the_button_on_a_closed_study_is_refused(alice_client, study_a, policy):
    Study.objects.filter(pk=study_a.pk).update(status=Study.Status.CLOSED)
    url = reverse("invitation_remind", args=[study_a.pk])
    response = alice_client.post(url, follow=True)
    assert b"only be sent while the study is open" in response.content


def test_the_button_permissions(client, bob_client, charlie_client, study_a):
    url = reverse("invitation_remind", args=[study_a.pk])
    assert client.post(url).status_code == 302
    assert bob_client.post(url).status_code == 404
    assert charlie_client.post(url).status_code == 404


def test_the_button_refuses_get(alice_client, study_a):
    url = reverse("invitation_remind", args=[study_a.pk])
    assert alice_client.get(url).status_code == 405
