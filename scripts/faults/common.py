"""Shared pieces of the fault scripts: a throwaway PostgreSQL cluster, the app's
processes (manage.py, gunicorn, db_worker) against it, and a pass/fail summary.

The machine's own PostgreSQL (port 5432) is never touched: every script runs
`initdb` into a temporary directory (as the `postgres` OS user when run as
root), starts that cluster on its own port, and removes it at the end.
"""

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import free_port as bench_free_port
from bench.common import wait_http

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
BIN = Path(PYTHON).parent


def free_port(preferred: int | None = None) -> int:
    """`preferred` if nothing listens there, else any free port."""
    if preferred is not None:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", preferred))
                return preferred
            except OSError:
                pass
    return bench_free_port()


def _pg_bin(tool: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"))
    if not found:
        raise SystemExit(f"{tool} not found under /usr/lib/postgresql/*/bin/")
    return found[-1]


class ThrowawayPostgres:
    """A PostgreSQL cluster of our own in a temp dir, on 127.0.0.1:<port>."""

    def __init__(self, port: int = 5499) -> None:
        self.port = free_port(port)
        self.dir = Path(tempfile.mkdtemp(prefix="gs-fault-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.as_root = os.geteuid() == 0

    def _run(self, *argv: str, timeout: float = 120) -> None:
        command = list(argv)
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode:
            raise SystemExit(
                f"{' '.join(argv)} failed:\n{done.stdout}{done.stderr}\n"
                + (self.log.read_text()[-2000:] if self.log.exists() else "")
            )

    def start(self) -> "ThrowawayPostgres":
        if self.as_root:
            shutil.chown(self.dir, user="postgres", group="postgres")
        self._run(
            _pg_bin("initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=50"
        )
        self._run(
            _pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o",
            options, "-w", "start",
        )  # fmt: skip
        return self

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: every open connection is cut."""
        self._run(
            _pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-m",
            "fast", "-w", "restart",
        )  # fmt: skip

    def stop(self) -> None:
        if self.data.exists():
            try:
                self._run(
                    _pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate",
                    "-w", "stop",
                )  # fmt: skip
            except SystemExit:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str = "gapsurvey") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str = "gapsurvey") -> str:
        import psycopg2

        connection = psycopg2.connect(self.url("postgres"))
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()
        return self.url(name)

    def query(self, sql: str, params=(), database: str = "gapsurvey") -> list[tuple]:
        import psycopg2

        connection = psycopg2.connect(self.url(database))
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            connection.close()


def app_env(database_url: str, **extra: str) -> dict[str, str]:
    """The app's environment: debug off (bench.settings), this database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=database_url,
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="WARNING",
    )
    env.pop("REDIS_URL", None)
    env.pop("TASKS_BACKEND", None)
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    done = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode:
        raise SystemExit(
            f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def prepare_database(env: dict[str, str]) -> None:
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "createcachetable")
    manage(env, "loaddata", "-v0", "default_questionnaire")


def start_gunicorn(env: dict[str, str], port: int, workers: int = 2, log=None):
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "gapsurvey.wsgi",
            f"--workers={workers}",
            f"--bind=127.0.0.1:{port}",
            "--timeout=30",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log or subprocess.DEVNULL,
        stderr=log or subprocess.DEVNULL,
    )
    wait_http(f"http://127.0.0.1:{port}/accounts/login/")
    return process


def stop_process(process: subprocess.Popen | None, seconds: float = 10) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=seconds)


class Checks:
    """Named pass/fail checks, printed as a summary; exit status 1 on any fail."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.results: list[tuple[bool, str]] = []
        self.figures: list[str] = []

    def check(self, ok: bool, what: str) -> bool:
        self.results.append((bool(ok), what))
        return bool(ok)

    def note(self, line: str) -> None:
        self.figures.append(line)

    def finish(self) -> None:
        print(f"\n== {self.title} ==")
        for line in self.figures:
            print(f"   {line}")
        for ok, what in self.results:
            print(f"{'PASS' if ok else 'FAIL'}  {what}")
        failed = sum(1 for ok, _ in self.results if not ok)
        print(
            f"-- {len(self.results) - failed} passed, {failed} failed"
            + ("" if failed else " -- OK")
        )
        sys.exit(1 if failed or not self.results else 0)
