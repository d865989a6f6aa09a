"""Sending invitations through the task, against a real SMTP server on 127.0.0.1."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from surveys.models import Invitation, Study
from surveys.services import invitations as service
from surveys.services.invitations import (
    CLAIM_LEASE,
    MAX_ATTEMPTS,
    invitation_token,
    invitations_create,
)
from surveys.tasks import invitations_send
from tests import factories
from tests.smtp_sink import body_text

LINK_RE = re.compile(r"http://[^/\s]+/s/([A-Za-z0-9_-]{43})/")


def _invite(study, count=3, **contact_fields):
    contacts = [
        factories.make_contact(study.organization, **contact_fields)
        for _ in range(count)
    ]
    invitations_create(study=study, actor=None)
    return contacts


def _run():
    """Run the sending task's function, as a worker would."""
    return invitations_send.call(Invitation.objects.first().study_id)


def test_it_mails_every_pending_invitation_once(mail_sink, study_a):
    contacts = _invite(study_a, count=3)
    report = _run()
    assert report["sent"] == 3
    assert sorted(to for _, [to] in mail_sink.envelopes) == sorted(
        c.email for c in contacts
    )
    assert Invitation.objects.filter(sent_at__isnull=True).count() == 0
    assert not Invitation.objects.filter(sending_started_at__isnull=False).exists()


def test_running_the_task_twice_sends_nothing_twice(mail_sink, study_a):
    _invite(study_a, count=2)
    _run()
    second = _run()
    assert second["sent"] == 0
    assert len(mail_sink.messages) == 2


def test_it_sends_in_batches_over_one_connection_each(mail_sink, study_a, monkeypatch):
    monkeypatch.setattr(service, "BATCH_SIZE", 2)
    opened = []
    from django.core.mail.backends.smtp import EmailBackend

    original_open = EmailBackend.open

    def counting_open(self):
        result = original_open(self)
        if result:
            opened.append(self)
        return result

    monkeypatch.setattr(EmailBackend, "open", counting_open)
    _invite(study_a, count=5)
    assert _run()["sent"] == 5
    assert len(opened) == 3  # 2 + 2 + 1


def test_the_mail_carries_the_personal_link_that_matches_the_stored_hash(
    mail_sink, study_a
):
    [contact] = _invite(study_a, count=1)
    _run()
    [message] = mail_sink.to(contact.email)
    token = LINK_RE.search(body_text(message)).group(1)
    invitation = Invitation.objects.get(contact=contact)
    assert invitation.token_hash == service.token_hash(token)
    assert invitation_token(invitation) == token
    assert f"/s/{token}/opt-out/" in body_text(message)


def test_the_mail_has_html_and_text_with_organization_and_introduction(
    mail_sink, study_a
):
    study_a.introduction = "We are listening."
    study_a.save()
    [contact] = _invite(study_a, count=1)
    _run()
    [message] = mail_sink.to(contact.email)
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Acme Services" in body_text(message)
    assert "We are listening." in body_text(message)
    assert "We are listening." in html and "opt out" in html.lower()
    assert "Acme Services" in message["From"]
    assert "/opt-out/" in message["List-Unsubscribe"]


def test_user_text_is_escaped_in_the_html_part(mail_sink, study_a):
    study_a.introduction = "<script>alert(1)</script>"
    study_a.save()
    [contact] = _invite(study_a, count=1, name="<b>Bold</b>")
    _run()
    html = mail_sink.to(contact.email)[0].get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>Bold</b>" not in html and "&lt;b&gt;Bold&lt;/b&gt;" in html


def test_a_name_with_line_breaks_cannot_inject_headers(mail_sink, study_a):
    study_a.organization.name = "Acme\r\nBcc: boss@evil.example"
    study_a.organization.save()
    contact = factories.make_contact(
        study_a.organization, name="Eve\r\nBcc: victim@evil.example\nX-Evil: 1"
    )
    invitations_create(study=study_a, actor=None)
    assert _run()["sent"] == 1
    [message] = mail_sink.messages
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert mail_sink.envelopes[0][1] == [contact.email]
    assert "\n" not in message["To"] and "Eve" in message["To"]


def test_a_draft_study_sends_nothing_until_it_opens(mail_sink, org_a):
    study = factories.make_study(org_a, status=Study.Status.DRAFT)
    _invite(study, count=2)
    assert invitations_send.call(study.pk)["sent"] == 0
    Study.objects.filter(pk=study.pk).update(status=Study.Status.OPEN)
    assert invitations_send.call(study.pk)["sent"] == 2


