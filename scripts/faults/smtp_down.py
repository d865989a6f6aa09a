"""Fault: the mail server is down, then flaky, then back.

    .venv/bin/python -m scripts.faults.smtp_down [--invitations 20]

Runs the sending task's function in this process, as a worker would, against a
fresh SQLite database in a temp dir and an SMTP port where nothing listens.

Passes when: each run while the server is down defers every invitation with the
connection error recorded and the next attempt 1, 2, 4, 8 minutes later
(exponential backoff), queues a follow-up run for then, and retries nothing
before it is due; after the fifth attempt each invitation is recorded as failed
with its error and nothing more is tried; once the server is back, the
manager's "retry" mails each failed invitation exactly once; and a server that
answers "451 try later" twice gets the mail through on the third attempt, once.

Waiting for a retry is skipped by moving each invitation's due time to now
(the backoff itself is read from what the code stored), so the run takes seconds.
"""

import argparse
import os
import socket
import tempfile
from datetime import timedelta
from pathlib import Path

from scripts.faults.common import ROOT, Checks


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # released: nothing listens there


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invitations", type=int, default=20)
    args = parser.parse_args()
    if not 1 <= args.invitations <= 500:
        raise SystemExit("--invitations 1..500")
    work = Path(tempfile.mkdtemp(prefix="gs-fault-smtp-"))
    for name in [k for k in os.environ if k.startswith("DJANGO_")]:
        del os.environ[name]
    os.environ.pop("TASKS_BACKEND", None)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=f"sqlite:///{work / 'smtp.sqlite3'}",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(_closed_port()),
        EMAIL_TIMEOUT="5",
        LOG_LEVEL="ERROR",
    )
    os.chdir(ROOT)
    import django

    django.setup()
    try:
        run(args, Checks("SMTP down: retries with backoff, then a recorded failure"))
    finally:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


def _study(invitations: int, slug: str) -> int:
    import io
    import re

    from django.core.management import call_command

    out = io.StringIO()
    call_command(
        "generate_study",
        customers=0,
        staff=0,
        organization=slug,
        unanswered=invitations,
        unsent=True,
        stdout=out,
    )
    return int(re.search(r"Study (\d+)", out.getvalue()).group(1))


def run(args, checks: Checks) -> None:
    from django.core.management import call_command
    from django.test import override_settings
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from surveys.models import Invitation
    from surveys.services.invitations import (
        BACKOFF_BASE,
        MAX_ATTEMPTS,
        invitation_retry,
    )
    from surveys.tasks import invitations_send
    from tests.smtp_sink import SmtpSink

    call_command("migrate", verbosity=0)
    call_command("createcachetable")
    call_command("loaddata", "default_questionnaire", verbosity=0)
    study_id = _study(args.invitations, "fault-smtp")
    invitations = Invitation.objects.filter(study_id=study_id)
    total = args.invitations

    # --- down -------------------------------------------------------------------
    gaps = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        before = timezone.now()
        report = invitations_send.call(study_id)
        rows = list(invitations)
        last = attempt == MAX_ATTEMPTS
        ok = all(r.attempts == attempt and r.sent_at is None for r in rows)
        if last:
            ok &= report["failed"] == total and report["deferred"] == 0
            ok &= all(r.failed_at and r.next_attempt_at is None for r in rows)
        else:
            ok &= report["deferred"] == total and report["failed"] == 0
            gap = min(r.next_attempt_at for r in rows) - before
            gaps.append(round(gap.total_seconds() / 60, 2))
            expected = BACKOFF_BASE * 2 ** (attempt - 1)
            ok &= abs(gap - expected) < timedelta(seconds=5)
            # Nothing is retried before it is due ...
            ok &= invitations_send.call(study_id)["deferred"] == 0
            # ... and a follow-up run is queued for when it is.
            queued = DBTaskResult.objects.filter(
                task_path="surveys.tasks.invitations_send", status="READY"
            ).order_by("-enqueued_at")
            ok &= queued.exists() and queued[0].run_after == min(
                r.next_attempt_at for r in rows
            )
            invitations.update(next_attempt_at=timezone.now())  # the wait, skipped
        errors = {r.last_error.split(":")[0] for r in rows}
        checks.check(
            ok and errors == {"ConnectionRefusedError"},
            f"run {attempt} with the server down: "
            + ("failed" if last else "deferred")
            + f" all {total}, error recorded {sorted(errors)}",
        )
    checks.note(f"backoff between attempts, minutes: {gaps}")
    checks.check(
        invitations_send.call(study_id) == {
            "sent": 0, "deferred": 0, "failed": 0, "next_run_at": None,
        },
        "after the last attempt nothing more is tried",
    )  # fmt: skip

    # --- back -------------------------------------------------------------------
    sink = SmtpSink().start()
    try:
        with override_settings(EMAIL_PORT=sink.port):
            for invitation in invitations:
                invitation_retry(invitation=invitation, actor=None)
            report = invitations_send.call(study_id)
            invitations_send.call(study_id)  # a second run sends nothing more
            recipients = [to for _, tos in sink.envelopes for to in tos]
            checks.check(
                report["sent"] == total
                and len(recipients) == len(set(recipients)) == total
                and not invitations.filter(sent_at__isnull=True).exists(),
                f"server back, the manager's retry: {report['sent']} sent, "
                f"{len(recipients)} mails for {total} invitations, each once",
            )

            # --- flaky: 451 twice, then accepted ------------------------------
            sink.clear()
            flaky_id = _study(5, "fault-smtp-flaky")
            flaky = Invitation.objects.filter(study_id=flaky_id)
            sink.refuse_with = "451 4.3.0 try again later"
            for _ in range(2):
                invitations_send.call(flaky_id)
                flaky.update(next_attempt_at=timezone.now())
            sink.refuse_with = None
            report = invitations_send.call(flaky_id)
            recipients = [to for _, tos in sink.envelopes for to in tos]
            checks.check(
                report["sent"] == 5
                and len(recipients) == len(set(recipients)) == 5
                and all(i.attempts == 2 and i.sent_at for i in flaky),
                "a server answering 451 twice gets each mail through on the third "
                f"attempt, once ({len(recipients)} mails for 5)",
            )
    finally:
        sink.stop()
    checks.finish()


if __name__ == "__main__":
    main()
