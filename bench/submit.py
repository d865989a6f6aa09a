"""Submission benchmark: customer survey POSTs per second under gunicorn.

    python -m bench.submit --compare …   (the peer, GapSurvey and the floor
                                          side by side: bench/compare.py)
    python -m bench.submit [--duration 20] [--repeat 3] [--connections 4]
        [--workers 2 | --workers 2,4] [--tokens 20000] [--rate-limits off|on]
        [--conn-max-age 60] [--followup off|case]
        [--mode perception|expectation|tolerance|perception,expectation]
        [--profile]

gunicorn (sync workers, default 2) serves the app on 127.0.0.1 with PostgreSQL;
`wrk` (Debian package wrk) drives it with bench/submit.lua for --duration
seconds, --repeat times against the same server (each run on its own share of
the tokens): every request is a complete valid submission (all items of the
default questionnaire, random values) on its own token, so every one writes a
response. The row reports the medians of the runs, and each run beside them.
`--workers 2,4` sweeps the worker count: each round runs every count in turn
(a fresh gunicorn each), a row per count, and prints their ratio.

The study: `generate_study --customers 1000 --staff 100 --unanswered <tokens>` in
organization `bench-submit` (a new study each run; tokens are single-use), the
plain tokens written to var/bench/tokens.txt for the Lua script.

Reported: submissions/s (302 responses per second), latency p50/p90/p99 (wrk's
own measurement), non-302 answers, the responses actually written (checked in
the database), the peak RSS of each gunicorn worker (VmHWM) and the load
average. --profile attaches py-spy to one worker for the first run and writes
a flame graph (var/bench/results/submit-profile.svg). Rate limits are off (every
request comes from 127.0.0.1); --rate-limits on keeps the middleware, with the
per-address survey limit raised out of the way, to measure its cost.
--followup case turns the study's follow-up rules on ("always") and ticks the
consent in every request, so that every submission opens a follow-up case and
queues its owner's mail (issue 18): compare its row with the plain one.
"""

import argparse
import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from bench import common

TOKENS = common.ROOT / "var" / "bench" / "tokens.txt"
BODY = common.ROOT / "var" / "bench" / "body.txt"
BACKGROUND_CUSTOMERS = 1000


