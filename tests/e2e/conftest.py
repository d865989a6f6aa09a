"""End-to-end set-up: the app under gunicorn on 127.0.0.1, a task worker, an SMTP
sink, and Debian's Chromium driven by Playwright.

The app runs in its own processes against its own database (an SQLite file, or a
fresh PostgreSQL database when DATABASE_URL names PostgreSQL), exactly as it would
in production; tests reach it only through the browser, the mail and `manage`.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.smtp_sink import SmtpSink

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "var" / "screenshots"

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url(tmp_dir: Path) -> tuple[str, callable]:
    """A database of its own for the app under test, and how to drop it."""
    configured = os.environ.get("DATABASE_URL", "")
    if not configured.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{tmp_dir / 'e2e.sqlite3'}", lambda: None
    import psycopg2

    parsed = urlparse(configured)
    name = f"{parsed.path.lstrip('/') or 'gapsurvey'}_e2e_{os.getpid()}"
    admin_url = parsed._replace(path="/postgres").geturl()

    def run(sql: str) -> None:
        connection = psycopg2.connect(admin_url)
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(sql)
        connection.close()

    run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    run(f'CREATE DATABASE "{name}"')
    return (
        parsed._replace(path=f"/{name}").geturl(),
        lambda: run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'),
    )


class App:
    """The running app: its URL, its mail, and `manage` against its database."""

    def __init__(self, url: str, env: dict, smtp: SmtpSink) -> None:
        self.url = url
        self.env = env
        self.smtp = smtp

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise AssertionError(f"manage.py {args} failed:\n{result.stderr}")
        return result.stdout

    def shell(self, code: str) -> str:
        return self.manage("shell", "--no-imports", "-c", code)


def _wait_for(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - 127.0.0.1 only
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    tmp_dir = tmp_path_factory.mktemp("e2e")
    database_url, drop_database = _database_url(tmp_dir)
    smtp = SmtpSink()
    smtp.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "true",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": url,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "DJANGO_SETTINGS_MODULE": "gapsurvey.settings",
        "PYTHONUNBUFFERED": "1",
    }
    application = App(url, env, smtp)
    application.manage("migrate", "--noinput", "-v", "0")
    application.manage("createcachetable")
    application.manage("loaddata", "-v", "0", "default_questionnaire")
    logs = tmp_dir / "logs"
    logs.mkdir()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "gapsurvey.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=env,
        stdout=open(logs / "server.log", "w"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--no-reload",
            "--no-startup-delay",
            "--interval",
            "0.2",
        ],
        cwd=ROOT,
        env=env,
        stdout=open(logs / "worker.log", "w"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(f"{url}/accounts/login/", server)
        yield application
    finally:
        for process in (server, worker):
            process.terminate()
        for process in (server, worker):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        smtp.stop()
        drop_database()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: install the Debian package "
            "`chromium` (apt-get install chromium). The browser tests never pass "
            "without it."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class PageProblems:
    """What a page did that it must not: console errors, requests off 127.0.0.1."""

    def __init__(self) -> None:
        self.console_errors: list[str] = []
        self.foreign_requests: list[str] = []


def _new_context(browser, **options):
    problems = PageProblems()
    # bypass_csp only so that the test can inject axe-core; the app's own
    # pages still receive and obey their policy (a test checks the header).
    context = browser.new_context(bypass_csp=True, **options)

    def guard(route):
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            route.continue_()
        else:
            problems.foreign_requests.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    context.on(
        "console",
        lambda message: (
            message.type == "error" and problems.console_errors.append(message.text)
        ),
    )
    context.on(
        "weberror", lambda error: problems.console_errors.append(str(error.error))
    )
    return context, problems


@pytest.fixture
def new_page(browser):
    """Make pages (desktop by default, `phone=True` for 375×800); each is checked at
    the end of the test for console errors and requests that left 127.0.0.1."""
    made = []

    def make(phone: bool = False):
        options = (
            {"viewport": {"width": 375, "height": 800}, "is_mobile": True}
            if phone
            else {"viewport": {"width": 1280, "height": 900}}
        )
        context, problems = _new_context(browser, **options)
        page = context.new_page()
        page.set_default_timeout(15_000)
        made.append((context, problems))
        return page

    yield make
    for context, problems in made:
        context.close()
        assert problems.foreign_requests == [], "requests left 127.0.0.1"
        assert problems.console_errors == [], "console errors"


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core in the page; the serious and critical violations."""
    if not AXE.exists():
        pytest.fail(
            f"axe-core is missing at {AXE}: run `npm ci` (the Makefile does it "
            "when npm is installed)."
        )
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "nodes": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in result["violations"]
        if violation["impact"] in impacts
    ]


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
