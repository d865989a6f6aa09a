"""Shared helpers of the benchmark scripts: databases, child processes, tables.

Every benchmark drives the app in child processes (one database per process,
fresh memory per measurement) through `manage.py` and `python -m bench.<name>`.
"""

import json
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# Under var/ (not in git): measurements belong to a machine, not to the code.
RESULTS = ROOT / "var" / "bench" / "results"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/gs_bench"
SQLITE_PATH = ROOT / "var" / "bench" / "bench.sqlite3"


def database_url(name: str) -> str:
    """The DATABASE_URL of a benchmark database: "postgres" or "sqlite"."""
    if name == "postgres":
        return os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL)
    if name == "postgres-nojit":
        # The same database; this connection turns PostgreSQL's JIT off.
        return database_url("postgres") + "?options=-c%20jit%3Doff"
    if name == "sqlite":
        return f"sqlite:///{SQLITE_PATH}"
    raise SystemExit(f"unknown database {name!r}: postgres, postgres-nojit or sqlite")


def child_env(database: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(database),
        DJANGO_SETTINGS_MODULE="bench.settings",
        PYTHONPATH=str(ROOT),
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
        # Every request of a benchmark comes from 127.0.0.1: the per-address
        # limits would measure themselves. `bench.submit --rate-limits on`
        # turns them back on (raised out of the way) to measure their cost.
        GAPSURVEY_RATE_LIMITS="false",
    )
    env.pop("DJANGO_DEBUG", None)
    env.update(extra)
    return env


def manage(database: str, *args: str, **extra: str) -> str:
    """Run `manage.py <args>` on a benchmark database; its output."""
    done = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=child_env(database, **extra),
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"manage.py {' '.join(args)} failed")
    return done.stdout


def database_prepare(database: str) -> None:
    """Create (PostgreSQL) the database if missing, migrate it, load the default
    questionnaires and the cache table. Idempotent."""
    if database.startswith("postgres"):
        database_create(database_url("postgres"))
    else:
        SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    manage(database, "migrate", "--noinput", "-v0")
    manage(database, "createcachetable")
    manage(
        database,
        "loaddata",
        "-v0",
        "default_questionnaire",
        "expectations_questionnaire",
    )


def database_create(url: str) -> None:
    """Create the PostgreSQL database of a URL if it does not exist."""
    import psycopg2
    from psycopg2 import sql

    name = url.rsplit("/", 1)[1]
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


def compile_bytecode() -> None:
    """Write the project's bytecode (__pycache__, not in git) as a deploy does,
    so that a fresh worker measures imports, not compiling: with
    PYTHONDONTWRITEBYTECODE set (as on this project's machines) nothing else
    writes it, and every new worker would compile each module from source."""
    subprocess.run(
        [PYTHON, "-m", "compileall", "-q", "-j0", "surveys", "analysis", "gapsurvey"]
        + ["bench"],
        cwd=ROOT,
        check=True,
        timeout=600,
        stdout=subprocess.DEVNULL,
    )


def run_child(module: str, database: str, *args: str, timeout: float = 3600) -> dict:
    """Run `python -m bench.<module> --child …` and return the JSON it prints last."""
    done = subprocess.run(
        [PYTHON, "-m", f"bench.{module}", "--child", *args],
        cwd=ROOT,
        env=child_env(database),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"child {module} {' '.join(args)} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def loadavg() -> str:
    """The 1/5/15-minute load averages now (what `uptime` prints): the
    machine is shared, so every measurement carries the load it ran under."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def maxrss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux: KiB units)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(function, runs: int) -> list[float]:
    """Wall-clock milliseconds of `runs` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def machine() -> dict:
    """Where the numbers were measured."""
    info = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load": loadavg(),
        "cpus": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory": _memory(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _postgres_version(),
    }
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "?"


def _postgres_version() -> str:
    try:
        import psycopg2

        connection = psycopg2.connect(database_url("postgres"))
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        connection.close()
        return version
    except Exception as error:  # not reachable: say so in the report
        return f"unavailable ({type(error).__name__})"


def save(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def save_row(name: str, row: dict, same=lambda a, b: a["label"] == b["label"]):
    """Replace the saved row that `same` matches (by label) with this one, save
    the benchmark's results and return all its rows."""
    rows = [r for r in load(name).get("rows", []) if not same(r, row)]
    rows.append(row)
    save(name, {"machine": machine(), "rows": rows})
    return rows


def load(name: str) -> dict:
    """Earlier results of a benchmark (rows measured by other runs are kept)."""
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def table(headers: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A Markdown table."""
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---:" if i else "---" for i in range(len(headers))) + "|",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def require(tool: str, hint: str) -> str:
    """The path of a command: in this Python's environment (bin/), else on PATH."""
    local = Path(PYTHON).parent / tool
    path = str(local) if local.exists() else shutil.which(tool)
    if path is None:
        raise SystemExit(f"{tool} is needed: {hint}")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, seconds: float = 30) -> None:
    """Until anything answers HTTP at the URL (an error status counts)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing answered on {url} within {seconds} s")


def vm_mb(pid: int, key: str = "VmHWM") -> float | None:
    """A VmXXX line of /proc/<pid>/status in MB; None once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def py_spy_record(
    pid: int, name: str, *options: str, suffix: str = ".svg"
) -> subprocess.Popen:
    """py-spy sampling a process into RESULTS/<name>.svg (a flame graph; with
    `--format raw` and suffix ".txt", collapsed stacks)."""
    py_spy = require("py-spy", "pip install -r bench/requirements.txt")
    RESULTS.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [py_spy, "record", "--pid", str(pid), *options]
        + ["--output", str(RESULTS / f"{name}{suffix}")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def child_step(args, measure) -> bool:
    """In a child process (--child): set Django up and print the step's JSON
    — the study of the size prepared (--step prepare), or `measure(size)`.
    False in the parent."""
    if not args.child:
        return False
    import django

    django.setup()
    from bench.dashboard import child_prepare

    size = int(args.sizes)
    found = child_prepare(size) if args.step == "prepare" else measure(size)
    print(json.dumps(found))
    return True


def sizes_prepared(module: str, args) -> Iterator[tuple[str, int]]:
    """Each (database, size) the arguments name, its database migrated and
    its study generated (in a child of `module`) before it is yielded."""
    for database in args.databases.split(","):
        database_prepare(database)
        for size in [int(s) for s in args.sizes.split(",")]:
            run_child(module, database, "--step", "prepare", "--sizes", str(size))
            yield database, size
