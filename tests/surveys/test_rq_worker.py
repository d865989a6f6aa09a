"""The scale-out option, configured as an operator would: TASKS_BACKEND and
REDIS_URL in the environment, the app enqueues, `manage.py rqworker` sends.

Runs the app's own processes against a file database, Redis database 13 and an
SMTP sink on 127.0.0.1.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.smtp_sink import SmtpSink, body_text

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/13"


pytestmark = pytest.mark.usefixtures("redis_server")

INVITE = """
from django.db import transaction
from surveys.services.invitations import invitations_create
from tests import factories

with transaction.atomic():
    study = factories.make_study(factories.make_organization(name="Rq Org"))
    factories.make_contact(study.organization, email="rq-customer@example.com")
    result = invitations_create(study=study, actor=None)
print("invited", result.created)
"""


def test_invitations_go_out_through_redis_and_an_rq_worker(tmp_path):
    sink = SmtpSink().start()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'rq.sqlite3'}",
        "TASKS_BACKEND": "django_tasks_rq.RQBackend",
        "REDIS_URL": REDIS_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "SITE_URL": "http://127.0.0.1:8000",
    }

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    try:
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        manage("migrate", "--noinput", "--verbosity", "0")
        manage("createcachetable")
        assert "invited 1" in manage("shell", "-c", INVITE)
        assert sink.messages == []  # enqueued on Redis, not sent in the request
        manage("rqworker", "--burst", "--job-class", "django_tasks_rq.Job", "default")
        [message] = sink.wait_for("rq-customer@example.com", seconds=10)
        assert "http://127.0.0.1:8000/s/" in body_text(message)
        sent = manage(
            "shell",
            "-c",
            "from surveys.models import Invitation;"
            "print(Invitation.objects.filter(sent_at__isnull=False).count())",
        )
        assert sent.strip().splitlines()[-1] == "1"
    finally:
        sink.stop()


STAFF_IMPORT = """
from django.db import transaction
from surveys.services.staff import staff_import_start
from tests import factories

text = "email,name,department\\n" + "".join(
    f"rq-staff{i}@example.com,Staff {i},Field\\n" for i in range(4)
)
with transaction.atomic():
    organization = factories.make_organization(name="Rq Staff Org")
    job = staff_import_start(organization=organization, actor=None, text=text)
print("job", type(job).__name__, job.kind, job.status)
"""


def test_a_big_staff_import_runs_on_an_rq_worker_and_mails_after_it(tmp_path):
    sink = SmtpSink().start()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'rq-import.sqlite3'}",
        "TASKS_BACKEND": "django_tasks_rq.RQBackend",
        "REDIS_URL": REDIS_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "GAPSURVEY_IMPORT_INLINE_ROWS": "2",
        "GAPSURVEY_IMPORT_CHUNK_ROWS": "2",
    }

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    try:
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        manage("migrate", "--noinput", "--verbosity", "0")
        assert "job ImportJob staff queued" in manage("shell", "-c", STAFF_IMPORT)
        assert sink.messages == []
        manage("rqworker", "--burst", "--job-class", "django_tasks_rq.Job", "default")
        assert len(sink.wait_for("rq-staff", count=4, seconds=10)) == 4
        state = manage(
            "shell",
            "-c",
            "from surveys.models import ImportJob, Membership;"
            "j = ImportJob.objects.get();"
            "print(j.status, j.created, Membership.objects.count())",
        )
        assert state.strip().splitlines()[-1] == "done 4 4"
    finally:
        sink.stop()
