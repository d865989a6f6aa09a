"""Issue 14.8: every management command of the project, on an empty database and
on bad arguments, answers with a clear message and never a traceback."""

import os
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from surveys.models import Organization, Questionnaire

ROOT = Path(__file__).resolve().parents[2]


def _env(database: Path) -> dict:
    env = os.environ | {"DATABASE_URL": f"sqlite:///{database}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory) -> Path:
    """One migrated, empty SQLite file, copied for each test that needs one."""
    database = tmp_path_factory.mktemp("migrated") / "db.sqlite3"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env=_env(database),
        check=True,
    )
    return database


def manage(tmp_path, *args, template: Path | None = None):
    """Run manage.py in a fresh process on a new SQLite file (a copy of
    `template` when given, else a file that was never migrated)."""
    database = tmp_path / "db.sqlite3"
    if template is not None:
        shutil.copy(template, database)
    env = _env(database)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


COMMANDS = [
    ["demo"],
    ["create_organization", "Acme", "--manager", "ann@example.org"],
    ["generate_study", "--customers", "2", "--staff", "2"],
    ["send_reminders"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_on_a_database_never_migrated_each_command_says_to_migrate(tmp_path, args):
    result = manage(tmp_path, *args)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "manage.py migrate" in result.stderr


BAD = [
    (["create_organization", "Acme", "--manager", "not-an-address"], "email"),
    (["create_organization", "Acme", "--manager", "a@"], "email"),
    (["create_organization", "x" * 300, "--manager", "a@example.org"], "longer"),
    (["create_organization", "   ", "--manager", "a@example.org"], "name"),
    (["create_organization", "Acme"], "--manager"),
    (["generate_study", "--customers", "-1", "--staff", "1"], "customers"),
    (["generate_study", "--customers", "1", "--staff", "1"], "loaddata"),
    (["send_reminders", "--study", "abc"], "study"),
    (["send_reminders", "--study", "999"], "No open study"),
]


@pytest.mark.parametrize(("args", "says"), BAD, ids=[" ".join(a)[:40] for a, _ in BAD])
def test_bad_arguments_get_a_message_not_a_traceback(
    tmp_path, migrated_template, args, says
):
    result = manage(tmp_path, *args, template=migrated_template)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert says in result.stderr


@pytest.mark.django_db
def test_demo_loads_the_default_questionnaire_itself_when_missing():
    assert not Questionnaire.objects.exists()
    out = StringIO()
    call_command("demo", stdout=out)
    assert "default questionnaire" in out.getvalue()
    assert Organization.objects.filter(slug="demo").exists()


@pytest.mark.django_db
def test_generate_study_refuses_an_unwritable_tokens_file(tmp_path):
    call_command("loaddata", "default_questionnaire", verbosity=0)
    with pytest.raises(CommandError, match="tokens"):
        call_command(
            "generate_study",
            "--customers=1",
            "--staff=1",
            "--unanswered=1",
            f"--tokens-file={tmp_path / 'missing-dir' / 'tokens.txt'}",
            stdout=StringIO(),
        )
