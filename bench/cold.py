"""Cold workers (issue 16.4): a fresh gunicorn worker's first customer submit
against its tenth.

    python -m bench.cold [--starts 5] [--submits 10]
    (also run at the end of `python -m bench.submit --compare`)

Each start is a new gunicorn with one sync worker (the benchmark's settings,
PostgreSQL). gunicorn's post_worker_init hook (bench/gunicorn_ready.py) marks
when the worker has loaded the WSGI application (Django set up, models
imported) and waits for requests; then --submits complete customer submissions,
one after another, each on its own token, each timed alone: wall time at the
client and the worker's CPU time (/proc). The first request pays for
everything the worker loads lazily (the URLconf and the views it imports, the
database connection, templates); by the tenth it is warm. Reported: medians over
the starts of the first, the tenth and (first − tenth), the target (≤ 50 ms),
and which of numpy, pandas and scipy the worker had mapped after its first
submit (their shared libraries in /proc/<pid>/maps).
Results: var/bench/results/cold.json.
"""

import argparse
import sys
import time
from pathlib import Path

from bench import common
from bench.compare import (
    Served,
    System,
    cpu_seconds,
    fill,
    post,
    worker_pids,
)

WORK = common.ROOT / "var" / "bench" / "cold"
TARGET_MS = 50.0
HEAVY = ("numpy", "pandas", "scipy")


def _mapped(pid: int) -> list[str]:
    """Which heavy libraries' compiled modules the process has mapped."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return []
    return [name for name in HEAVY if f"/{name}/" in maps]


def _wait_for(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"the worker did not start within {seconds} s")
        time.sleep(0.05)


def run(*, starts: int = 5, submits: int = 10, conn_max_age: int = 60) -> dict:
    WORK.mkdir(parents=True, exist_ok=True)
    common.database_prepare("postgres")
    tokens_file = WORK / "tokens.txt"
    output = common.manage(
        "postgres",
        "generate_study",
        "--customers=50",
        "--staff=5",
        "--organization=bench-cold",
        f"--unanswered={starts * submits}",
        f"--tokens-file={tokens_file}",
    )
    study_id = int(output.split("study_id=")[1].split()[0])
    body = common.run_child("submit", "postgres", "body", str(study_id))
    template = body["body"]
    (WORK / "body.txt").write_text(template)
    scale = tuple(body["scale"])
    tokens = tokens_file.read_text().split()
    ready = WORK / "ready"
    system = System(
        name="gapsurvey",
        command=[str(Path(common.PYTHON).parent / "gunicorn"), "gapsurvey.wsgi"],
        env=common.child_env(
            "postgres",
            DATABASE_CONN_MAX_AGE=str(conn_max_age),
            GAPSURVEY_RATE_LIMITS="false",
            BENCH_READY_FILE=str(ready),
        ),
        database_url=common.database_url("postgres"),
        path="/s/{token}/",
        body=WORK / "body.txt",
    )
    found = []
    for start in range(starts):
        ready.unlink(missing_ok=True)
        with Served(system, 1, "--config=python:bench.gunicorn_ready") as served:
            _wait_for(ready)
            time.sleep(0.5)  # the hook runs just before the worker's loop
            pid = worker_pids(served.process.pid)[0]
            load = common.loadavg()
            wall, cpu, statuses, mapped = [], [], [], []
            for n in range(submits):
                token = tokens[start * submits + n]
                payload = fill(template, scale)
                before = cpu_seconds(pid)
                started = time.perf_counter()
                statuses.append(post(served.port, f"/s/{token}/", payload))
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append(((cpu_seconds(pid) or 0) - (before or 0)) * 1000)
                if n == 0:
                    mapped = _mapped(pid)
            rss = common.vm_mb(pid, "VmRSS")
        if any(status != 302 for status in statuses):
            raise SystemExit(f"cold start {start}: statuses {statuses}")
        found.append(
            {
                "wall_ms": wall,
                "cpu_ms": cpu,
                "heavy_mapped_after_first": mapped,
                "rss_mb_after": rss,
                "load": load,
            }
        )
        print(
            f"cold start {start + 1}: first {wall[0]:.0f} ms (CPU {cpu[0]:.0f}), "
            f"tenth {wall[-1]:.0f} ms (CPU {cpu[-1]:.0f}); heavy mapped: "
            f"{', '.join(mapped) or 'none'}; load {load}",
            file=sys.stderr,
        )
    result = {
        "machine": common.machine(),
        "starts": starts,
        "submits": submits,
        "first_ms": common.median([s["wall_ms"][0] for s in found]),
        "last_ms": common.median([s["wall_ms"][-1] for s in found]),
        "difference_ms": common.median(
            [s["wall_ms"][0] - s["wall_ms"][-1] for s in found]
        ),
        "first_cpu_ms": common.median([s["cpu_ms"][0] for s in found]),
        "last_cpu_ms": common.median([s["cpu_ms"][-1] for s in found]),
        "difference_cpu_ms": common.median(
            [s["cpu_ms"][0] - s["cpu_ms"][-1] for s in found]
        ),
        "target_ms": TARGET_MS,
        "runs": found,
    }
    common.save("cold", result)
    print(report(result))
    return result


def report(result: dict) -> str:
    found = result["runs"]
    difference = result["difference_ms"]
    verdict = (
        "met"
        if difference <= result["target_ms"]
        else f"MISSED by {difference - result['target_ms']:.0f} ms"
    )
    mapped = sorted({name for s in found for name in s["heavy_mapped_after_first"]})
    table = common.table(
        [
            "starts",
            "first submit ms (median)",
            f"submit {result['submits']} ms (median)",
            "first − last ms (median)",
            "worker CPU ms first / last",
            "first − last each start",
            "numpy/pandas/scipy loaded after the first submit",
            "load 1/5/15 min per start",
        ],
        [
            [
                result["starts"],
                f"{result['first_ms']:.0f}",
                f"{result['last_ms']:.0f}",
                f"{difference:.0f}",
                f"{result['first_cpu_ms']:.0f} / {result['last_cpu_ms']:.0f}",
                " / ".join(f"{s['wall_ms'][0] - s['wall_ms'][-1]:.0f}" for s in found),
                ", ".join(mapped) or "none",
                "; ".join(s["load"] for s in found),
            ]
        ],
    )
    return (
        f"{table}\n\n- cold worker: first submit − submit {result['submits']} = "
        f"{difference:.0f} ms (target ≤ {result['target_ms']:.0f} ms): {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--submits", type=int, default=10)
    parser.add_argument("--conn-max-age", type=int, default=60)
    args = parser.parse_args()
    if not 1 <= args.starts <= 20:
        raise SystemExit("--starts must be 1..20")
    if not 2 <= args.submits <= 50:
        raise SystemExit("--submits must be 2..50")
    run(starts=args.starts, submits=args.submits, conn_max_age=args.conn_max_age)


if __name__ == "__main__":
    main()
