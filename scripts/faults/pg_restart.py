"""Fault: PostgreSQL restarts while customers are submitting.

    .venv/bin/python -m scripts.faults.pg_restart [--threads 6] [--before 3]
        [--after 6] [--tokens 3000]

A throwaway PostgreSQL cluster (never the machine's own), gunicorn (2 sync
workers, persistent connections: DATABASE_CONN_MAX_AGE=60) against it, and
threads posting complete survey answers, each on its own token. Mid-load the
cluster is restarted with `pg_ctl restart -m fast`, which cuts every connection.

Passes when: requests caught by the restart fail cleanly (a 5xx or a refused
connection, never a hang or a wrong answer); the app recovers by itself (every
submission started a second after the restart succeeds, with the same gunicorn
workers); a failed submission can simply be sent again; and the database holds
exactly one complete response per answered token (none for the others).
"""

import argparse
import hashlib
import queue
import re
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from scripts.faults.common import (
    Checks,
    ThrowawayPostgres,
    app_env,
    free_port,
    manage,
    prepare_database,
    start_gunicorn,
    stop_process,
)

REQUEST_TIMEOUT = 20.0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(_NoRedirect)


def post(url: str, body: bytes) -> tuple[str, float]:
    """POST; the status ("302", "500", …) or the connection error, and seconds."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    started = time.monotonic()
    try:
        with OPENER.open(request, timeout=REQUEST_TIMEOUT) as response:
            outcome = str(response.status)
    except urllib.error.HTTPError as error:
        outcome = str(error.code)
    except TimeoutError:
        outcome = "timeout"
    except (urllib.error.URLError, ConnectionError, OSError) as error:
        reason = getattr(error, "reason", error)
        outcome = "timeout" if "timed out" in str(reason) else "connection-error"
    return outcome, time.monotonic() - started


def form_body(base: str, token: str) -> bytes:
    """A complete, valid answer body for the study, read from its form."""
    html = urllib.request.urlopen(f"{base}/s/{token}/", timeout=10).read().decode()
    items = sorted(set(re.findall(r'name="(item_\d+)"', html)))
    key = re.search(r'name="questionnaire_key" value="([^"]*)"', html).group(1)
    fields = [f"{name}=5" for name in items]
    fields += [f"questionnaire_key={key}", "comment=fault+test"]
    return "&".join(fields).encode(), len(items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=6)
    parser.add_argument("--before", type=float, default=3.0, help="load seconds")
    parser.add_argument("--after", type=float, default=6.0, help="load seconds")
    parser.add_argument("--tokens", type=int, default=3000)
    args = parser.parse_args()
    if not (1 <= args.threads <= 32 and args.before + args.after <= 120):
        raise SystemExit("--threads 1..32, --before + --after <= 120 s")

    checks = Checks("PostgreSQL restarted during a load of submissions")
    postgres = ThrowawayPostgres(port=5499)
    gunicorn = None
    work = Path(tempfile.mkdtemp(prefix="gs-fault-"))
    try:
        postgres.start()
        checks.note(f"throwaway cluster on 127.0.0.1:{postgres.port} ({postgres.dir})")
        env = app_env(
            postgres.create_database(),
            DATABASE_CONN_MAX_AGE="60",
            GAPSURVEY_RATE_LIMITS="false",
        )
        prepare_database(env)
        health = manage(
            env,
            "shell",
            "-c",
            "from django.conf import settings; "
            "print(settings.DATABASES['default']['CONN_HEALTH_CHECKS'])",
        ).split()[-1]
        checks.check(health == "True", f"CONN_HEALTH_CHECKS is on ({health})")
        tokens_file = work / "tokens.txt"
        manage(
            env,
            "generate_study",
            "--customers=20",
            "--staff=5",
            "--organization=fault-pg",
            f"--unanswered={args.tokens}",
            f"--tokens-file={tokens_file}",
        )
        tokens = tokens_file.read_text().split()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(work / "gunicorn.log", "w")  # noqa: SIM115 (closed with the dir)
        gunicorn = start_gunicorn(env, port, workers=2, log=log)
        worker_pids = sorted(
            Path(f"/proc/{gunicorn.pid}/task/{gunicorn.pid}/children")
            .read_text()
            .split()
        )
        body, item_count = form_body(base, tokens.pop())

        pending: queue.Queue[str] = queue.Queue()
        for token in tokens[:-20]:
            pending.put(token)
        spare = tokens[-20:]  # for the after-checks
        results: list[tuple[str, str, float, float]] = []  # token, outcome, t0, secs
        lock = threading.Lock()
        stop = threading.Event()
        t_zero = time.monotonic()

        def load() -> None:
            while not stop.is_set():
                try:
                    token = pending.get_nowait()
                except queue.Empty:
                    return
                started = time.monotonic() - t_zero
                outcome, seconds = post(f"{base}/s/{token}/", body)
                with lock:
                    results.append((token, outcome, started, seconds))

        threads = [threading.Thread(target=load) for _ in range(args.threads)]
        for thread in threads:
            thread.start()
        time.sleep(args.before)
        restart_began = time.monotonic() - t_zero
        postgres.restart()
        restart_done = time.monotonic() - t_zero
        time.sleep(args.after)
        stop.set()
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT + 5)
        checks.check(
            not any(thread.is_alive() for thread in threads), "every load thread ended"
        )

        outcomes: dict[str, int] = {}
        for _, outcome, _, _ in results:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        slowest = max(seconds for *_, seconds in results)
        checks.note(
            f"{len(results)} submissions by {args.threads} threads; restart at "
            f"{restart_began:.1f}s, done at {restart_done:.1f}s; outcomes {outcomes}; "
            f"slowest request {slowest:.2f}s"
        )
        failed = [r for r in results if r[1] != "302"]
        checks.check(
            all(r[1] in ("500", "502", "503", "connection-error") for r in failed),
            f"every failed request failed cleanly (5xx or refused): {len(failed)} "
            "failed, none hung or answered wrongly",
        )
        checks.check(
            "timeout" not in outcomes and slowest < REQUEST_TIMEOUT,
            f"no request hung (slowest {slowest:.2f}s)",
        )
        settled = [r for r in results if r[2] > restart_done + 1.0]
        checks.check(
            len(settled) >= 20 and all(r[1] == "302" for r in settled),
            f"recovered without a restart of the app: {len(settled)} submissions "
            f"started 1 s after the restart, "
            f"{sum(r[1] == '302' for r in settled)} succeeded",
        )
        now_pids = sorted(
            Path(f"/proc/{gunicorn.pid}/task/{gunicorn.pid}/children")
            .read_text()
            .split()
        )
        checks.check(
            now_pids == worker_pids,
            f"the same gunicorn workers served throughout ({', '.join(now_pids)})",
        )

        # A customer whose submission failed sends it again: it goes through, or
        # (if the failed request had committed) it says the survey was answered.
        again = {token: post(f"{base}/s/{token}/", body)[0] for token, *_ in failed}
        checks.check(
            all(outcome in ("302", "200") for outcome in again.values()),
            f"each failed submission sent again succeeds: {len(again)} retried, "
            f"{sum(o == '302' for o in again.values())} stored now, "
            f"{sum(o == '200' for o in again.values())} had been stored",
        )
        # A second submit of an answered token is refused as already answered.
        done_token = next(token for token, outcome, *_ in results if outcome == "302")
        checks.check(
            post(f"{base}/s/{done_token}/", body)[0] == "200",
            "a second submit of an answered token says it was already answered",
        )
        checks.check(
            all(post(f"{base}/s/{t}/", body)[0] == "302" for t in spare[:5]),
            "fresh submissions after the retries succeed",
        )

        # The database: one complete response per answered token, none twice.
        answered = {token for token, outcome, *_ in results if outcome == "302"}
        answered |= {t for t, o in again.items() if o in ("302", "200")}
        answered |= set(spare[:5])
        per_hash = dict(
            postgres.query(
                "SELECT i.token_hash, count(r.id) FROM surveys_invitation i "
                "LEFT JOIN surveys_response r ON r.invitation_id = i.id "
                "GROUP BY i.token_hash"
            )
        )
        hashed = {hashlib.sha256(t.encode()).hexdigest(): t for t in tokens}
        doubles = [h for h, n in per_hash.items() if n > 1]
        missing = [
            t
            for t in answered
            if per_hash.get(hashlib.sha256(t.encode()).hexdigest()) != 1
        ]
        extra = [
            h
            for h, n in per_hash.items()
            if n and h in hashed and hashed[h] not in answered
        ]
        checks.check(not doubles, f"no token has two responses ({len(doubles)})")
        checks.check(
            not missing,
            f"every answered token has its one response ({len(answered)} tokens, "
            f"{len(missing)} missing)",
        )
        checks.check(
            not extra, f"no response for a token never answered ({len(extra)})"
        )
        partial = postgres.query(
            "SELECT r.id FROM surveys_response r "
            "LEFT JOIN surveys_answer a ON a.response_id = r.id "
            "WHERE r.invitation_id IS NOT NULL GROUP BY r.id HAVING count(a.id) <> %s",
            [item_count],
        )
        checks.check(
            not partial,
            f"no half-written response: each has all {item_count} answers "
            f"({len(partial)} partial)",
        )
        log.close()
    finally:
        stop_process(gunicorn)
        postgres.stop()
        shutil.rmtree(work, ignore_errors=True)
    checks.finish()


if __name__ == "__main__":
    main()
