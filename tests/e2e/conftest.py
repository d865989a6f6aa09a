"""End-to-end set-up: the app under gunicorn on 127.0.0.1, a task worker, an SMTP
sink, and Debian's Chromium driven by Playwright.

The app runs in its own processes against its own database (an SQLite file, or a
fresh PostgreSQL database when DATABASE_URL names PostgreSQL), exactly as it would
in production; tests reach it only through the browser, the mail and `manage`.
"""

import json
import os
import shutil
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
# `GAPSURVEY_SCREENSHOTS_DIR=docs make test` refreshes the README's screenshots.
SCREENSHOTS_COPY = os.environ.get("GAPSURVEY_SCREENSHOTS_DIR", "")

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

    def seed(self, function: str, /, **arguments) -> dict:
        """Run tests/e2e/seed.py's `function` in the app's database; its result."""
        output = self.shell(
            "from tests.e2e.seed import main; "
            f"main({function!r}, {json.dumps(arguments)!r})"
        )
        return json.loads(output.strip().splitlines()[-1])


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
    # One process for the three set-up commands: each start costs a second.
    application.shell(
        "from django.core.management import call_command; "
        "call_command('migrate', interactive=False, verbosity=0); "
        "call_command('createcachetable'); "
        "call_command('loaddata', 'default_questionnaire', "
        "'expectations_questionnaire', verbosity=0)"
    )
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
    """What a page did that it must not: console errors and uncaught exceptions
    (each with the page it happened on), requests off 127.0.0.1."""

    def __init__(self) -> None:
        self.console_errors: list[str] = []
        self.foreign_requests: list[str] = []

    def console(self, message) -> None:
        if message.type != "error":
            return
        where = message.page.url if message.page else "?"
        if (
            message.text.startswith("Failed to load resource")
            and message.location.get("url") == where
        ):
            # Chromium logs a document's own 4xx (e.g. the survey's deliberate 400
            # on missing answers); that status is the page's meaning, checked by
            # the tests, while a 5xx is caught by `response` below. A sub-resource
            # that fails (a missing script or style) is still an error.
            return
        self.console_errors.append(f"{where}: {message.text}")

    def response(self, response) -> None:
        if response.request.is_navigation_request() and response.status >= 500:
            self.console_errors.append(f"{response.url}: HTTP {response.status}")

    def page_error(self, error) -> None:
        where = error.page.url if error.page else "?"
        exception = error.error
        self.console_errors.append(
            f"{where}: uncaught {exception.name}: {exception.message}"
        )


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
    context.on("console", problems.console)
    context.on("response", problems.response)
    context.on("weberror", problems.page_error)
    return context, problems


@pytest.fixture
def new_page(browser):
    """Make pages (desktop: 1280 wide, `height` high; `phone=True`: 375×800); each
    is checked at the end of the test for console errors and requests that left
    127.0.0.1."""
    made = []

    def make(phone: bool = False, height: int = 900):
        options = (
            {
                "viewport": {"width": 375, "height": 800},
                "is_mobile": True,
                "device_scale_factor": 2,
            }
            if phone
            else {"viewport": {"width": 1280, "height": height}}
        )
        context, problems = _new_context(browser, **options)
        page = context.new_page()
        page.set_default_timeout(15_000)
        made.append((context, problems))
        return page

    yield make
    for context, _ in made:
        context.close()
    for _, problems in made:
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
    # Only the violations are needed: axe then skips collecting every passing node.
    result = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "nodes": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in result["violations"]
        if violation["impact"] in impacts
    ]


def screenshot(
    page, name: str, height: int | None = None, viewport: bool = False
) -> Path:
    """Save a PNG of the page (the whole page, its top `height` pixels, or with
    `viewport` what the window shows where it is scrolled to, sticky parts
    included) into var/screenshots, and a copy into $GAPSURVEY_SCREENSHOTS_DIR
    (relative to the project) when it is set."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    clip = None
    if height is not None and not viewport:
        width = page.viewport_size["width"]
        clip = {"x": 0, "y": 0, "width": width, "height": height}
    page.screenshot(
        path=str(path), full_page=not viewport, clip=clip, animations="disabled"
    )
    if SCREENSHOTS_COPY:
        copy_dir = ROOT / SCREENSHOTS_COPY
        copy_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy_dir / path.name)
    return path
