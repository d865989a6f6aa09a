"""Export benchmark: the anonymized answers (CSV, XLSX) and the gap table.

    python -m bench.exports [--sizes 10000] [--databases postgres] [--runs 5]

For each database and size (customer responses; staff = a tenth) the study of
bench.dashboard is generated once and reused. In a fresh child process per
measurement, as the study's manager through Django's test client with every
byte of the streamed body read:

- answers.csv, in 64 KB blocks (what the app does) and, side by side in turns,
  one chunk per line (what it did) — the ratio of the two;
- answers.xlsx (openpyxl write-only, streamed from a temporary file);
- gaps.csv (from the same computed results as the page).

Each format runs in its own child so that its peak RSS is its own. Reported:
medians of --runs runs after one warm-up (which also publishes the snapshot),
bytes, chunks, peak RSS. Results go to var/bench/results/exports.json.
"""

import argparse
import sys

from bench import common
from bench.dashboard import _study, child_prepare


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
    """One format's medians (and for answers.csv, the per-line variant)."""
    from django.urls import reverse

    from analysis import exports

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

    get()  # warm-up: publishes the snapshot, imports, caches
    result = {"load": common.loadavg()}
    if fmt == "answers.csv":
        lines()
        result["lines_chunks"] = seen["chunks"]
        get()
        times = {"blocks": [], "lines": []}
        for _ in range(runs):
            times["blocks"] += common.timed(get, 1)
            times["lines"] += common.timed(lines, 1)
        result.update(ms=times["blocks"], lines_ms=times["lines"])
        get()
    else:
        result["ms"] = common.timed(get, runs)
    result.update(seen, rss_mb=common.maxrss_mb())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--step", default="")
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--databases", default="postgres")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--format", default="answers.csv")
    args = parser.parse_args()
    if args.child:
        import json

        import django

        django.setup()
        size = int(args.sizes)
        if args.step == "prepare":
            print(json.dumps(child_prepare(size)))
        else:
            print(json.dumps(child_export(size, args.format, args.runs)))
        return
    rows = []
    for database in args.databases.split(","):
        common.database_prepare(database)
        for size in [int(s) for s in args.sizes.split(",")]:
            common.run_child(
                "exports", database, "--step", "prepare", "--sizes", str(size)
            )
            for fmt in ("answers.csv", "answers.xlsx", "gaps.csv"):
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
                rows.append(
                    {"database": database, "size": size, "format": fmt, **found}
                )
                print(_line(rows[-1]), file=sys.stderr)
    common.save("exports", {"machine": common.machine(), "rows": rows})
    print(report(rows))


def _line(row: dict) -> str:
    text = (
        f"{row['database']} {row['size']} {row['format']}: "
        f"{common.median(row['ms']):.0f} ms, {row['bytes'] / 2**20:.1f} MB in "
        f"{row['chunks']} chunks, peak RSS {row['rss_mb']:.0f} MB"
    )
    if "lines_ms" in row:
        text += (
            f"; one chunk per line: {common.median(row['lines_ms']):.0f} ms "
            f"({row['lines_chunks']} chunks)"
        )
    return text


def report(rows: list[dict]) -> str:
    table = []
    for row in rows:
        lines = row.get("lines_ms")
        table.append(
            [
                row["database"],
                f"{row['size']:,}",
                row["format"],
                f"{common.median(row['ms']) / 1000:.2f} s",
                f"{common.median(lines) / 1000:.2f} s" if lines else "",
                f"{common.median(lines) / common.median(row['ms']):.1f}×"
                if lines
                else "",
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
            "median",
            "per-line (before)",
            "speed-up",
            "size / chunks",
            "peak RSS",
            "load",
        ],
        table,
    )


if __name__ == "__main__":
    main()