def child_main(argv: list[str]) -> None:
    """In Django: the form body of the default questionnaire, or a count."""
    import django

    django.setup()
    from surveys.models import Response, Study

    if argv[0] == "body":
        from surveys.areas import areas
        from surveys.forms.answers import (
            OVERALL_FIELD,
            POINTS_PREFIX,
            item_field_name,
        )

        study = Study.objects.get(pk=int(argv[1]))
        questionnaire = study.questionnaire
        items = list(questionnaire.items.order_by("position", "id"))
        # Every rating of every item the mode asks for (E and P; A, D and P),
        # each a random value on the scale.
        names = [
            item_field_name(item, kind)
            for item in items
            for kind in questionnaire.kinds
        ]
        fields = [f"{name}={{v{n}}}" for n, name in enumerate(names)]
        fields.append(f"questionnaire_key={questionnaire.pk}:{len(items)}")
        fields.append("comment=")
        if questionnaire.ask_importance:
            # The same valid allocation every time: 100 points spread evenly.
            keys = [key for key, _label in areas(items)]
            shares = [100 // len(keys)] * len(keys)
            shares[0] += 100 - sum(shares)
            fields += [
                f"{POINTS_PREFIX}{key}={n}" for key, n in zip(keys, shares, strict=True)
            ]
        if questionnaire.ask_overall:
            fields.append(f"{OVERALL_FIELD}={{v{len(names)}}}")
        print(
            json.dumps(
                {
                    "body": "&".join(fields),
                    "scale": [questionnaire.scale_min, questionnaire.scale_max],
                }
            )
        )
    elif argv[0] == "queries":
        # queries gapsurvey|floor <study_id> <token> <token> <token>
        print(json.dumps(_queries(argv[1], int(argv[2]), argv[3:])))
    elif argv[0] == "compare-count":
        # bench.compare: GapSurvey's submissions (through an invitation) and
        # the floor's (none) in the study.
        submitted = Response.objects.filter(
            study_id=int(argv[1]), status="submitted", audience="customer"
        )
        print(
            json.dumps(
                {
                    "gapsurvey": submitted.filter(invitation__isnull=False).count(),
                    "floor": submitted.filter(invitation__isnull=True).count(),
                }
            )
        )
    elif argv[0] == "followup":
        from surveys.models import Membership
        from surveys.services.followup import followup_rules_set

        study = Study.objects.get(pk=int(argv[1]))
        owner = Membership.objects.filter(
            organization_id=study.organization_id, role="manager"
        ).first()
        followup_rules_set(
            study=study,
            actor=None,
            enabled=True,
            trigger="always",
            threshold=None,
            due_hours=48,
            owner_id=owner.user_id,
            segment_owner_ids={},
            mail_customer=False,
        )
        print(json.dumps({"owner": owner.user_id}))
    elif argv[0] == "count":
        study_id = int(argv[1])
        submitted = Response.objects.filter(
            study_id=study_id, status="submitted", invitation__isnull=False
        )
        from surveys.models import Case

        print(
            json.dumps(
                {
                    "responses": submitted.count(),
                    "cases": Case.objects.filter(study_id=study_id).count(),
                }
            )
        )


def _queries(system: str, study_id: int, tokens: list[str]) -> dict:
    """The SQL statements of one complete customer submission (the third of
    three: the first ones fill the caches a warm worker has), through Django's
    test client with the benchmark's settings and URLconf; GapSurvey's survey
    link, each on its own token, or the floor view."""
    import random

    from django.test import Client

    from bench.querycount import post_counted, summary
    from surveys.models import Study

    study = Study.objects.select_related("questionnaire").get(pk=study_id)
    questionnaire = study.questionnaire
    items = list(questionnaire.items.order_by("position", "id"))
    scale = (questionnaire.scale_min, questionnaire.scale_max)
    statuses, each = [], []
    for n in range(3):
        data = {f"item_{item.pk}": str(random.randint(*scale)) for item in items}
        data |= {"questionnaire_key": f"{questionnaire.pk}:{len(items)}", "comment": ""}
        if system == "gapsurvey":
            path = f"/s/{tokens[n]}/"
        else:
            path = f"/bench/floor/{study_id}/"
        status, statements = post_counted(Client(), path, data)
        statuses.append(status)
        each.append(statements)
    return summary(statuses, each)


def _worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()]


