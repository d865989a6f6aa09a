"""The dashboard in the expectation mode against the perception mode, cold.

    python -m bench.modes [--size 20000] [--runs 5] [--databases postgres]

Three studies of the same size are generated once per database
(`generate_study --mode perception|expectation`, organizations
`bench-perception-<size>`, `bench-expectation-<size>` and
`bench-expectation-default-<size>`, staff = a tenth): the expectation
studies have two ratings per item (E and P), the importance allocations and
the overall rating; the first asks the expectations questionnaire's 15 items
(1.2 times the perception study's answers), the second the perception
study's own 25 items (`--default-items`: twice its answers). After
generating, the answers are vacuumed (as autovacuum soon does on a server:
the visibility map lets the pairs be read from the answers' index alone,
surveys migration 0013). In one child
process, with the dashboard's caches off (DASHBOARD_CACHE_SECONDS = 0: every
view computes, as after each new response), the three dashboards are
fetched through Django's test client in turns (perception, expectation,
expectation on the default items, perception, …) after one warm-up each
(which publishes the first snapshot). Four things per study, in the same
turns:

- cold: the page with no stored results (deleted first): it computes the
  snapshot's view of everyone inline — the numbers, the charts and, in the
  expectation mode, every expectation, importance and priority figure —
  from the snapshot's stored sums (`SnapshotSums`: each snapshot's answers
  are read once, when its numbers are first computed);
- answers: the same with the snapshot's sums deleted too: the page reads
  every answer (what the first computation of a new snapshot does for that
  snapshot's responses; a study's first snapshot holds them all);
- stored: the page reading the stored results (what a manager gets once the
  worker has run);
- build: the worker's job (`snapshot_results_build`): every cut the filters
  allow, computed and stored.

Medians, the ratios expectation / perception for each expectation study
(target for cold: ≤ 1.5), queries per cold page and peak RSS. Results go to
var/bench/results/modes.json.
"""

import argparse
import json
import sys

from bench import common

# name: (mode, on the default questionnaire's items)
MODES = {
    "perception": ("perception", False),
    "expectation": ("expectation", False),
    "expectation_default": ("expectation", True),
}


def _slug(name: str, size: int) -> str:
    return f"bench-{name.replace('_', '-')}-{size}"


def _setup():
    import django

    django.setup()


def _study(name: str, size: int):
    from surveys.models import Study

    return (
        Study.objects.filter(organization__slug=_slug(name, size))
        .select_related("questionnaire", "organization")
        .order_by("-id")
        .first()
    )


