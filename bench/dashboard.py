"""Dashboard benchmark: page and analysis time, queries and memory, by study size.

    python -m bench.dashboard [--sizes 1000,10000,20000,100000] [--databases
        postgres,sqlite] [--runs 7]

For each database and size (customer responses; staff = a tenth, so 20000 is the
target's 20k + 2k study) a study is generated once (`generate_study`, organization
`bench-<size>`, reused by later runs), then each measurement runs in a fresh
process so its peak memory is its own:

- page: the dashboard URL through Django's test client as the study's manager
  (access check, queries, statistics, charts, template), debug off; "cold":
  the study's stored results deleted before every view and the trend cache off
  (what the first viewer of a new snapshot computes when the worker has not
  stored its results yet), "cached": the stored results read (what every
  other view does; bench/results.py measures every cut and the worker);
- analysis: `analysis.dashboard.dashboard_data` alone, what the view chains
  (cold, and cached);
- floor: the SQL the cold analysis issued (captured from one run) re-run on a raw
  cursor with every row fetched, no ORM, no pandas — the time no Python code on
  top of these queries can beat; and "sql-gaps": the per-gap mean/SD/n of both
  audiences computed entirely in one nested GROUP BY;
- naive: every answer loaded with one values_list into a pandas DataFrame, then
  the same per-gap means, SDs, n and deltas (checked against the analysis).

Reported: medians of --runs runs (after one warm-up), ratios, the growth exponent
between sizes (time ∝ size^k), queries per page, tracemalloc peak of one page
and the peak RSS of each process. Results go to bench/results/dashboard.json.
"""

import argparse
import json
import math
import sys

from bench import common

GAPS_SQL = """
SELECT s.audience, s.gap, COUNT(*), AVG(s.score),
       SUM(s.score * s.score), SUM(s.score)
FROM (
    SELECT r.audience AS audience, i.gap AS gap, r.id AS response_id,
           AVG(CAST(a.value AS DOUBLE PRECISION)) AS score
    FROM surveys_answer a
    JOIN surveys_response r ON a.response_id = r.id
    JOIN surveys_item i ON a.item_id = i.id
    WHERE r.study_id = %s AND r.status = 'submitted' AND a.kind = 'P'
      AND a.value IS NOT NULL
    GROUP BY r.audience, i.gap, r.id
) s
GROUP BY s.audience, s.gap
"""


# --- in the child process (Django set up, one database) -----------------------------


def _setup():
    import django

    django.setup()


def _study(size: int):
    from surveys.models import Study

    return (
        Study.objects.filter(organization__slug=f"bench-{size}")
        .select_related("questionnaire", "organization")
        .order_by("-id")
        .first()
    )