def main() -> None:
    if "--child" in sys.argv:
        argv = sys.argv[1:]
        argv.remove("--child")
        child_main(argv)
        return
    if "--compare" in sys.argv:
        from bench import compare

        compare.main([arg for arg in sys.argv[1:] if arg != "--compare"])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument(
        "--workers",
        default="2",
        help="gunicorn worker processes; a list (2,4) sweeps them, interleaved",
    )
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=20000)
    parser.add_argument("--rate-limits", choices=["on", "off"], default="off")
    parser.add_argument("--conn-max-age", type=int, default=60)
    parser.add_argument("--followup", choices=["off", "case"], default="off")
    parser.add_argument(
        "--mode",
        default="perception",
        help="the questionnaire's measurement mode (expectation and tolerance "
        "with importance and the overall rating: two or three ratings an "
        "item); a list (perception,expectation) runs them in turns",
    )
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--label", default="", help="name of this row in the results")
    args = parser.parse_args()
    if not 1 <= args.duration <= 300:
        raise SystemExit("--duration must be 1..300 s")
    if not 1 <= args.repeat <= 10:
        raise SystemExit("--repeat must be 1..10")
    try:
        sweep = [int(n) for n in args.workers.split(",")]
    except ValueError:
        raise SystemExit("--workers is a number or a list of numbers: 2,4")
    if not sweep or not all(1 <= n <= 16 for n in sweep):
        raise SystemExit("--workers must be 1..16 each")
    common.require("wrk", "apt-get install -y wrk")

    modes = args.mode.split(",")
    if not modes or not set(modes) <= {"perception", "expectation", "tolerance"}:
        raise SystemExit("--mode is perception, expectation, tolerance or a list")
    database = "postgres"
    common.database_prepare(database)
    TOKENS.parent.mkdir(parents=True, exist_ok=True)
    # A study per mode, each with its own tokens and form body.
    studies = {}
    for mode in modes:
        tokens_file = TOKENS.with_name(f"tokens-{mode}.txt")
        output = common.manage(
            database,
            "generate_study",
            f"--customers={BACKGROUND_CUSTOMERS}",
            "--staff=100",
            "--organization=bench-submit",
            f"--unanswered={args.tokens}",
            f"--tokens-file={tokens_file}",
            f"--mode={mode}",
        )
        study_id = int(output.split("study_id=")[1].split()[0])
        body = common.run_child("submit", database, "body", str(study_id))
        if args.followup == "case":
            common.run_child("submit", database, "followup", str(study_id))
            body["body"] += "&contact_ok=on&contact_channel=email"
        body_file = BODY.with_name(f"body-{mode}.txt")
        body_file.write_text(body["body"])
        studies[mode] = {
            "study_id": study_id,
            "body": body_file,
            "scale": tuple(body["scale"]),
            "tokens": tokens_file.read_text().split(),
        }

    env = common.child_env(
        database,
        DATABASE_CONN_MAX_AGE=str(args.conn_max_age),
        GAPSURVEY_RATE_LIMITS="true" if args.rate_limits == "on" else "false",
        GAPSURVEY_SURVEY_RATE=str(10**9),
    )
    # Interleaved: round 1 at each mode and worker count, then round 2, ... so
    # that a change in the machine's load falls on every one alike.
    cases = [(mode, workers) for mode in modes for workers in sweep]
    share = args.tokens // (args.repeat * len(sweep))
    runs: dict[tuple, list[dict]] = {case: [] for case in cases}
    worker_rss: dict[tuple, list] = {}
    used = dict.fromkeys(modes, 0)
    for run in range(args.repeat):
        for mode, workers in cases:
            mine = studies[mode]
            part = TOKENS.with_name(f"tokens-{mode}-{used[mode]}.txt")
            start = used[mode] * share
            part.write_text("\n".join(mine["tokens"][start : start + share]) + "\n")
            used[mode] += 1
            measured, rss = _measure(
                args,
                env,
                workers=workers,
                tokens=part,
                body=mine["body"],
                scale=mine["scale"],
                profile=args.profile and run == 0 and (mode, workers) == cases[0],
            )
            runs[(mode, workers)].append(measured)
            worker_rss[(mode, workers)] = rss

    keys = ["submissions_per_s", "p50_ms", "p90_ms", "p99_ms", "max_ms"]
    rows = []
    for mode in modes:
        study_id = studies[mode]["study_id"]
        counted = common.run_child("submit", database, "count", str(study_id))
        written = counted["responses"] - BACKGROUND_CUSTOMERS
        for workers in sweep:
            mine = runs[(mode, workers)]
            result = {key: common.median([r[key] for r in mine]) for key in keys}
            result.update(
                label=(args.label + " " if args.label else "")
                + f"c={args.connections} w={workers} rl={args.rate_limits}"
                + (" followup=case" if args.followup == "case" else "")
                + (f" mode={mode}" if mode != "perception" else ""),
                followup=args.followup,
                mode=mode,
                cases_opened=counted.get("cases", 0),
                connections=args.connections,
                workers=workers,
                rate_limits=args.rate_limits,
                conn_max_age=args.conn_max_age,
                duration=args.duration,
                repeat=args.repeat,
                runs=mine,
                requests=sum(r["requests"] for r in mine),
                status_302=sum(r["status_302"] for r in mine),
                tokens_used_up=sum(r["tokens_used_up"] for r in mine),
                study_id=study_id,
                # The study's responses of the whole sweep (every count).
                responses_written=written if len(sweep) == 1 else None,
                responses_written_sweep=written,
                worker_peak_rss_mb=worker_rss[(mode, workers)],
                load="; ".join(r["load"] for r in mine),
                measured_at=common.machine()["date"],
            )
            rows = common.save_row("submit", result)
            if result["tokens_used_up"]:
                print(f"WARNING: tokens ran out; raise --tokens (now {args.tokens})")
    print(report(rows))
    base_case = cases[0]
    base = common.median([r["submissions_per_s"] for r in runs[base_case]])
    for case in cases[1:]:
        rate = common.median([r["submissions_per_s"] for r in runs[case]])
        print(
            f"{case[0]}, {case[1]} workers / {base_case[0]}, {base_case[1]} "
            f"workers: {rate / base:.2f}x ({rate:.0f} / {base:.0f} "
            f"submissions/s, medians of {args.repeat} interleaved runs)"
        )


