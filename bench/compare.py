"""Submissions side by side (issue 16.1): the peer, GapSurvey and the floor.

    python -m bench.submit --compare [--duration 15] [--repeat 3]
        [--connections 4,8] [--workers 2] [--profile] [--cold-starts 5]
    make bench

Three systems, each a fresh gunicorn (`--workers` sync workers, 127.0.0.1) on
PostgreSQL, driven by the same `wrk` settings and script (bench/submit.lua:
every request one complete answer to a 25-question survey on a 1..7 scale,
random values, 302 on success):

- peer: django-survey-and-report 1.5.0 in its own virtual environment
  (bench/peer/setup.sh) and its own database (<BENCH_PG_URL>_peer): a plain
  Django project (bench/peer/) serving the peer's answering view
  `/survey/<id>/` for one survey of 25 required radio questions, open to
  anonymous visitors (no login); the view is CSRF-protected, so wrk sends a
  CSRF cookie and its token;
- gapsurvey: the customer survey link `/s/<token>/`, a new token each request
  (`generate_study --unanswered`);
- floor: bench/floor.py under the benchmark's settings, the same body: one
  transaction, one Response INSERT and one bulk INSERT of its 25 Answers.

Interleaved: for each repeat, for each connection count, peer, GapSurvey,
floor in turn (A B C A B C …), so a change in the machine's load falls on all
three alike. Each run: gunicorn started, workers warmed up with 5 submissions
each, then wrk for --duration s. Reported per system and connection count:
medians of submissions/s (302s per second), p50/p99 latency (wrk's), the CPU
time per submission of the gunicorn workers and of their PostgreSQL backends
(from /proc: the cost of one submission, which the machine's load moves much
less than the rate), the SQL statements of one submission (counted in a
one-shot child process per system through Django's test client, in and out
of a transaction), the ratios GapSurvey/peer and GapSurvey/floor, the load
average, and whether the issue's targets are met: ≥ 0.6× the floor and ≥ 10×
the peer in submissions/s, p99 ≤ 200 ms at 8 connections. Then the cold
worker measurement (bench/cold.py, issue 16.4) unless --cold-starts 0.

Results: var/bench/results/submit-compare.json (and cold.json);
`python -m bench.report` prints them again.
"""

import argparse
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench import common

SYSTEMS = ("peer", "gapsurvey", "floor")
TITLES = {"peer": "peer", "gapsurvey": "GapSurvey", "floor": "floor"}
WORK = common.ROOT / "var" / "bench" / "compare"
PEER_VENV = common.ROOT / "var" / "bench" / "peer-venv"
BACKGROUND_CUSTOMERS = 200
# Token budget per second of wrk for GapSurvey (each submission uses one up);
# a run that runs out says so and is marked invalid.
MAX_RATE = 800
WARM_UP_PER_WORKER = 5
TARGETS = {"floor": 0.6, "peer": 10.0, "p99_ms": 200.0}


@dataclass
class System:
    name: str
    command: list[str]
    env: dict[str, str]
    database_url: str
    path: str  # "{token}" is replaced per request by a new token
    body: Path
    cookie: str = ""
    ready_path: str = "/"
    tokens: list[str] = field(default_factory=list)  # GapSurvey's warm-up tokens


def peer_database_url() -> str:
    url = common.database_url("postgres")
    base, name = url.rsplit("/", 1)
    return f"{base}/{name.split('?')[0]}_peer"


def peer_env(conn_max_age: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(common.ROOT),
        DJANGO_SETTINGS_MODULE="bench.peer.settings",
        PEER_DATABASE_URL=peer_database_url(),
        DATABASE_CONN_MAX_AGE=str(conn_max_age),
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
    )
    env.pop("DATABASE_URL", None)
    return env


