"""Cold workers (issue 16.4): a fresh gunicorn worker's first customer submit
against its tenth.

    python -m bench.cold [--starts 5] [--submits 10]
    (also run at the end of `python -m bench.submit --compare`)

Each start is a new gunicorn with one sync worker (the benchmark's settings,
PostgreSQL), the project's bytecode written first as a deploy would
(common.compile_bytecode). gunicorn's post_worker_init hook
(bench/gunicorn_ready.py) marks when the worker has loaded the WSGI
application (Django set up, models imported) and waits for requests; then
--submits complete customer submissions, one after another, each on its own
token, each timed alone: wall time at the client and the worker's CPU time
(/proc). The first request pays for everything the worker loads lazily (the
URLconf and every view module it imports, the reverse() table, the database
connection); by the tenth it is warm.

Three workers, interleaved start by start: the app as shipped; the same with
the bench hook importing the URLconf and building the reverse() table at
worker start (BENCH_WARM_URLCONF=1); and that plus opening the database
connection at start (=2): the next step this benchmark suggests, measured
before anyone changes the app. --profile attaches py-spy (raw stacks,
1000 Hz) to the first shipped worker for its first submit
(var/bench/results/cold-profile.txt). Reported per variant: medians over
the starts of the first, the last and (first − last), the target (≤ 50 ms),
and which of numpy, pandas and scipy the worker had mapped after its first
submit (their shared libraries in /proc/<pid>/maps).
Results: var/bench/results/cold.json.
"""

import argparse
import signal
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


VARIANTS = {
    "shipped": "as shipped",
    "urlconf-at-start": "URLconf loaded at worker start (bench hook)",
    "urlconf-db-at-start": "URLconf and database connection at worker start",
}
WARM = {"shipped": "0", "urlconf-at-start": "1", "urlconf-db-at-start": "2"}


def run(
    *,
    starts: int = 5,
    submits: int = 10,
    conn_max_age: int = 60,
    variants: tuple[str, ...] = tuple(VARIANTS),
    profile: bool = False,
) -> dict:
    WORK.mkdir(parents=True, exist_ok=True)
    common.compile_bytecode()
    common.database_prepare("postgres")
    tokens_file = WORK / "tokens.txt"
    output = common.manage(
        "postgres",
        "generate_study",
        "--customers=50",
        "--staff=5",
        "--organization=bench-cold",
        f"--unanswered={(starts * len(variants) + 1) * submits}",
        f"--tokens-file={tokens_file}",
    )
    study_id = int(output.split("study_id=")[1].split()[0])
    body = common.run_child("submit", "postgres", "body", str(study_id))
    template = body["body"]
    (WORK / "body.txt").write_text(template)
    scale = tuple(body["scale"])
    tokens = iter(tokens_file.read_text().split())
    ready = WORK / "ready"
    gunicorn = [str(Path(common.PYTHON).parent / "gunicorn"), "gapsurvey.wsgi"]
    found: dict[str, list[dict]] = {variant: [] for variant in variants}
    # Interleaved: start 1 of each variant, then start 2, ...
    # With --profile, one more start of the first variant comes first, under
    # py-spy (which slows it many times): profiled, not counted.
    rounds = [(-1, variants[0])] if profile else []
    rounds += [(start, variant) for start in range(starts) for variant in variants]
    for start, variant in rounds:
        system = System(
            name="gapsurvey",
            command=gunicorn,
            env=common.child_env(
                "postgres",
                DATABASE_CONN_MAX_AGE=str(conn_max_age),
                GAPSURVEY_RATE_LIMITS="false",
                BENCH_READY_FILE=str(ready),
                BENCH_WARM_URLCONF=WARM[variant],
            ),
            database_url=common.database_url("postgres"),
            path="/s/{token}/",
            body=WORK / "body.txt",
        )
        ready.unlink(missing_ok=True)
        with Served(system, 1, "--config=python:bench.gunicorn_ready") as served:
            _wait_for(ready)
            time.sleep(0.5)  # the hook runs just before the worker's loop
            pid = worker_pids(served.process.pid)[0]
            load = common.loadavg()
            wall, cpu, statuses, mapped = [], [], [], []
            profiler = None
            if start < 0:
                profiler = common.py_spy_record(
                    pid,
                    "cold-profile",
                    "--rate",
                    "1000",
                    "--format",
                    "raw",
                    suffix=".txt",
                )
                time.sleep(1.0)  # py-spy attached
            for n in range(submits):
                payload = fill(template, scale)
                before = cpu_seconds(pid)
                started = time.perf_counter()
                statuses.append(post(served.port, f"/s/{next(tokens)}/", payload))
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append(((cpu_seconds(pid) or 0) - (before or 0)) * 1000)
                if n == 0:
                    mapped = _mapped(pid)
                    if profiler is not None:
                        profiler.send_signal(signal.SIGINT)
                        profiler.wait(timeout=30)
            rss = common.vm_mb(pid, "VmRSS")
        if any(status != 302 for status in statuses):
            raise SystemExit(f"cold start {start} {variant}: statuses {statuses}")
        if start < 0:
            print(
                f"profiled start (not counted): first {wall[0]:.0f} ms, "
                f"last {wall[-1]:.0f} ms",
                file=sys.stderr,
            )
            continue
        found[variant].append(
            {
                "wall_ms": wall,
                "cpu_ms": cpu,
                "heavy_mapped_after_first": mapped,
                "rss_mb_after": rss,
                "load": load,
            }
        )
        print(
            f"cold start {start + 1} {variant}: first {wall[0]:.0f} ms "
            f"(CPU {cpu[0]:.0f}), last {wall[-1]:.0f} ms (CPU {cpu[-1]:.0f}); "
            f"heavy mapped: {', '.join(mapped) or 'none'}; load {load}",
            file=sys.stderr,
        )
    rows = [_summary(variant, runs, submits) for variant, runs in found.items()]
    result = {"machine": common.machine(), "rows": rows}
    common.save("cold", result)
    print(report(result))
    return result