def _measure(
    args, env, *, workers: int, tokens: Path, body: Path, scale, profile: bool
):
    """One wrk run against a fresh gunicorn of `workers` processes; the run's
    figures and the workers' peak RSS."""
    wrk = common.require("wrk", "apt-get install -y wrk")
    port = common.free_port()
    gunicorn = subprocess.Popen(
        [
            str(Path(common.PYTHON).parent / "gunicorn"),
            "gapsurvey.wsgi",
            f"--workers={workers}",
            f"--bind=127.0.0.1:{port}",
            "--log-level=warning",
        ],
        cwd=common.ROOT,
        env=env,
    )
    profiler = None
    try:
        base = f"http://127.0.0.1:{port}"
        common.wait_http(base + "/accounts/login/")
        pids = _worker_pids(gunicorn.pid)
        # Warm the workers up (imports, templates, connections) without using
        # tokens: GETs of the login page.
        for _ in range(10 * workers):
            try:
                urllib.request.urlopen(base + "/accounts/login/", timeout=5)
            except urllib.error.HTTPError:
                pass
        if profile:
            profiler = common.py_spy_record(
                pids[0],
                "submit-profile",
                *("--duration", str(args.duration), "--rate", "250"),
            )
        load = common.loadavg()
        done = subprocess.run(
            [
                wrk,
                f"--threads={args.threads}",
                f"--connections={args.connections}",
                f"--duration={args.duration}s",
                "--timeout=10s",
                "--script",
                str(common.ROOT / "bench" / "submit.lua"),
                base,
                "--",
                str(tokens),
                str(body),
                str(args.threads),
                str(scale[0]),
                str(scale[1]),
            ],
            capture_output=True,
            text=True,
            timeout=args.duration + 60,
        )
        sys.stderr.write(done.stdout)
        line = next(
            row for row in done.stdout.splitlines() if row.startswith("BENCH_JSON ")
        )
        measured = json.loads(line.removeprefix("BENCH_JSON "))
        measured["submissions_per_s"] = measured["status_302"] / measured["seconds"]
        measured["load"] = load
        measured["workers"] = workers
        rss = [common.vm_mb(pid) for pid in pids]
    finally:
        if profiler is not None:
            profiler.wait(timeout=args.duration + 60)
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)
    return measured, rss


def report(rows: list[dict]) -> str:
    """Medians of each row's runs; the runs' own submissions/s beside them."""
    return common.table(
        [
            "run",
            "submissions/s (median)",
            "each run",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "max ms",
            "non-302",
            "written / 302",
            "worker peak RSS MB",
            "load 1/5/15 min per run",
        ],
        [
            [
                r["label"],
                f"{r['submissions_per_s']:.0f}",
                " / ".join(f"{x['submissions_per_s']:.0f}" for x in r.get("runs", [])),
                f"{r['p50_ms']:.1f}",
                f"{r['p90_ms']:.1f}",
                f"{r['p99_ms']:.1f}",
                f"{r['max_ms']:.0f}",
                r["requests"] - r["status_302"],
                (
                    f"{r['responses_written']} / {r['status_302']}"
                    if r.get("responses_written") is not None
                    else f"(sweep) {r.get('responses_written_sweep')}"
                ),
                " / ".join(f"{m:.0f}" for m in r["worker_peak_rss_mb"]),
                r.get("load", "?"),
            ]
            for r in rows
        ],
    )


if __name__ == "__main__":
    main()
