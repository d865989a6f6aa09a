"""Settings come from the environment; production must be safe or refuse to start."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "a-production-secret-" + "x" * 50,
    "DJANGO_ALLOWED_HOSTS": "gapsurvey.example.org",
    "SITE_URL": "https://gapsurvey.example.org",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DJANGO_") or k == "DJANGO_SETTINGS_MODULE"
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_production_profile_passes_check_deploy_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_it_refuses_to_start_with_debug_off_and_no_secret_key():
    env = dict(PRODUCTION, DJANGO_SECRET_KEY="")
    result = manage("check", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_a_boolean_setting_rejects_anything_but_true_or_false():
    result = manage("check", DJANGO_DEBUG="maybe")
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be true or false" in result.stderr


def test_the_development_defaults_pass_check():
    result = manage("check")
    assert result.returncode == 0, result.stderr


def test_the_invitation_claim_lease_comes_from_the_environment():
    read = "from surveys.services.invitations import CLAIM_LEASE as L; print(L)"
    assert manage("shell", "-c", read).stdout.split()[-1] == "0:10:00"
    short = manage("shell", "-c", read, GAPSURVEY_SEND_LEASE_SECONDS="15")
    assert short.stdout.split()[-1] == "0:00:15"


SHOW_DATABASES = (
    "from django.conf import settings as s; d = s.DATABASES; "
    "print(d['replica']['HOST'], d['replica']['NAME'], "
    "d['replica']['TEST']['MIRROR'], s.REPLICA_READS)"
)


def test_a_replica_url_makes_a_replica_alias_and_turns_replica_reads_on():
    result = manage(
        "shell",
        "-c",
        SHOW_DATABASES,
        DATABASE_URL="postgres://app@10.0.0.1:5432/gapsurvey",
        DATABASE_REPLICA_URL="postgres://app@10.0.0.2:5432/gapsurvey",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == [
        "10.0.0.2",
        "gapsurvey",
        "default",
        "True",
    ]


def test_without_a_replica_url_the_alias_mirrors_the_primary_and_is_unused():
    result = manage(
        "shell",
        "-c",
        SHOW_DATABASES,
        DATABASE_URL="postgres://app@10.0.0.1:5432/gapsurvey",
        DATABASE_REPLICA_URL="",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == [
        "10.0.0.1",
        "gapsurvey",
        "default",
        "False",
    ]
