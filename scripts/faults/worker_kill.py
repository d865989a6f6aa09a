"""Fault: the task worker is killed (SIGKILL) mid-batch, twice, and restarted.

    .venv/bin/python -m scripts.faults.worker_kill [--invitations 300]
        [--delay 0.04] [--lease 15]

A throwaway PostgreSQL cluster (never the machine's own), an open study with
--invitations unsent invitations, a slow SMTP sink (each recipient takes --delay
seconds to accept, so a kill lands mid-message), and `manage.py db_worker`
processes. The sending task is queued; the worker is killed with SIGKILL while a
message is in flight, a new worker is started and the task queued again (what
the app's next trigger does: a retry, another invitation, or cron); once more;
then the last worker finishes, picking up the dead workers' claimed rows after
the claim lease (GAPSURVEY_SEND_LEASE_SECONDS, shortened here to --lease).

Passes when every invitation was mailed exactly once (counted per recipient in
the sink) and is marked sent, with no claim left behind.

The one window this cannot close (documented in SECURITY.md): a kill between the
server's "250 accepted" and the worker's `sent_at` update, a millisecond or so,
means that message goes out again after the lease (at-least-once). The kills here
land in the slow part of a message, before the server accepted it.
"""

import argparse
import asyncio
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from scripts.faults.common import (
    PYTHON,
    ROOT,
    Checks,
    ThrowawayPostgres,
    app_env,
    manage,
    prepare_database,
)
from tests.smtp_sink import SmtpSink, _Handler


class _SlowHandler(_Handler):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.sink.lock:
            self.sink.rcpt_started += 1
        await asyncio.sleep(self.sink.delay)
        return await super().handle_RCPT(
            server, session, envelope, address, rcpt_options
        )


class SlowSink(SmtpSink):
    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.rcpt_started = 0
        self.controller.handler = _SlowHandler(self)

    def count(self) -> int:
        with self.lock:
            return len(self.envelopes)

    def recipients(self) -> list[str]:
        with self.lock:
            return [to for _, tos in self.envelopes for to in tos]


def start_worker(env: dict[str, str], name: str, log) -> subprocess.Popen:
    return subprocess.Popen(
        [
            PYTHON,
            str(ROOT / "manage.py"),
            "db_worker",
            "--interval=0.3",
            "--no-startup-delay",
            f"--worker-id={name}",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )


def wait_until(condition, seconds: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invitations", type=int, default=300)
    parser.add_argument("--delay", type=float, default=0.04)
    parser.add_argument("--lease", type=int, default=15)
    args = parser.parse_args()
    if not (50 <= args.invitations <= 2000 and 0 < args.delay <= 0.5):
        raise SystemExit("--invitations 50..2000, --delay 0..0.5 s")

    checks = Checks("A worker killed mid-batch and restarted")
    postgres = ThrowawayPostgres(port=5498)
    sink = SlowSink(args.delay).start()
    workers: list[subprocess.Popen] = []
    work = Path(tempfile.mkdtemp(prefix="gs-fault-"))
    log = open(work / "worker.log", "w")  # noqa: SIM115 (closed below)
    try:
        postgres.start()
        env = app_env(
            postgres.create_database(),
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(sink.port),
            EMAIL_TIMEOUT="10",
            GAPSURVEY_SEND_LEASE_SECONDS=str(args.lease),
        )
        prepare_database(env)
        output = manage(
            env,
            "generate_study",
            "--customers=0",
            "--staff=0",
            "--organization=fault-worker",
            f"--unanswered={args.invitations}",
            "--unsent",
        )
        study_id = int(re.search(r"Study (\d+)", output).group(1))
        enqueue = (
            "from surveys.tasks import invitations_send; "
            f"invitations_send.enqueue({study_id})"
        )
        started = time.monotonic()
        manage(env, "shell", "-c", enqueue)
        total = args.invitations
        kill_points = [total // 8, total // 2]
        for n, at in enumerate(kill_points, start=1):
            worker = start_worker(env, f"w{n}", log)
            workers.append(worker)
            reached = wait_until(lambda at=at: sink.count() >= at, 120)
            # Kill while a message is in flight (its recipient being accepted).
            rcpt = sink.rcpt_started
            wait_until(lambda rcpt=rcpt: sink.rcpt_started > rcpt, 10, step=0.002)
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
            ((held,),) = postgres.query(
                "SELECT count(*) FROM surveys_invitation WHERE study_id = %s "
                "AND sent_at IS NULL AND sending_started_at IS NOT NULL",
                [study_id],
            )
            checks.note(
                f"worker w{n} killed (SIGKILL) after {sink.count()} mails, "
                f"{time.monotonic() - started:.1f}s in, leaving {held} rows claimed"
            )
            checks.check(
                reached and held > 0,
                f"worker w{n} was mid-batch when killed ({held} claimed rows unsent)",
            )
            # The restarted worker, and the next trigger queueing the task again.
            manage(env, "shell", "-c", enqueue)
        last = start_worker(env, f"w{len(kill_points) + 1}", log)
        workers.append(last)
        sent_all = wait_until(
            lambda: sink.count() >= total, 60 + 3 * args.lease + total * args.delay
        )
        time.sleep(2 * args.delay + 1)  # anything doubled would arrive by now
        elapsed = time.monotonic() - started
        checks.note(
            f"{sink.count()} mails for {total} invitations in {elapsed:.1f}s "
            f"(claim lease {args.lease}s, {args.delay * 1000:.0f} ms per recipient)"
        )
        recipients = sink.recipients()
        counts: dict[str, int] = {}
        for to in recipients:
            counts[to] = counts.get(to, 0) + 1
        doubled = {to: n for to, n in counts.items() if n > 1}
        expected = {
            email
            for (email,) in postgres.query(
                "SELECT c.email FROM surveys_invitation i JOIN surveys_contact c "
                "ON c.id = i.contact_id WHERE i.study_id = %s",
                [study_id],
            )
        }
        checks.check(sent_all, f"all {total} invitations were mailed")
        checks.check(not doubled, f"no one was mailed twice ({len(doubled)} doubled)")
        checks.check(
            set(counts) == expected,
            f"every invited contact got their mail ({len(expected - set(counts))} "
            "missing, "
            f"{len(set(counts) - expected)} unexpected)",
        )
        ((marked, claimed, failed),) = postgres.query(
            "SELECT count(*) FILTER (WHERE sent_at IS NOT NULL), "
            "count(*) FILTER (WHERE sending_started_at IS NOT NULL), "
            "count(*) FILTER (WHERE failed_at IS NOT NULL) "
            "FROM surveys_invitation WHERE study_id = %s",
            [study_id],
        )
        checks.check(
            marked == total and claimed == 0 and failed == 0,
            f"every invitation is marked sent, none left claimed or failed "
            f"(sent {marked}, claimed {claimed}, failed {failed})",
        )
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
        log.close()
        sink.stop()
        postgres.stop()
        shutil.rmtree(work, ignore_errors=True)
    checks.finish()


if __name__ == "__main__":
    main()