def child_prepare(size: int) -> dict:
    import time

    from django.core.management import call_command
    from django.db import connection

    from surveys.models import Answer

    seconds = {}
    for name, (mode, default_items) in MODES.items():
        if _study(name, size) is None:
            started = time.perf_counter()
            call_command(
                "generate_study",
                customers=size,
                staff=max(size // 10, 10),
                organization=_slug(name, size),
                seed=size,
                mode=mode,
                default_items=default_items,
                stdout=sys.stderr,
            )
            seconds[name] = time.perf_counter() - started
    if seconds and connection.vendor == "postgresql":
        # What autovacuum does within a minute of a bulk load: the visibility
        # map lets the expectation mode's pairs come from the answers' index
        # alone (surveys migration 0013), as on a running server.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {Answer._meta.db_table}")
    return {"generate_s": seconds}


def child_page(size: int, runs: int) -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from analysis.dashboard import snapshot_results_build
    from analysis.models import SnapshotResult, SnapshotSums
    from surveys.models import Answer
    from surveys.services import snapshots

    # Computed by the page whatever the size (normally the worker does it for
    # a study this big), and no trend cache.
    settings.DASHBOARD_CACHE_SECONDS = 0
    settings.INLINE_MAX_RESPONDENTS = 10**9
    load = common.loadavg()
    functions, queries, answers = {}, {}, {}
    for mode in MODES:
        study = _study(mode, size)
        manager = get_user_model().objects.get(
            username=f"manager@{study.organization.slug}.example"
        )
        client = Client()
        client.force_login(manager)
        url = reverse("dashboard", args=[study.pk])

        def get(client=client, url=url):
            response = client.get(url)
            assert response.status_code == 200, response.status_code

        def cold(study=study, get=get):
            SnapshotResult.objects.filter(snapshot__study=study).delete()
            get()

        def answers_cold(study=study, get=get):
            SnapshotResult.objects.filter(snapshot__study=study).delete()
            SnapshotSums.objects.filter(snapshot__study=study).delete()
            get()

        def build(study=study):
            SnapshotResult.objects.filter(snapshot__study=study).delete()
            snapshot_results_build(study, snapshots.published(study))

        cold()  # warm-up: publishes the first snapshot, imports, templates
        with CaptureQueriesContext(connection) as captured:
            cold()
        queries[mode] = len(captured.captured_queries)
        answers[mode] = Answer.objects.filter(response__study=study).count()
        functions[f"{mode}_cold"] = cold
        functions[f"{mode}_answers"] = answers_cold
        functions[f"{mode}_stored"] = get
        functions[f"{mode}_build"] = build
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(runs):
        for name, function in functions.items():
            times[name] += common.timed(function, 1)
    return {
        "load": load,
        "times": times,
        "queries": queries,
        "answers": answers,
        "rss_mb": common.maxrss_mb(),
    }


def child_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("phase", choices=["prepare", "page"])
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    _setup()
    if args.phase == "prepare":
        result = child_prepare(args.size)
    else:
        result = child_page(args.size, args.runs)
    print(json.dumps(result, default=float))


# The expectation studies compared with the perception one, as reported.
COMPARED = {
    "expectation": "expectations questionnaire (15 items)",
    "expectation_default": "the perception study's 25 items",
}


def report(rows: list[dict]) -> str:
    def pair(r, name, what):
        p, e = r[f"perception_{what}_ms"], r[f"{name}_{what}_ms"]
        return f"{p:,.0f} / {e:,.0f} ({e / p:.2f}×)"

    return common.table(
        [
            "database",
            "customers + staff",
            "expectation study",
            "answers P / E+P",
            "cold page ms P / E (ratio)",
            "page from the answers ms P / E (ratio)",
            "stored page ms P / E (ratio)",
            "worker build ms P / E (ratio)",
            "queries P / E",
            "RSS MB",
            "load 1/5/15 min",
        ],
        [
            [
                r["database"],
                f"{r['size']:,} + {r['staff']:,}",
                label,
                f"{r['answers']['perception']:,} / {r['answers'][name]:,}",
                pair(r, name, "cold"),
                pair(r, name, "answers"),
                pair(r, name, "stored"),
                pair(r, name, "build"),
                f"{r['queries']['perception']} / {r['queries'][name]}",
                f"{r['rss_mb']:,.0f}",
                r["load"],
            ]
            for r in rows
            for name, label in COMPARED.items()
            if f"{name}_cold_ms" in r
        ],
    )


def main() -> None:
    if "--child" in sys.argv:
        argv = sys.argv[1:]
        argv.remove("--child")
        child_main(argv)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--databases", default="postgres")
    args = parser.parse_args()
    if not (1 <= args.runs <= 50 and 1 <= args.size <= 200_000):
        raise SystemExit("--runs must be 1..50 and --size 1..200000")
    rows = common.load("modes").get("rows", [])
    for database in args.databases.split(","):
        common.database_prepare(database)
        print(f"{database} {args.size:,}: preparing", file=sys.stderr, flush=True)
        prepared = common.run_child("modes", database, "prepare", f"--size={args.size}")
        print(f"{database} {args.size:,}: pages", file=sys.stderr, flush=True)
        measured = common.run_child(
            "modes", database, "page", f"--size={args.size}", f"--runs={args.runs}"
        )
        m = {name: common.median(v) for name, v in measured["times"].items()}
        row = {
            "database": database,
            "size": args.size,
            "staff": max(args.size // 10, 10),
            **{f"{name}_ms": value for name, value in m.items()},
            "ratio": {
                name: m[f"{name}_cold"] / m["perception_cold"] for name in COMPARED
            },
            "queries": measured["queries"],
            "answers": measured["answers"],
            "rss_mb": measured["rss_mb"],
            "load": measured["load"],
            "runs": args.runs,
            "generate_s": prepared["generate_s"],
            "measured_at": common.machine()["date"],
        }
        rows = [r for r in rows if (r["database"], r["size"]) != (database, args.size)]
        rows.append(row)
        common.save("modes", {"machine": common.machine(), "rows": rows})
    print(report(rows))


if __name__ == "__main__":
    main()