def test_opted_out_contacts_are_not_mailed_even_when_already_invited(
    mail_sink, study_a
):
    [contact] = _invite(study_a, count=1)
    contact.opted_out_at = timezone.now()
    contact.save()
    assert _run()["sent"] == 0
    assert mail_sink.messages == []


def test_a_transient_refusal_is_retried_with_backoff_and_nothing_is_marked_sent(
    mail_sink, study_a
):
    _invite(study_a, count=2)
    mail_sink.refuse_with = "451 4.3.0 try again later"
    report = _run()
    assert report == {
        "sent": 0,
        "deferred": 2,
        "failed": 0,
        "next_run_at": report["next_run_at"],
    }
    for invitation in Invitation.objects.all():
        assert invitation.sent_at is None and invitation.failed_at is None
        assert invitation.attempts == 1
        assert "451" in invitation.last_error
        assert invitation.next_attempt_at > timezone.now()
    # Not due yet: a rerun right away sends nothing.
    mail_sink.refuse_with = None
    assert _run()["sent"] == 0


def test_after_the_backoff_the_retry_gets_through(mail_sink, study_a):
    _invite(study_a, count=1)
    mail_sink.refuse_with = "451 try later"
    _run()
    mail_sink.refuse_with = None
    Invitation.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert _run()["sent"] == 1
    invitation = Invitation.objects.get()
    assert invitation.sent_at is not None and invitation.last_error == ""


def test_backoff_doubles_with_each_attempt(mail_sink, study_a):
    _invite(study_a, count=1)
    mail_sink.refuse_with = "451 try later"
    delays = []
    for _ in range(3):
        Invitation.objects.update(next_attempt_at=None)
        before = timezone.now()
        _run()
        delays.append(Invitation.objects.get().next_attempt_at - before)
    assert delays[0] >= timedelta(minutes=1)
    assert delays[1] >= 2 * delays[0] - timedelta(seconds=5)
    assert delays[2] >= 2 * delays[1] - timedelta(seconds=5)


def test_after_the_last_attempt_it_is_failed_with_the_error(mail_sink, study_a):
    _invite(study_a, count=1)
    mail_sink.refuse_with = "451 try later"
    for _ in range(MAX_ATTEMPTS):
        Invitation.objects.update(next_attempt_at=None)
        _run()
    invitation = Invitation.objects.get()
    assert invitation.failed_at is not None and invitation.sent_at is None
    assert invitation.attempts == MAX_ATTEMPTS
    assert "451" in invitation.last_error
    mail_sink.refuse_with = None
    assert _run()["sent"] == 0  # a failed invitation waits for a manual retry


def test_a_permanent_refusal_fails_at_once(mail_sink, study_a):
    _invite(study_a, count=1)
    mail_sink.refuse_with = "550 5.1.1 no such user"
    report = _run()
    assert report["failed"] == 1
    invitation = Invitation.objects.get()
    assert invitation.failed_at is not None and invitation.attempts == 1
    assert "550" in invitation.last_error and invitation.sent_at is None


def test_a_server_that_is_down_defers_everything(settings, study_a):
    from tests.smtp_sink import SmtpSink

    sink = SmtpSink()  # never started: its port refuses connections
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    settings.EMAIL_TIMEOUT = 5
    _invite(study_a, count=2)
    report = _run()
    assert report["deferred"] == 2 and report["sent"] == 0
    assert all(
        i.attempts == 1 and i.sent_at is None and i.last_error
        for i in Invitation.objects.all()
    )


def test_rows_claimed_by_a_live_worker_are_left_alone(mail_sink, study_a):
    _invite(study_a, count=2)
    first = Invitation.objects.order_by("pk").first()
    Invitation.objects.filter(pk=first.pk).update(sending_started_at=timezone.now())
    report = _run()
    assert report["sent"] == 1
    assert report["next_run_at"] is not None  # look again when the lease ends
    first.refresh_from_db()
    assert first.sent_at is None


def test_rows_of_a_crashed_worker_are_sent_after_the_lease(mail_sink, study_a):
    _invite(study_a, count=1)
    stale = timezone.now() - CLAIM_LEASE - timedelta(seconds=1)
    Invitation.objects.update(sending_started_at=stale)
    assert _run()["sent"] == 1
    assert len(mail_sink.messages) == 1