def _summary(variant: str, found: list[dict], submits: int) -> dict:
    def median_of(key: str, index: int) -> float:
        return common.median([s[key][index] for s in found])

    return {
        "variant": variant,
        "starts": len(found),
        "submits": submits,
        "first_ms": median_of("wall_ms", 0),
        "last_ms": median_of("wall_ms", -1),
        "difference_ms": common.median(
            [s["wall_ms"][0] - s["wall_ms"][-1] for s in found]
        ),
        "first_cpu_ms": median_of("cpu_ms", 0),
        "last_cpu_ms": median_of("cpu_ms", -1),
        "difference_cpu_ms": common.median(
            [s["cpu_ms"][0] - s["cpu_ms"][-1] for s in found]
        ),
        "target_ms": TARGET_MS,
        "runs": found,
    }


def report(result: dict) -> str:
    lines, verdicts = [], []
    submits = result["rows"][0]["submits"] if result["rows"] else 10
    for row in result["rows"]:
        found = row["runs"]
        difference = row["difference_ms"]
        mapped = sorted({n for s in found for n in s["heavy_mapped_after_first"]})
        lines.append(
            [
                VARIANTS.get(row["variant"], row["variant"]),
                row["starts"],
                f"{row['first_ms']:.0f}",
                f"{row['last_ms']:.0f}",
                f"{difference:.0f}",
                " / ".join(f"{s['wall_ms'][0] - s['wall_ms'][-1]:.0f}" for s in found),
                f"{row['first_cpu_ms']:.0f} / {row['last_cpu_ms']:.0f}",
                ", ".join(mapped) or "none",
                "; ".join(s["load"] for s in found),
            ]
        )
        verdict = (
            "met"
            if difference <= row["target_ms"]
            else f"MISSED by {difference - row['target_ms']:.0f} ms"
        )
        verdicts.append(
            f"- cold worker, {VARIANTS.get(row['variant'], row['variant'])}: first "
            f"submit − submit {row['submits']} = {difference:.0f} ms (target ≤ "
            f"{row['target_ms']:.0f} ms): {verdict}"
        )
    table = common.table(
        [
            "worker",
            "starts",
            "first submit ms (median)",
            f"submit {submits} ms (median)",
            f"first − submit {submits} ms (median)",
            "… each start",
            f"worker CPU ms first / submit {submits}",
            "numpy/pandas/scipy loaded after the first submit",
            "load 1/5/15 min per start",
        ],
        lines,
    )
    return table + "\n\n" + "\n".join(verdicts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--submits", type=int, default=10)
    parser.add_argument("--conn-max-age", type=int, default=60)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if not 1 <= args.starts <= 20:
        raise SystemExit("--starts must be 1..20")
    if not 2 <= args.submits <= 50:
        raise SystemExit("--submits must be 2..50")
    run(
        starts=args.starts,
        submits=args.submits,
        conn_max_age=args.conn_max_age,
        profile=args.profile,
    )


if __name__ == "__main__":
    main()
