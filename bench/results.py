"""Stored-results benchmark: the dashboard read from a snapshot's precomputed
results, and the worker's cost of computing them.

    python -m bench.results [--sizes 20000,100000] [--databases postgres] [--runs 7]

For each database and size (customer responses; staff = a tenth) the study of
bench.dashboard is generated once and reused (`generate_study`, organization
`bench-<size>`: five departments, four segments). In a fresh child process:

- build: the worker's results of the study's latest snapshot
  (`analysis.dashboard.snapshot_results_build`), every cut the filters allow
  (everyone, each department, each segment, each pair: 30 cuts here), its
  stored rows and the snapshot's sums deleted before each run (from the
  answers, as after a study's first snapshot); "from sums": the same with
  the snapshot's sums kept (`SnapshotSums`: a later snapshot's worker reads
  only that snapshot's answers); and, timed apart, everyone's answers CSV
  the task then stores for a big study ("export", once);
- stored: the dashboard page of every one of those cuts through Django's test
  client as the study's manager, reading the stored results (access check,
  queries, charts, template): the median per cut, and the slowest cut's;
- cold: the page of everyone with no stored results (the snapshot's sums
  kept) and the aggregate cache off (what the first viewer would wait for if
  the worker had not run), taken
  in turns with the stored page so the ratio meets the same load.

The analysis statements turn PostgreSQL's JIT off themselves
(`analysis.queries.analysis_cursor`). Reported: medians of --runs runs after
one warm-up, peak RSS. Results go to var/bench/results/results.json.
"""

import argparse
import sys

from bench import common
from bench.dashboard import _study


def _cut_query(cut) -> dict:
    query = {}
    if cut.department_id is not None:
        query["department"] = cut.department_id
    if cut.segment_id is not None:
        query["segment"] = cut.segment_id
    return query


def child_results(size: int, runs: int) -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from analysis.cuts import ALL
    from analysis.dashboard import result_cuts
    from analysis.dashboard import snapshot_results_build as build_results
    from analysis.exports import export_file_build
    from analysis.models import ExportFile, SnapshotResult, SnapshotSums
    from surveys.services.snapshots import published

    # "cold" below times the page computing the missing cut itself, whatever
    # the study's size (normally a big one leaves that to the worker).
    settings.INLINE_MAX_RESPONDENTS = 10**9
    study = _study(size)
    manager = get_user_model().objects.get(
        username=f"manager@{study.organization.slug}.example"
    )
    client = Client()
    client.force_login(manager)
    url = reverse("dashboard", args=[study.pk])
    state = published(study)  # publishes the snapshot if there is none yet
    cuts = result_cuts(state)
    rows = SnapshotResult.objects.filter(snapshot=state.snapshot)

    def build():
        """The worker's results for every cut from the answers, as after a
        study's first snapshot (the task also writes a big study's answers
        CSV: timed apart below, as "export")."""
        rows.delete()
        SnapshotSums.objects.filter(snapshot__study=study).delete()
        return build_results(study, state)

    def build_from_sums():
        """The same from the snapshot's stored sums (a later snapshot's
        worker reads only its own answers)."""
        rows.delete()
        return build_results(study, state)

    def export():
        ExportFile.objects.filter(snapshot=state.snapshot).delete()
        export_file_build(study, ALL, state, kind="answers", fmt="csv")

    result = {"load": common.loadavg(), "cuts": len(cuts)}
    build()  # warm-up
    assert rows.count() == len(cuts)
    # The page reads only: a missing result would be computed by the page.
    settings.INLINE_MAX_RESPONDENTS = 0
    result["build"] = common.timed(build, runs)
    assert rows.count() == len(cuts)
    result["build_from_sums"] = common.timed(build_from_sums, runs)
    assert rows.count() == len(cuts)
    result["export_ms"] = common.timed(export, 1)

    def page(query):
        def get():
            response = client.get(url, query)
            assert response.status_code == 200, response.status_code
            assert b"Results are being prepared" not in response.content

        return get

    per_cut = {}
    for cut in cuts:
        get = page(_cut_query(cut))
        get()  # warm-up
        per_cut[str(_cut_query(cut) or "all")] = common.median(common.timed(get, runs))
    slowest = max(per_cut, key=per_cut.get)
    result.update(
        stored_cut_medians_ms=per_cut,
        stored_slowest_cut=slowest,
        stored_slowest_ms=per_cut[slowest],
    )

    everyone = page({})
    cold_all = rows.filter(cut="all")

    def cold():
        cold_all.delete()
        settings.INLINE_MAX_RESPONDENTS = 10**9
        everyone()
        settings.INLINE_MAX_RESPONDENTS = 0

    times = {"stored": [], "cold": []}
    for _ in range(runs):
        times["stored"] += common.timed(everyone, 1)
        times["cold"] += common.timed(cold, 1)
    result.update(
        stored_ms=times["stored"], cold_ms=times["cold"], rss_mb=common.maxrss_mb()
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--step", default="")
    parser.add_argument("--sizes", default="20000,100000")
    parser.add_argument("--databases", default="postgres")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if common.child_step(args, lambda size: child_results(size, args.runs)):
        return
    rows = []
    for database, size in common.sizes_prepared("results", args):
        found = common.run_child(
            "results",
            database,
            "--sizes",
            str(size),
            "--runs",
            str(args.runs),
        )
        rows.append({"database": database, "size": size, **found})
        print(_line(rows[-1]), file=sys.stderr)
    common.save("results", {"machine": common.machine(), "rows": rows})
    print(report(rows))


def _ms(values) -> str:
    return f"{common.median(values):,.0f}"


def _line(row: dict) -> str:
    return (
        f"{row['database']} {row['size']}: {row['cuts']} cuts; results "
        f"{_ms(row['build'])} ms, answers CSV {_ms(row['export_ms'])} ms; page "
        f"stored {_ms(row['stored_ms'])} ms (slowest cut "
        f"{row['stored_slowest_ms']:.0f} ms), cold {_ms(row['cold_ms'])} ms"
    )


def report(rows: list[dict]) -> str:
    headers = [
        "database",
        "customers + staff",
        "cuts",
        "results, every cut, ms",
        "from stored sums ms",
        "answers CSV export ms",
        "page stored p50 ms",
        "slowest cut p50 ms",
        "page cold p50 ms",
        "cold / stored",
        "peak RSS MB",
        "load 1/5/15 min",
    ]
    lines = []
    for row in rows:
        stored = common.median(row["stored_ms"])
        cold = common.median(row["cold_ms"])
        lines.append(
            [
                row["database"],
                f"{row['size']:,} + {max(row['size'] // 10, 10):,}",
                row["cuts"],
                _ms(row["build"]),
                _ms(row["build_from_sums"]) if "build_from_sums" in row else "",
                _ms(row["export_ms"]),
                f"{stored:,.0f}",
                f"{row['stored_slowest_ms']:,.0f}",
                f"{cold:,.0f}",
                f"{cold / stored:.1f}",
                f"{row['rss_mb']:.0f}",
                row["load"],
            ]
        )
    return common.table(headers, lines)


if __name__ == "__main__":
    main()