def child_prepare(size: int) -> dict:
    """Generate the study of this size unless it is there; its id."""
    import time

    from django.core.management import call_command

    study = _study(size)
    seconds = None
    if study is None:
        started = time.perf_counter()
        call_command(
            "generate_study",
            customers=size,
            staff=max(size // 10, 10),
            organization=f"bench-{size}",
            seed=size,
            stdout=sys.stderr,
        )
        seconds = time.perf_counter() - started
        study = _study(size)
    return {"study_id": study.pk, "generate_s": seconds}


def _cache(on: bool) -> None:
    """Let the dashboard read what is stored (its default) or make it compute:
    off = no stored results of the study's snapshots (deleted before every
    call that goes through `_fresh`), no trend cache, and the page computing
    whatever the study's size."""
    from django.conf import settings

    if on:
        if hasattr(settings, "DASHBOARD_CACHE_SECONDS"):
            del settings.DASHBOARD_CACHE_SECONDS
        settings.INLINE_MAX_RESPONDENTS = 10**9
    else:
        settings.DASHBOARD_CACHE_SECONDS = 0
        settings.INLINE_MAX_RESPONDENTS = 10**9


def _fresh(study, function):
    """`function` with the study's stored results and sums deleted first when
    the cache is off (so it computes from the answers, as the first view of a
    study's first snapshot before the worker would)."""
    from django.conf import settings

    from analysis.models import SnapshotResult, SnapshotSums

    def call():
        if getattr(settings, "DASHBOARD_CACHE_SECONDS", None) == 0:
            SnapshotResult.objects.filter(snapshot__study=study).delete()
            SnapshotSums.objects.filter(snapshot__study=study).delete()
        return function()

    return call


def _analysis_statements(study) -> list[str]:
    """The SQL one cold `dashboard_data` issues (interpolated, as run)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from analysis.dashboard import dashboard_data

    _cache(False)
    compute = _fresh(study, lambda: dashboard_data(study))
    compute()  # publishes first, if anything waits
    with CaptureQueriesContext(connection) as captured:
        compute()
    return [query["sql"] for query in captured.captured_queries]


def _floor(statements: list[str]):
    """A function re-running the statements on the driver's own cursor, every
    row fetched: no ORM, no pandas, no Python on top."""
    from django.db import connection

    def floor():
        with connection.cursor() as wrapper:
            raw = wrapper.cursor
            for sql in statements:
                raw.execute(sql)
                raw.fetchall()

    return floor


def _interleaved(functions: dict, runs: int) -> dict[str, list[float]]:
    """Each function timed `runs` times, taking turns (a, b, a, b, …), so that
    all of them meet the same load of a shared machine; ms lists by name."""
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(runs):
        for name, function in functions.items():
            times[name] += common.timed(function, 1)
    return times


def child_page(size: int, runs: int) -> dict:
    """Dashboard page through the test client; medians, queries, memory.

    "cold": the aggregate cache off, every view computes (what a manager sees
    after every new response, which bumps the study's changed_at); "cached": a
    hit of the dashboard's cache of aggregates.
    """
    import tracemalloc

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    study = _study(size)
    manager = get_user_model().objects.get(
        username=f"manager@{study.organization.slug}.example"
    )
    client = Client()
    client.force_login(manager)
    url = reverse("dashboard", args=[study.pk])

    def fetch():
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        return response

    get = _fresh(study, fetch)

    floor = _floor(_analysis_statements(study))
    result = {"page_load": common.loadavg()}
    for mode in ("cold", "cached"):
        _cache(mode == "cached")
        size_bytes = len(get().content)  # warm-up: imports, templates, cache fill
        if mode == "cold":
            floor()
            # The page and its SQL floor side by side, in turns.
            both = _interleaved({"page": get, "floor": floor}, runs)
            times, result["page_floor_ms"] = both["page"], both["floor"]
        else:
            times = common.timed(get, runs)
        with CaptureQueriesContext(connection) as captured:
            get()
        # Read now: the next request's request_started signal empties the log.
        queries = len(captured.captured_queries)
        tracemalloc.start()
        get()
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        suffix = "" if mode == "cold" else "_cached"
        result.update(
            {
                f"page{suffix}_ms": times,
                f"queries{suffix}": queries,
                f"page{suffix}_traced_mb": traced_peak / 2**20,
            }
        )
    result.update(html_kb=size_bytes / 1024, page_rss_mb=common.maxrss_mb())
    return result


def child_analysis(size: int, runs: int) -> dict:
    """dashboard_data alone, and its SQL re-run raw (the floor), in turns."""
    from django.db import connection

    from analysis.dashboard import dashboard_data

    study = _study(size)
    load = common.loadavg()
    _cache(True)
    dashboard_data(study)  # warm-up, cache fill
    cached_times = common.timed(lambda: dashboard_data(study), runs)
    statements = _analysis_statements(study)  # cache off from here on
    rss_analysis = common.maxrss_mb()
    floor = _floor(statements)

    def sql_gaps():
        with connection.cursor() as cursor:
            cursor.execute(GAPS_SQL, [study.pk])
            return cursor.fetchall()

    floor()
    sql_gaps()
    times = _interleaved(
        {
            "analysis": _fresh(study, lambda: dashboard_data(study)),
            "floor": floor,
            "sql_gaps": sql_gaps,
        },
        runs,
    )
    return {
        "analysis_load": load,
        "analysis_ms": times["analysis"],
        "analysis_cached_ms": cached_times,
        "analysis_queries": len(statements),
        "analysis_rss_mb": rss_analysis,
        "floor_ms": times["floor"],
        "sql_gaps_ms": times["sql_gaps"],
    }


def naive_gaps(study):
    """Every answer into pandas, then per-gap mean/SD/n per audience and Δ."""
    import pandas as pd

    from surveys.models import Answer

    rows = Answer.objects.filter(
        response__study=study, response__status="submitted", kind="P"
    ).values_list("response_id", "response__audience", "item__gap", "value")
    frame = pd.DataFrame.from_records(
        list(rows), columns=["response_id", "audience", "gap", "value"]
    )
    frame = frame.dropna(subset=["value"])
    scores = frame.groupby(["response_id", "audience", "gap"])["value"].mean()
    table = scores.groupby(["gap", "audience"]).agg(["mean", "std", "count"])
    table = table.unstack("audience")
    table[("delta", "")] = table[("mean", "internal")] - table[("mean", "customer")]
    return table


def child_naive(size: int, runs: int) -> dict:
    from analysis.dashboard import study_results

    study = _study(size)
    _cache(False)
    naive_gaps(study)  # warm-up
    times = common.timed(lambda: naive_gaps(study), runs)
    rss = common.maxrss_mb()  # before the check below adds its own memory
    naive = naive_gaps(study)
    table = study_results(study)["gap_table"].set_index("gap")
    difference = max(
        abs(naive.loc[gap, ("delta", "")] - table.loc[gap, "delta"])
        for gap in naive.index
    )
    return {"naive_ms": times, "naive_rss_mb": rss, "naive_max_delta_diff": difference}


def child_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("phase", choices=["prepare", "page", "analysis", "naive"])
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    _setup()
    if args.phase == "prepare":
        result = child_prepare(args.size)
    else:
        phase = {"page": child_page, "analysis": child_analysis, "naive": child_naive}
        result = phase[args.phase](args.size, args.runs)
    print(json.dumps(result, default=float))


# --- the driver --------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def _growth(rows: list[dict], key: str, size: int) -> str:
    """Exponent k of time ∝ size^k from the previous size to this one."""
    previous = [r for r in rows if r["size"] < size]
    this = next(r for r in rows if r["size"] == size)
    if not previous:
        return "–"
    before = previous[-1]
    k = math.log(this[key] / before[key]) / math.log(size / before["size"])
    return f"{k:.2f}"


def summarise(database: str, size: int, measured: dict) -> dict:
    m = {key: common.median(v) for key, v in measured.items() if key.endswith("_ms")}
    return {
        "database": database,
        "size": size,
        "staff": max(size // 10, 10),
        **{f"{key}_p50": value for key, value in m.items()},
        "page_max_ms": max(measured["page_ms"]),
        "queries": measured["queries"],
        "queries_cached": measured["queries_cached"],
        "analysis_queries": measured["analysis_queries"],
        "html_kb": measured["html_kb"],
        "page_traced_mb": measured["page_traced_mb"],
        "page_cached_traced_mb": measured["page_cached_traced_mb"],
        "page_rss_mb": measured["page_rss_mb"],
        "analysis_rss_mb": measured["analysis_rss_mb"],
        "naive_rss_mb": measured["naive_rss_mb"],
        "naive_max_delta_diff": measured["naive_max_delta_diff"],
        # Each ratio from timings taken in turns within one process.
        "page_over_floor": m["page_ms"] / m["page_floor_ms"],
        "analysis_over_floor": m["analysis_ms"] / m["floor_ms"],
        "naive_over_analysis": m["naive_ms"] / m["analysis_ms"],
        "generate_s": measured.get("generate_s"),
        "load": measured.get("page_load", "?"),
    }


def report(rows: list[dict]) -> str:
    out = []
    for database in dict.fromkeys(r["database"] for r in rows):
        mine = sorted(
            (r for r in rows if r["database"] == database), key=lambda r: r["size"]
        )
        out.append(f"\n### {database}\n")
        out.append(
            common.table(
                [
                    "customers + staff",
                    "page p50 ms",
                    "page cached p50 ms",
                    "analysis p50 ms",
                    "floor p50 ms",
                    "sql-gaps p50 ms",
                    "naive p50 ms",
                    "page / floor",
                    "analysis / floor",
                    "naive / analysis",
                    "queries cold / cached",
                    "page RSS MB",
                    "page traced MB",
                    "naive RSS MB",
                    "growth k (page)",
                    "load 1/5/15 min",
                ],
                [
                    [
                        f"{r['size']:,} + {r['staff']:,}",
                        _fmt(r["page_ms_p50"]),
                        _fmt(r.get("page_cached_ms_p50")),
                        _fmt(r["analysis_ms_p50"]),
                        _fmt(r["floor_ms_p50"]),
                        _fmt(r["sql_gaps_ms_p50"]),
                        _fmt(r["naive_ms_p50"]),
                        _fmt(r["page_over_floor"], 2),
                        _fmt(r["analysis_over_floor"], 2),
                        _fmt(r["naive_over_analysis"], 2),
                        f"{r['queries']} / {r.get('queries_cached', '–')}",
                        _fmt(r["page_rss_mb"]),
                        _fmt(r["page_traced_mb"], 1),
                        _fmt(r["naive_rss_mb"]),
                        _growth(mine, "page_ms_p50", r["size"]),
                        r.get("load", "?"),
                    ]
                    for r in mine
                ],
            )
        )
    return "\n".join(out)


def main() -> None:
    if "--child" in sys.argv:
        argv = sys.argv[1:]
        argv.remove("--child")
        child_main(argv)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,20000,100000")
    parser.add_argument("--databases", default="postgres,sqlite")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--naive-runs",
        type=int,
        default=3,
        help="runs of the naive version (it reads every answer: slow at 100k)",
    )
    parser.add_argument(
        "--prepare-only",
        action="store_true",
        help="generate the studies, measure nothing",
    )
    args = parser.parse_args()
    if not (1 <= args.runs <= 50 and 1 <= args.naive_runs <= 50):
        raise SystemExit("--runs and --naive-runs must be 1..50")
    sizes = sorted(int(s) for s in args.sizes.split(","))
    saved = common.load("dashboard")
    rows = saved.get("rows", [])
    for database in args.databases.split(","):
        common.database_prepare(database)
        for size in sizes:
            print(f"{database} {size:,}: preparing", file=sys.stderr, flush=True)
            measured = common.run_child(
                "dashboard", database, "prepare", f"--size={size}"
            )
            if args.prepare_only:
                continue
            for phase in ("page", "analysis", "naive"):
                print(f"{database} {size:,}: {phase}", file=sys.stderr, flush=True)
                runs = args.naive_runs if phase == "naive" else args.runs
                measured.update(
                    common.run_child(
                        "dashboard",
                        database,
                        phase,
                        f"--size={size}",
                        f"--runs={runs}",
                    )
                )
            row = summarise(database, size, measured)
            row["runs"] = args.runs
            row["measured_at"] = common.machine()["date"]
            rows = [r for r in rows if (r["database"], r["size"]) != (database, size)]
            rows.append(row)
            common.save("dashboard", {"machine": common.machine(), "rows": rows})
    if rows:
        print(report(rows))


if __name__ == "__main__":
    main()
