"""Export benchmark: the anonymized answers (CSV, XLSX) and the gap table.

    python -m bench.exports [--sizes 10000] [--databases postgres] [--runs 5]

For each database and size (customer responses; staff = a tenth) the study of
bench.dashboard is generated once and reused. In a fresh child process per
measurement, as the study's manager through Django's test client with every
byte of the streamed body read:

- answers.csv and answers.xlsx of a big study (more than
  GAPSURVEY_INLINE_MAX_RESPONDENTS respondents): the download as the worker
  stored it (1 MB chunks), the worker's build of it, and the same export
  written in the request (what a small study does: CSV in 64 KB blocks, XLSX
  streamed by analysis.xlsx through a temporary file); for the CSV also
  the old one-chunk-per-line writer, in turns with the request's writer;
- gaps.csv (from the same stored results as the page).

Each format runs in its own child so that its peak RSS is its own. Reported:
medians of --runs runs after one warm-up (which also publishes the snapshot;
the XLSX is built and written once), bytes, chunks, peak RSS. Results go to
var/bench/results/exports.json.
"""

import argparse
import sys

from bench import common
from bench.dashboard import _study


def _client(size: int):
    from django.contrib.auth import get_user_model
    from django.test import Client

    study = _study(size)
    manager = get_user_model().objects.get(
        username=f"manager@{study.organization.slug}.example"
    )
    client = Client()
    client.force_login(manager)
    return study, client


def child_export(size: int, fmt: str, runs: int) -> dict:
    """One format's medians: the download as the worker stored it (a big
    study's answers), the worker's build of it, the same export written in
    the request, and for answers.csv the old one-chunk-per-line writer."""
    from django.conf import settings
    from django.urls import reverse

    from analysis import exports
    from analysis.cuts import ALL
    from surveys.services.snapshots import published

    study, client = _client(size)
    kind, extension = fmt.split(".")
    url = reverse("export", args=[study.pk, kind, extension])
    seen = {}

    def get():
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        chunks = 0
        total = 0
        for chunk in response.streaming_content:
            chunks += 1
            total += len(chunk)
        seen.update(bytes=total, chunks=chunks)

    def inline(function):
        """`function` with the export written in the request, whatever the
        study's size (what a small study always does)."""

        def call():
            kept = settings.INLINE_MAX_RESPONDENTS
            settings.INLINE_MAX_RESPONDENTS = 10**9
            try:
                function()
            finally:
                settings.INLINE_MAX_RESPONDENTS = kept

        return call

    blocks = exports._csv_blocks

    def per_line(rows):
        import csv

        class Echo:
            def write(self, value):
                return value

        writer = csv.writer(Echo())
        yield "\ufeff"
        for row in rows:
            yield writer.writerow([exports.neutralize(cell) for cell in row])

    def lines():
        exports._csv_blocks = per_line
        try:
            get()
        finally:
            exports._csv_blocks = blocks

    inline(get)()  # warm-up: publishes the snapshot, imports, stored results
    state = published(study)
    result = {"load": common.loadavg()}
    big = kind == "answers"
    if big:
        # What the worker does once per snapshot (1 run for XLSX: it is slow).
        build_runs = runs if extension == "csv" else 1
        result["build_ms"] = common.timed(
            lambda: exports.export_file_build(
                study, ALL, state, kind=kind, fmt=extension
            ),
            build_runs,
        )
    get()  # warm-up of the stored download
    result["ms"] = common.timed(get, runs)
    served = dict(seen)
    if fmt == "answers.csv":
        inline(lines)()
        result["lines_chunks"] = seen["chunks"]
        times = {"inline": [], "lines": []}
        for _ in range(runs):
            times["inline"] += common.timed(inline(get), 1)
            times["lines"] += common.timed(inline(lines), 1)
        result.update(inline_ms=times["inline"], lines_ms=times["lines"])
    elif fmt == "answers.xlsx":
        result["inline_ms"] = common.timed(inline(get), 1)
    result.update(served, rss_mb=common.maxrss_mb())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--step", default="")
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--databases", default="postgres")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--format", default="answers.csv")
    parser.add_argument(
        "--formats",
        default="answers.csv,answers.xlsx,gaps.csv",
        help="the exports measured, in turn",
    )
    args = parser.parse_args()
    if common.child_step(args, lambda size: child_export(size, args.format, args.runs)):
        return
    rows = []
    for database, size in common.sizes_prepared("exports", args):
        for fmt in args.formats.split(","):
            found = common.run_child(
                "exports",
                database,
                "--sizes",
                str(size),
                "--format",
                fmt,
                "--runs",
                str(args.runs),
            )
            rows.append({"database": database, "size": size, "format": fmt, **found})
            print(_line(rows[-1]), file=sys.stderr)
    common.save("exports", {"machine": common.machine(), "rows": rows})
    print(report(rows))


def _s(values) -> str:
    return f"{common.median(values) / 1000:.2f} s" if values else ""


def _line(row: dict) -> str:
    return (
        f"{row['database']} {row['size']} {row['format']}: served "
        f"{_s(row['ms'])}, worker build {_s(row.get('build_ms'))}, in the request "
        f"{_s(row.get('inline_ms'))}, per line {_s(row.get('lines_ms'))}; "
        f"{row['bytes'] / 2**20:.1f} MB in {row['chunks']} chunks, peak RSS "
        f"{row['rss_mb']:.0f} MB"
    )


def report(rows: list[dict]) -> str:
    table = []
    for row in rows:
        inline, lines = row.get("inline_ms"), row.get("lines_ms")
        table.append(
            [
                row["database"],
                f"{row['size']:,}",
                row["format"],
                _s(row["ms"]),
                _s(row.get("build_ms")),
                _s(inline),
                _s(lines),
                f"{common.median(lines) / common.median(inline):.1f}×" if lines else "",
                f"{row['bytes'] / 2**20:.1f} MB / {row['chunks']:,}",
                f"{row['rss_mb']:.0f} MB",
                row["load"],
            ]
        )
    return common.table(
        [
            "database",
            "customers",
            "export",
            "download (served) median",
            "worker build median",
            "written in the request",
            "per-line writer (before)",
            "blocks vs per-line",
            "size / chunks",
            "peak RSS",
            "load 1/5/15 min",
        ],
        table,
    )


if __name__ == "__main__":
    main()
