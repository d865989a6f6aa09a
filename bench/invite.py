"""Invitation benchmark: 10,000 invitations through the task worker to an SMTP sink.

    python -m bench.invite [--invitations 10000] [--database postgres|sqlite]
        [--workers 1] [--timeout 600]

An open study with N invitations not yet mailed is generated (`generate_study
--customers 0 --staff 0 --unanswered N --unsent`, organization `bench-invite`, a new
study each run); the sending task (surveys.tasks.invitations_send) is enqueued
once per worker, and `manage.py db_worker --batch` runs it, mailing over SMTP to
an aiosmtpd sink on 127.0.0.1 that only counts what it accepts (no parsing, so
the sink costs the worker as little CPU as possible on the same machine).

Reported: seconds from the worker's start to the last mail accepted (and from
the first to the last mail), mails per second, invitations marked sent in the
database, whether one mail's personal link carries a valid token, and the peak
RSS of each worker process (VmHWM, sampled until it exits). Bounded: the run
stops after --timeout seconds whatever happens.
"""

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench import common

LINK = re.compile(rb"/s/([A-Za-z0-9_-]{43})/")


class CountingSink:
    """An SMTP server on 127.0.0.1 that accepts and counts every message."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.count = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.sample: bytes = b""
        self.lock = threading.Lock()
        self.port = common.free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        now = time.monotonic()
        with self.lock:
            self.count += 1
            self.first_at = self.first_at or now
            self.last_at = now
            if not self.sample:
                self.sample = envelope.content
        return "250 Message accepted"


def child_main(argv: list[str]) -> None:
    import django

    django.setup()
    from surveys.models import Invitation, token_hash

    study_id = int(argv[1])
    if argv[0] == "enqueue":
        from surveys.tasks import invitations_send

        for _ in range(int(argv[2])):
            invitations_send.enqueue(study_id)
        print(json.dumps({"enqueued": int(argv[2])}))
    elif argv[0] == "check":
        invitations = Invitation.objects.filter(study_id=study_id)
        print(
            json.dumps(
                {
                    "sent": invitations.filter(sent_at__isnull=False).count(),
                    "failed": invitations.filter(failed_at__isnull=False).count(),
                    "token_valid": invitations.filter(
                        token_hash=token_hash(argv[2])
                    ).exists(),
                }
            )
        )


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (/proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    if "--child" in sys.argv:
        argv = sys.argv[1:]
        argv.remove("--child")
        child_main(argv)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invitations", type=int, default=10000)
    parser.add_argument(
        "--database", choices=["postgres", "sqlite"], default="postgres"
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--label", default="")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the first worker: var/bench/results/invite-profile.svg",
    )
    args = parser.parse_args()
    if not 1 <= args.timeout <= 3600:
        raise SystemExit("--timeout must be 1..3600 s")

    common.database_prepare(args.database)
    output = common.manage(
        args.database,
        "generate_study",
        "--customers=0",
        "--staff=0",
        "--organization=bench-invite",
        f"--unanswered={args.invitations}",
        "--unsent",
    )
    study_id = int(output.split("study_id=")[1].split()[0])
    sink = CountingSink()
    sink.controller.start()
    workers: list[subprocess.Popen] = []
    peaks: dict[int, float] = {}
    cpu: dict[int, float] = {}
    # This process is the SMTP sink (its asyncio thread) plus a light polling
    # loop: its CPU time tells whether the sink, not the app, is the bound.
    sink_cpu = resource.getrusage(resource.RUSAGE_SELF)
    profiler = None
    try:
        common.run_child(
            "invite", args.database, "enqueue", str(study_id), str(args.workers)
        )
        env = common.child_env(
            args.database,
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(sink.port),
        )
        load = common.loadavg()
        started = time.monotonic()
        for n in range(args.workers):
            workers.append(
                subprocess.Popen(
                    [
                        common.PYTHON,
                        str(common.ROOT / "manage.py"),
                        "db_worker",
                        "--batch",
                        "--no-startup-delay",
                        "--no-reload",
                        f"--worker-id=bench-invite-{n}",
                    ],
                    cwd=common.ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                )
            )
        if args.profile:
            # Waiting counts too (socket reads, the database): the worker's
            # CPU alone is a fraction of its wall time.
            profiler = common.py_spy_record(
                workers[0].pid, "invite-profile", "--rate", "100", "--idle"
            )
        deadline = started + args.timeout
        while time.monotonic() < deadline:
            for worker in workers:
                peak = common.vm_mb(worker.pid)
                if peak is not None:
                    peaks[worker.pid] = max(peaks.get(worker.pid, 0.0), peak)
                used = _cpu_seconds(worker.pid)
                if used is not None:
                    cpu[worker.pid] = used
            if all(worker.poll() is not None for worker in workers):
                break
            if sink.count >= args.invitations:
                # All mailed: let the workers finish their bookkeeping.
                for worker in workers:
                    worker.wait(timeout=max(1.0, deadline - time.monotonic()))
                break
            time.sleep(0.1)
        finished = time.monotonic()
        after = resource.getrusage(resource.RUSAGE_SELF)
        sink_cpu_s = (after.ru_utime - sink_cpu.ru_utime) + (
            after.ru_stime - sink_cpu.ru_stime
        )
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)
        if profiler is not None:
            profiler.wait(timeout=60)  # py-spy stops when its process exits
        sink.controller.stop()

    token = LINK.search(sink.sample)
    check = common.run_child(
        "invite",
        args.database,
        "check",
        str(study_id),
        token.group(1).decode() if token else "-",
    )
    seconds = (sink.last_at or finished) - started
    result = {
        "label": args.label or f"{args.database} workers={args.workers}",
        "database": args.database,
        "workers": args.workers,
        "invitations": args.invitations,
        "mails_accepted": sink.count,
        "seconds_to_last_mail": seconds,
        "seconds_first_to_last_mail": (sink.last_at - sink.first_at)
        if sink.first_at and sink.last_at
        else None,
        "worker_exit_s": finished - started,
        "mails_per_s": sink.count / seconds if seconds else None,
        "marked_sent": check["sent"],
        "marked_failed": check["failed"],
        "link_token_valid": check["token_valid"],
        "worker_peak_rss_mb": list(peaks.values()),
        "worker_cpu_s": list(cpu.values()),
        "sink_cpu_s": sink_cpu_s,
        "load": load,
        "study_id": study_id,
        "measured_at": common.machine()["date"],
    }
    rows = common.save_row("invite", result)
    print(report(rows))


def report(rows: list[dict]) -> str:
    return common.table(
        [
            "run",
            "invitations",
            "s to last mail",
            "s first → last mail",
            "mails/s",
            "accepted",
            "marked sent",
            "token ok",
            "worker peak RSS MB",
            "worker CPU s",
            "sink CPU s",
            "load 1/5/15 min",
        ],
        [
            [
                r["label"],
                r["invitations"],
                f"{r['seconds_to_last_mail']:.1f}",
                f"{r['seconds_first_to_last_mail']:.1f}"
                if r.get("seconds_first_to_last_mail")
                else "–",
                f"{r['mails_per_s']:.0f}" if r["mails_per_s"] else "–",
                r["mails_accepted"],
                r["marked_sent"],
                "yes" if r["link_token_valid"] else "NO",
                " / ".join(f"{m:.0f}" for m in r["worker_peak_rss_mb"]),
                " / ".join(f"{c:.1f}" for c in r.get("worker_cpu_s", [])),
                f"{r['sink_cpu_s']:.1f}" if "sink_cpu_s" in r else "–",
                r.get("load", "?"),
            ]
            for r in rows
        ],
    )


if __name__ == "__main__":
    main()