def test_enqueueing_on_the_database_backend_leaves_the_work_to_the_worker(
    mail_sink, study_a, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    factories.make_contact(study_a.organization)
    with django_capture_on_commit_callbacks(execute=True):
        invitations_create(study=study_a, actor=None)
    assert mail_sink.messages == []  # nothing sent inside the request
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "surveys.tasks.invitations_send"
    assert queued.args_kwargs["args"] == [study_a.pk]


@pytest.mark.django_db(transaction=True)
def test_the_database_worker_sends_the_queued_invitations(mail_sink, study_a):
    """The worker closes connections between tasks, so the data is committed."""
    from django.core.management import call_command

    factories.make_contact(study_a.organization)
    invitations_create(study=study_a, actor=None)  # queued on commit
    call_command("db_worker", "--batch", "--interval", "0")
    assert len(mail_sink.messages) == 1
    assert Invitation.objects.get().sent_at is not None


def test_with_the_immediate_backend_inviting_sends_at_once(
    mail_sink, study_a, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
    }
    factories.make_contact(study_a.organization)
    with django_capture_on_commit_callbacks(execute=True):
        invitations_create(study=study_a, actor=None)
    assert len(mail_sink.messages) == 1


def test_a_deferred_retry_is_queued_on_a_backend_that_can_defer(mail_sink, study_a):
    from django_tasks_db.models import DBTaskResult

    _invite(study_a, count=1)
    mail_sink.refuse_with = "451 try later"
    _run()
    follow_up = DBTaskResult.objects.get()
    assert follow_up.run_after == Invitation.objects.get().next_attempt_at


@pytest.mark.usefixtures("redis_server")
def test_the_rq_backend_runs_the_sending_task_in_a_burst_worker(
    mail_sink, study_a, settings
):
    import django_rq
    from rq import SimpleWorker

    queue_name = "default"  # on a Redis database of its own
    settings.RQ_QUEUES = {queue_name: {"HOST": "127.0.0.1", "PORT": 6379, "DB": 15}}
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend"},
        "rq": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": [queue_name]},
    }
    queue = django_rq.get_queue(queue_name)
    queue.empty()
    factories.make_contact(study_a.organization)
    invitations_create(study=study_a, actor=None)
    result = invitations_send.using(backend="rq").enqueue(study_a.pk)
    from django_tasks_rq import Job

    worker = django_rq.get_worker(queue_name, job_class=Job, worker_class=SimpleWorker)
    assert worker.work(burst=True)
    assert len(mail_sink.messages) == 1
    assert Invitation.objects.get().sent_at is not None
    finished = result.task.get_backend().get_result(result.id)
    assert finished.status == "SUCCESSFUL"
    queue.empty()


def test_a_worker_dying_mid_batch_neither_loses_nor_doubles_a_mail(
    mail_sink, study_a, monkeypatch
):
    from django.core.mail.backends.smtp import EmailBackend

    contacts = _invite(study_a, count=5)
    original = EmailBackend.send_messages
    calls = []

    def dies_on_the_third(self, messages):
        calls.append(1)
        if len(calls) == 3:
            raise SystemExit("worker killed")
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", dies_on_the_third)
    with pytest.raises(SystemExit):
        _run()
    monkeypatch.setattr(EmailBackend, "send_messages", original)
    assert len(mail_sink.messages) == 2
    assert Invitation.objects.filter(sent_at__isnull=False).count() == 2
    # The dead worker's claims hold until the lease ends ...
    assert _run()["sent"] == 0
    Invitation.objects.filter(sending_started_at__isnull=False).update(
        sending_started_at=timezone.now() - CLAIM_LEASE - timedelta(seconds=1)
    )
    # ... then the rest goes out, once.
    assert _run()["sent"] == 3
    assert sorted(to for _, [to] in mail_sink.envelopes) == sorted(
        c.email for c in contacts
    )


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_mail_everyone_exactly_once(
    on_postgres, mail_sink, monkeypatch
):
    import threading

    from django.db import connection

    monkeypatch.setattr(service, "BATCH_SIZE", 3)
    study = factories.make_study(factories.make_organization())
    contacts = _invite(study, count=20)
    barrier = threading.Barrier(2)
    reports = []

    def work():
        try:
            barrier.wait(timeout=10)
            reports.append(invitations_send.call(study.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(report["sent"] for report in reports) == 20
    recipients = [to for _, [to] in mail_sink.envelopes]
    assert sorted(recipients) == sorted(c.email for c in contacts)
    assert Invitation.objects.filter(study=study, sent_at__isnull=True).count() == 0


def test_the_subject_is_plain_text_not_html_escaped(mail_sink, study_a):
    study_a.organization.name = "Smith & Sons <Ltd>"
    study_a.organization.save()
    _invite(study_a, count=1)
    _run()
    subject = str(mail_sink.messages[0]["Subject"]).strip()
    assert subject.startswith("Smith & Sons <Ltd> would value your view")
