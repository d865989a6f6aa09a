"""Generator benchmark: `manage.py generate_study` of a given size, several times.

    python -m bench.generate [--customers 20000] [--staff 2000] [--runs 3]
        [--database postgres|sqlite]

Each run is a fresh `manage.py generate_study` process on a new organization
(`bench-gen-<customers>-<run>-<time>`), so contacts and staff are created too,
not reused. Reported: the seconds the command reports for the generation
itself (median and each run), the wall time of the whole process (Python and
Django start-up included), the answers written and the load average. Results
go to var/bench/results/generate.json.
"""

import argparse
import re
import subprocess
import sys
import time

from bench import common


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--staff", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--database", choices=["postgres", "sqlite"], default="postgres"
    )
    args = parser.parse_args()
    if not 1 <= args.runs <= 10:
        raise SystemExit("--runs must be 1..10")
    common.database_prepare(args.database)
    runs = []
    for run in range(args.runs):
        slug = f"bench-gen-{args.customers}-{run}-{int(time.time())}"
        load = common.loadavg()
        started = time.perf_counter()
        done = subprocess.run(
            [
                common.PYTHON,
                str(common.ROOT / "manage.py"),
                "generate_study",
                f"--customers={args.customers}",
                f"--staff={args.staff}",
                f"--organization={slug}",
                f"--seed={run}",
            ],
            cwd=common.ROOT,
            env=common.child_env(args.database),
            capture_output=True,
            text=True,
            timeout=1800,
        )
        wall = time.perf_counter() - started
        if done.returncode:
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit("generate_study failed")
        reported = re.search(r"(\d+) answers, .* in ([\d.]+) s\.", done.stdout)
        runs.append(
            {
                "seconds": float(reported.group(2)),
                "wall_s": wall,
                "answers": int(reported.group(1)),
                "load": load,
            }
        )
        print(f"run {run + 1}: {runs[-1]}", file=sys.stderr, flush=True)
    row = {
        "label": f"{args.database} {args.customers:,} + {args.staff:,}",
        "database": args.database,
        "customers": args.customers,
        "staff": args.staff,
        "seconds_p50": common.median([r["seconds"] for r in runs]),
        "wall_s_p50": common.median([r["wall_s"] for r in runs]),
        "runs": runs,
        "measured_at": common.machine()["date"],
    }
    rows = common.save_row("generate", row)
    print(report(rows))


def report(rows: list[dict]) -> str:
    return common.table(
        [
            "study",
            "answers",
            "generation s (median)",
            "each run s",
            "process wall s (median)",
            "load 1/5/15 min per run",
        ],
        [
            [
                r["label"],
                f"{r['runs'][0]['answers']:,}",
                f"{r['seconds_p50']:.1f}",
                " / ".join(f"{x['seconds']:.1f}" for x in r["runs"]),
                f"{r['wall_s_p50']:.1f}",
                "; ".join(x["load"] for x in r["runs"]),
            ]
            for r in rows
        ],
    )


if __name__ == "__main__":
    main()
