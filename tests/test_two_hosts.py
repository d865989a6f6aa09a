"""Issue 16.5: two web hosts' worth of processes behind one PostgreSQL, the worker
on Redis (RQ) — scripts/two_hosts.sh, run briefly as an operator would.

Two gunicorns on two ports of 127.0.0.1 and an RQ worker each, one PostgreSQL
database of the test's own, Redis database 12, mail to an SMTP sink. The
invitations are enqueued on Redis and mailed by the hosts' RQ workers; one
customer answers through each host; both answers land in the one database.
Needs PostgreSQL and Redis on 127.0.0.1 (skipped without them outside CI).
"""

import json
import os
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.smtp_sink import SmtpSink, body_text

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/12"
LINK = re.compile(r"http://127\.0\.0\.1:\d+/s/([^/\s]+)/")

pytestmark = pytest.mark.usefixtures("redis_server")

SETUP = """
import json
from surveys.models import Study
from surveys.tasks import invitations_send
study = Study.objects.get(pk={study_id})
items = list(study.questionnaire.items.order_by("position", "id"))
low = study.questionnaire.scale_min
fields = {{f"item_{{item.pk}}": low for item in items}}
fields["questionnaire_key"] = f"{{study.questionnaire_id}}:{{len(items)}}"
fields["comment"] = ""
invitations_send.enqueue(study.pk)
print("BODY " + json.dumps(fields))
"""

COUNT = """
from surveys.models import Response
rows = Response.objects.filter(
    study_id={study_id}, status="submitted", invitation__isnull=False
)
print("SUBMITTED", rows.count())
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_url() -> str:
    """A database of this test's own on the PostgreSQL server the suite uses."""
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith("postgres"):
        name = base.rsplit("/", 1)[1].split("?")[0]
        return f"{base.rsplit('/', 1)[0]}/{name}_two_hosts"
    return os.environ.get(
        "TWO_HOSTS_PG_URL", "postgres://postgres@127.0.0.1:5432/gapsurvey_two_hosts"
    )


@pytest.fixture
def fresh_postgres():
    import psycopg2
    from psycopg2 import sql

    url = urllib.parse.urlsplit(postgres_url())
    name = url.path.lstrip("/")
    try:
        admin = psycopg2.connect(
            host=url.hostname,
            port=url.port or 5432,
            user=url.username or "postgres",
            password=url.password,
            dbname="postgres",
            connect_timeout=3,
        )
    except psycopg2.OperationalError:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not answering on 127.0.0.1:5432")
        pytest.skip("needs PostgreSQL on 127.0.0.1:5432")
    admin.autocommit = True

    def drop():
        with admin.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
            )

    drop()
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield postgres_url()
    drop()
    admin.close()


def post(url: str, fields: dict) -> int:
    """The status of a POST, redirects not followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    data = urllib.parse.urlencode(fields).encode()
    try:
        return opener.open(url, data=data, timeout=30).status
    except urllib.error.HTTPError as error:
        return error.code


def test_two_hosts_behind_one_postgresql_with_rq_workers(fresh_postgres, tmp_path):
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    sink = SmtpSink().start()
    ports = [free_port(), free_port()]
    env = {
        **os.environ,
        "DATABASE_URL": fresh_postgres,
        "REDIS_URL": REDIS_URL,
        "PORTS": " ".join(map(str, ports)),
        "WEB_WORKERS": "1",
        "RQ_WORKERS": "1",
        "STATE_DIR": str(tmp_path / "state"),
        "PYTHON": sys.executable,
        "DJANGO_SECRET_KEY": "two-hosts-test-" + "k" * 40,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "GAPSURVEY_RATE_LIMITS": "false",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DJANGO_DEBUG", None)
    script = str(ROOT / "scripts" / "two_hosts.sh")

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env | {"TASKS_BACKEND": "django_tasks_rq.RQBackend"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    started = subprocess.run(
        ["bash", script, "start"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        for port in ports:
            assert f"127.0.0.1:{port}/ is up" in started.stdout
        made = manage(
            "generate_study",
            "--customers=1",
            "--staff=1",
            "--organization=two-hosts",
            "--unanswered=2",
            "--unsent",
        )
        study_id = int(made.split("study_id=")[1].split()[0])
        out = manage("shell", "-c", SETUP.format(study_id=study_id))
        body = json.loads(out.split("BODY ", 1)[1].splitlines()[0])
        # The hosts' RQ workers mail the two invitations (enqueued on Redis).
        tokens = set()
        for message in sink.wait_for("@", seconds=60, count=2):
            tokens.update(LINK.findall(body_text(message)))
        assert len(tokens) == 2
        statuses = [
            post(f"http://127.0.0.1:{port}/s/{token}/", body)
            for port, token in zip(ports, sorted(tokens), strict=True)
        ]
        assert statuses == [302, 302]
        counted = manage("shell", "-c", COUNT.format(study_id=study_id))
        assert "SUBMITTED 3" in counted  # the generated one and one per host
    finally:
        stopped = subprocess.run(
            ["bash", script, "stop"],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        sink.stop()
    assert "stopped" in stopped.stdout
    assert not list((tmp_path / "state").glob("*.pid"))