def peer_child(*args: str) -> dict:
    done = subprocess.run(
        [str(PEER_VENV / "bin" / "python"), "-m", "bench.peer.child", *args],
        cwd=common.ROOT,
        env=peer_env(0),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"peer child {' '.join(args)} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def peer_setup() -> None:
    """The peer's virtual environment (idempotent)."""
    subprocess.run(
        ["sh", str(common.ROOT / "bench" / "peer" / "setup.sh"), sys.executable],
        check=True,
        timeout=900,
    )


# --- processes and their CPU time ---------------------------------------------------


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (None once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_pids(url: str) -> list[int]:
    """The PostgreSQL backends connected to a database (the workers'
    persistent connections), not counting this query's own."""
    import psycopg2

    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()]


def fill(template: str, scale: tuple[int, int]) -> str:
    return re.sub(r"\{v\d+\}", lambda _: str(random.randint(*scale)), template)


def post(port: int, path: str, body: str, cookie: str = "") -> int:
    """One POST without following the redirect; its status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if cookie:
        headers["Cookie"] = cookie
    try:
        connection.request("POST", path, body=body.encode(), headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


class Served:
    """A fresh gunicorn of one system on a free port (a context manager)."""

    def __init__(self, system: System, workers: int, *extra: str):
        self.system = system
        self.port = common.free_port()
        self.process = subprocess.Popen(
            [
                *system.command,
                f"--workers={workers}",
                f"--bind=127.0.0.1:{self.port}",
                "--log-level=warning",
                *extra,
            ],
            cwd=common.ROOT,
            env=system.env,
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def measure(
    system: System,
    *,
    workers: int,
    connections: int,
    duration: int,
    tokens: Path,
    scale: tuple[int, int],
    profile: str = "",
) -> dict:
    """One wrk run against a fresh gunicorn of the system."""
    wrk = common.require("wrk", "apt-get install -y wrk")
    with Served(system, workers) as served:
        base = f"http://127.0.0.1:{served.port}"
        common.wait_http(base + system.ready_path, seconds=60)
        pids = worker_pids(served.process.pid)
        template = system.body.read_text()
        warm = []
        for _ in range(WARM_UP_PER_WORKER * workers):
            path = system.path
            if "{token}" in path:
                path = path.replace("{token}", system.tokens.pop())
            warm.append(post(served.port, path, fill(template, scale), system.cookie))
        if any(status != 302 for status in warm):
            raise SystemExit(f"{system.name}: warm-up answered {warm}, not 302s")
        backends = backend_pids(system.database_url)
        before = {pid: cpu_seconds(pid) for pid in pids + backends}
        profiler = None
        if profile:
            profiler = common.py_spy_record(
                pids[0],
                profile,
                *("--duration", str(duration), "--rate", "200", "--format", "raw"),
                suffix=".txt",
            )
        load = common.loadavg()
        done = subprocess.run(
            [
                wrk,
                "--threads=1",
                f"--connections={connections}",
                f"--duration={duration}s",
                "--timeout=10s",
                "--script",
                str(common.ROOT / "bench" / "submit.lua"),
                base,
                "--",
                str(tokens) if "{token}" in system.path else "-",
                str(system.body),
                "1",
                str(scale[0]),
                str(scale[1]),
                system.path,
                system.cookie,
            ],
            capture_output=True,
            text=True,
            timeout=duration + 60,
        )
        after_backends = backend_pids(system.database_url)
        after = {pid: cpu_seconds(pid) for pid in pids + after_backends}
        if profiler is not None:
            profiler.wait(timeout=duration + 60)
        rss = [common.vm_mb(pid) for pid in pids]
    line = next(
        (row for row in done.stdout.splitlines() if row.startswith("BENCH_JSON ")),
        None,
    )
    if line is None:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"{system.name}: wrk printed no result")
    measured = json.loads(line.removeprefix("BENCH_JSON "))
    measured["submissions_per_s"] = measured["status_302"] / measured["seconds"]

    def spent(group: list[int]) -> float:
        return sum(
            (after.get(pid) or 0) - (before.get(pid) or 0)
            for pid in set(group)
            if after.get(pid) is not None
        )

    submissions = max(measured["status_302"], 1)
    measured.update(
        system=system.name,
        connections=connections,
        workers=workers,
        load=load,
        load_after=common.loadavg(),
        worker_cpu_ms=spent(pids) * 1000 / submissions,
        database_cpu_ms=spent(backends + after_backends) * 1000 / submissions,
        worker_peak_rss_mb=rss,
        warm_up=len(warm),
    )
    return measured


# --- the run --------------------------------------------------------------------------


def prepare(args) -> tuple[dict[str, System], dict]:
    """Databases, data, bodies and the three systems."""
    common.require("wrk", "apt-get install -y wrk")
    peer_setup()
    WORK.mkdir(parents=True, exist_ok=True)
    common.compile_bytecode()

    # GapSurvey and the floor: one study; tokens for every GapSurvey run.
    common.database_prepare("postgres")
    runs = args.repeat * len(args.connections)
    per_run = args.duration * MAX_RATE
    warm = WARM_UP_PER_WORKER * args.workers * (runs + 1) + 3
    tokens_file = WORK / "tokens.txt"
    output = common.manage(
        "postgres",
        "generate_study",
        f"--customers={BACKGROUND_CUSTOMERS}",
        "--staff=20",
        "--organization=bench-compare",
        f"--unanswered={runs * per_run + warm}",
        f"--tokens-file={tokens_file}",
    )
    study_id = int(output.split("study_id=")[1].split()[0])
    body = common.run_child("submit", "postgres", "body", str(study_id))
    (WORK / "body.txt").write_text(body["body"])
    tokens = tokens_file.read_text().split()

    # The peer: its own database, one survey.
    common.database_create(peer_database_url())
    peer = peer_child("prepare")
    (WORK / "peer-body.txt").write_text(peer["body"])
    if tuple(peer["scale"]) != tuple(body["scale"]):
        raise SystemExit("the peer's scale differs from GapSurvey's")

    env = common.child_env(
        "postgres",
        DATABASE_CONN_MAX_AGE=str(args.conn_max_age),
        DATABASE_CONN_HEALTH_CHECKS="false",
        GAPSURVEY_RATE_LIMITS="false",
    )
    app = [str(Path(common.PYTHON).parent / "gunicorn"), "gapsurvey.wsgi"]
    systems = {
        "peer": System(
            name="peer",
            command=[str(PEER_VENV / "bin" / "gunicorn"), "bench.peer.wsgi"],
            env=peer_env(args.conn_max_age),
            database_url=peer_database_url(),
            path=peer["path"],
            body=WORK / "peer-body.txt",
            cookie=peer["cookie"],
            ready_path="/survey/",
        ),
        "gapsurvey": System(
            name="gapsurvey",
            command=app,
            env=env,
            database_url=common.database_url("postgres"),
            path="/s/{token}/",
            body=WORK / "body.txt",
            ready_path="/accounts/login/",
            tokens=tokens[runs * per_run : runs * per_run + warm - 3],
        ),
        "floor": System(
            name="floor",
            command=app,
            env=env,
            database_url=common.database_url("postgres"),
            path=f"/bench/floor/{study_id}/",
            body=WORK / "body.txt",
            ready_path="/accounts/login/",
        ),
    }
    # The statements of one submission, each system in a one-shot child.
    queries = {
        "gapsurvey": common.run_child(
            "submit", "postgres", "queries", "gapsurvey", str(study_id), *tokens[-3:]
        ),
        "floor": common.run_child(
            "submit", "postgres", "queries", "floor", str(study_id)
        ),
        "peer": peer_child("queries", str(peer["survey_id"])),
    }
    for name, counted in queries.items():
        if any(status != 302 for status in counted["statuses"]):
            raise SystemExit(f"{name}: the counted submissions answered {counted}")
    context = {
        "study_id": study_id,
        "peer_survey_id": peer["survey_id"],
        "scale": body["scale"],
        "tokens": tokens,
        "per_run": per_run,
        "queries": queries,
    }
    return systems, context


def counted_rows(study_id: int, peer_survey_id: int) -> dict[str, int]:
    """Rows actually written: GapSurvey's (through an invitation), the floor's
    (none), the peer's."""
    written = common.run_child("submit", "postgres", "compare-count", str(study_id))
    written["peer"] = peer_child("count", str(peer_survey_id))["responses"]
    return written


def run(args) -> list[dict]:
    systems, context = prepare(args)
    scale = tuple(context["scale"])
    tokens = context["tokens"]
    per_run = context["per_run"]
    before = counted_rows(context["study_id"], context["peer_survey_id"])
    runs: dict[tuple[str, int], list[dict]] = {}
    part = 0
    for repeat in range(args.repeat):
        for connections in args.connections:
            for name in args.systems:
                share = WORK / "tokens-part.txt"
                if name == "gapsurvey":
                    share.write_text(
                        "\n".join(tokens[part * per_run : (part + 1) * per_run]) + "\n"
                    )
                    part += 1
                profile = ""
                top = connections == max(args.connections)
                if args.profile and repeat == 0 and top:
                    profile = f"submit-compare-profile-{name}"
                measured = measure(
                    systems[name],
                    workers=args.workers,
                    connections=connections,
                    duration=args.duration,
                    tokens=share,
                    scale=scale,
                    profile=profile,
                )
                runs.setdefault((name, connections), []).append(measured)
                print(
                    f"round {repeat + 1} c={connections} {TITLES[name]}: "
                    f"{measured['submissions_per_s']:.1f}/s p50 "
                    f"{measured['p50_ms']:.0f} ms p99 {measured['p99_ms']:.0f} ms, "
                    f"CPU/submission worker {measured['worker_cpu_ms']:.1f} ms "
                    f"+ db {measured['database_cpu_ms']:.1f} ms; "
                    f"load {measured['load']}",
                    file=sys.stderr,
                )
    after = counted_rows(context["study_id"], context["peer_survey_id"])
    written = {name: after[name] - before[name] for name in after}

    rows = []
    keys = [
        "submissions_per_s",
        "p50_ms",
        "p90_ms",
        "p99_ms",
        "max_ms",
        "worker_cpu_ms",
        "database_cpu_ms",
    ]
    for (name, connections), mine in runs.items():
        row = {key: common.median([r[key] for r in mine]) for key in keys}
        row.update(
            system=name,
            connections=connections,
            workers=args.workers,
            duration=args.duration,
            repeat=args.repeat,
            runs=mine,
            non_302=sum(r["requests"] - r["status_302"] for r in mine),
            status_302=sum(r["status_302"] for r in mine),
            warm_up=sum(r["warm_up"] for r in mine),
            tokens_used_up=sum(r.get("tokens_used_up", 0) for r in mine),
            queries=context["queries"][name]["queries"],
            queries_in_transaction=context["queries"][name]["queries_in_transaction"],
            queries_autocommit=context["queries"][name]["queries_autocommit"],
            load="; ".join(r["load"] for r in mine),
        )
        rows.append(row)
    result = {
        "machine": common.machine(),
        "command": " ".join(["python -m bench.submit --compare", *sys.argv[2:]]),
        "settings": {
            "workers": args.workers,
            "connections": args.connections,
            "duration": args.duration,
            "repeat": args.repeat,
            "conn_max_age": args.conn_max_age,
            "order": args.systems,
        },
        "written": written,
        "queries": context["queries"],
        "rows": rows,
    }
    # A profiled run is slowed by the profiler: kept apart from the figures.
    common.save("submit-compare-profiled" if args.profile else "submit-compare", result)
    print(report(result))
    if args.profile:
        for name in args.systems:
            path = common.RESULTS / f"submit-compare-profile-{name}.txt"
            if path.exists():
                print(f"\n{TITLES[name]}: {path.relative_to(common.ROOT)}")
                print(profile_summary(path))
    for row in rows:
        if row["tokens_used_up"]:
            print(f"WARNING: {row['system']} ran out of tokens: results not valid")
    return rows


def profile_summary(path: Path, top: int = 20) -> str:
    """The functions of py-spy's raw (collapsed) stacks with the largest share
    of the samples, inclusive (the function and what it called) and self,
    project code and Django's database, form and compiler layers only."""
    import collections

    total = 0
    inclusive: collections.Counter = collections.Counter()
    own: collections.Counter = collections.Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        total += samples
        frames = [re.sub(r":\d+\)", ")", frame) for frame in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
    if not total:
        return "(no samples)"
    interesting = re.compile(
        r"\((surveys|gapsurvey|analysis|bench|survey)/|execute_sql|_execute \(|"
        r"_commit|normalize_choices|bulk_create|Model\.save \(|write \(gunicorn"
    )
    lines = [f"{total} samples; inclusive share:"]
    picked = [(f, n) for f, n in inclusive.most_common() if interesting.search(f)]
    lines += [f"  {100 * n / total:5.1f} %  {f}" for f, n in picked[:top]]
    lines.append("self share:")
    lines += [f"  {100 * n / total:5.1f} %  {f}" for f, n in own.most_common(10)]
    return "\n".join(lines)


def _row(rows, system, connections):
    return next(
        (r for r in rows if r["system"] == system and r["connections"] == connections),
        None,
    )


def ratios(rows: list[dict], connections: int) -> dict:
    """GapSurvey against the peer and the floor: medians of the rates, and the
    ratio of the medians of each round's ratio (the same round's load)."""
    mine = _row(rows, "gapsurvey", connections)
    found = {}
    for other in ("peer", "floor"):
        theirs = _row(rows, other, connections)
        if mine is None or theirs is None:
            continue
        paired = [
            a["submissions_per_s"] / b["submissions_per_s"]
            for a, b in zip(mine["runs"], theirs["runs"], strict=False)
            if b["submissions_per_s"]
        ]
        found[other] = {
            "of_medians": mine["submissions_per_s"] / theirs["submissions_per_s"]
            if theirs["submissions_per_s"]
            else None,
            "median_of_rounds": common.median(paired) if paired else None,
            "rounds": paired,
            "cpu": (theirs["worker_cpu_ms"] + theirs["database_cpu_ms"])
            / (mine["worker_cpu_ms"] + mine["database_cpu_ms"]),
        }
    return found


def _x(value) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}×" if value < 10 else f"{value:.1f}×"


def report(result: dict) -> str:
    rows = result["rows"]
    connections_list = sorted({r["connections"] for r in rows})
    lines = []
    for r in sorted(rows, key=lambda r: (r["connections"], SYSTEMS.index(r["system"]))):
        lines.append(
            [
                TITLES[r["system"]],
                r["connections"],
                f"{r['submissions_per_s']:.1f}",
                " / ".join(f"{x['submissions_per_s']:.1f}" for x in r["runs"]),
                f"{r['p50_ms']:.0f}",
                f"{r['p99_ms']:.0f}",
                f"{r['worker_cpu_ms']:.1f} + {r['database_cpu_ms']:.1f}",
                f"{r['queries']} ({r['queries_in_transaction']} in a transaction)",
                r["non_302"],
                r["load"],
            ]
        )
    out = [
        common.table(
            [
                "system",
                "connections",
                "submissions/s (median)",
                "each round",
                "p50 ms",
                "p99 ms",
                "CPU ms per submission (workers + PostgreSQL)",
                "queries per submission",
                "non-302",
                "load 1/5/15 min per round",
            ],
            lines,
        )
    ]
    ratio_lines = []
    for connections in connections_list:
        found = ratios(rows, connections)
        ratio_lines.append(
            [
                connections,
                _x(found.get("peer", {}).get("of_medians")),
                _x(found.get("peer", {}).get("median_of_rounds")),
                _x(found.get("peer", {}).get("cpu")),
                _x(found.get("floor", {}).get("of_medians")),
                _x(found.get("floor", {}).get("median_of_rounds")),
                _x(found.get("floor", {}).get("cpu")),
            ]
        )
    out.append("")
    out.append(
        common.table(
            [
                "connections",
                "GapSurvey / peer (medians)",
                "(median of rounds)",
                "(CPU per submission, peer / GapSurvey)",
                "GapSurvey / floor (medians)",
                "(median of rounds)",
                "(CPU per submission, floor / GapSurvey)",
            ],
            ratio_lines,
        )
    )
    out.append("")
    out.extend(targets(rows))
    written = result.get("written", {})
    if written:
        seen = {
            name: sum(
                r["status_302"] + r["warm_up"] for r in rows if r["system"] == name
            )
            for name in SYSTEMS
        }
        out.append("")
        out.append(
            "rows written / 302s seen (warm-ups included; the difference is the "
            "requests in flight when wrk stopped): "
            + ", ".join(
                f"{TITLES[name]} {written[name]} / {seen[name]}"
                for name in SYSTEMS
                if name in written
            )
        )
    return "\n".join(out)


def targets(rows: list[dict]) -> list[str]:
    """Issue 16.1's targets, each met or missed (and by how much)."""
    lines = []
    at = max((r["connections"] for r in rows), default=8)
    for connections in sorted({r["connections"] for r in rows}):
        found = ratios(rows, connections)
        for other, wanted in (("floor", TARGETS["floor"]), ("peer", TARGETS["peer"])):
            if other not in found:
                continue
            got = found[other]["of_medians"]
            verdict = "met" if got >= wanted else f"MISSED by {wanted - got:.2f}×"
            lines.append(
                f"- c={connections}: GapSurvey / {other} {_x(got)} "
                f"(target ≥ {wanted:g}×): {verdict}"
            )
    mine = _row(rows, "gapsurvey", at)
    if mine is not None:
        p99 = mine["p99_ms"]
        verdict = "met" if p99 <= TARGETS["p99_ms"] else f"MISSED by {p99 - 200:.0f} ms"
        lines.append(
            f"- c={at}: GapSurvey p99 {p99:.0f} ms (target ≤ 200 ms): {verdict}"
        )
        queries = mine["queries"]
        verdict = "met" if queries <= 4 else f"MISSED by {queries - 4}"
        outside = mine["queries_autocommit"]
        lines.append(
            f"- GapSurvey queries per submission {queries} "
            f"(target ≤ 4): {verdict}; {queries - outside} in the transaction, "
            f"{outside} before it (a read)"
        )
    return lines


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.submit --compare", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--connections", default="4,8")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--conn-max-age", type=int, default=60)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy (raw stacks) on one worker of each system in the first round "
        "at the highest connection count",
    )
    parser.add_argument(
        "--cold-starts",
        type=int,
        default=5,
        help="fresh single-worker starts for the cold-worker measurement (0: skip)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 120:
        raise SystemExit("--duration must be 1..120 s")
    if not 1 <= args.repeat <= 9:
        raise SystemExit("--repeat must be 1..9")
    if not 1 <= args.workers <= 8:
        raise SystemExit("--workers must be 1..8")
    try:
        args.connections = [int(c) for c in args.connections.split(",")]
    except ValueError:
        raise SystemExit("--connections is a list of numbers: 4,8")
    if not all(1 <= c <= 64 for c in args.connections):
        raise SystemExit("--connections must be 1..64 each")
    args.systems = [s for s in args.systems.split(",") if s]
    if not args.systems or any(s not in SYSTEMS for s in args.systems):
        raise SystemExit(f"--systems: a list of {', '.join(SYSTEMS)}")
    if not 0 <= args.cold_starts <= 20:
        raise SystemExit("--cold-starts must be 0..20")
    run(args)
    if args.cold_starts:
        from bench import cold

        cold.run(
            starts=args.cold_starts,
            conn_max_age=args.conn_max_age,
            profile=args.profile,
        )
