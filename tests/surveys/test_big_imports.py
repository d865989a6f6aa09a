"""Issue 14.4: big contacts imports run in the task queue in chunks with progress,
all or nothing; an import belongs to the organization it was previewed in; on
SQLite a short write waits for a long one instead of failing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from surveys.models import AuditEvent, Contact, ImportJob, Membership, Role
from surveys.services.contacts import contacts_import_job_run
from tests import factories
from tests.surveys.test_contacts_import import _preview

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def csv_text(n: int, start: int = 0, segment: str = "Retail") -> str:
    return "email,name,segment\n" + "".join(
        f"p{i}@example.org,Person {i},{segment}\n" for i in range(start, start + n)
    )


def confirm(client, preview):
    return client.post(
        reverse("contact_import_confirm"), {"key": preview.context["key"]}
    )


@pytest.fixture
def small_inline(settings):
    settings.IMPORT_INLINE_MAX_ROWS = 5
    settings.IMPORT_CHUNK_ROWS = 4


def test_a_big_confirmed_import_is_queued_not_run_in_the_request(
    alice_client, org_a, small_inline, django_capture_on_commit_callbacks
):
    preview = _preview(alice_client, csv_text(12))
    with django_capture_on_commit_callbacks() as callbacks:
        response = confirm(alice_client, preview)
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("contact_import_status", args=[job.pk])
    assert len(callbacks) == 1  # the task is enqueued once the job is committed
    assert not Contact.objects.exists()
    assert (job.organization, job.status, job.total_rows) == (org_a, "queued", 12)
    page = alice_client.get(response["Location"]).content.decode()
    assert "0 of 12 rows checked" in page
    assert 'http-equiv="refresh"' in page


def test_the_job_checks_in_chunks_with_progress_then_applies_everything(
    alice_client, org_a, small_inline, monkeypatch
):
    job = ImportJob.objects.create(organization=org_a, text=csv_text(12), total_rows=12)
    seen = []
    original = ImportJob.objects.filter

    def spy(*args, **kwargs):
        queryset = original(*args, **kwargs)
        update = queryset.update

        def recording_update(**fields):
            if "processed_rows" in fields:
                seen.append((fields["processed_rows"], Contact.objects.count()))
            return update(**fields)

        queryset.update = recording_update
        return queryset

    monkeypatch.setattr(ImportJob.objects, "filter", spy)
    contacts_import_job_run(job_id=job.pk)
    assert [done for done, _ in seen] == [4, 8, 12, 12]
    # Nothing is written while checking: all or nothing.
    assert all(count == 0 for _, count in seen)
    job.refresh_from_db()
    assert (job.status, job.created, job.text) == ("done", 12, "")
    assert Contact.objects.filter(organization=org_a).count() == 12
    assert AuditEvent.objects.filter(action="contacts_import").exists()
    page = alice_client.get(reverse("contact_import_status", args=[job.pk]))
    assert "12 created" in page.content.decode()


def test_a_job_with_a_bad_row_writes_nothing_and_says_why(org_a, small_inline):
    text = csv_text(8) + "not-an-email,Bad,\n"
    job = ImportJob.objects.create(organization=org_a, text=text, total_rows=9)
    contacts_import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "nothing was imported" in job.error
    assert not Contact.objects.exists()


def test_a_clash_found_at_the_end_writes_nothing(org_a, small_inline, monkeypatch):
    """A contact added by hand while the job was checking: the final swap fails
    as a whole."""
    from surveys.services import contacts

    job = ImportJob.objects.create(organization=org_a, text=csv_text(10), total_rows=10)
    plan = contacts.contacts_import_plan

    def plan_then_clash(**kwargs):
        result = plan(**kwargs)
        factories.make_contact(org_a, email="p7@example.org")
        return result

    monkeypatch.setattr(contacts, "contacts_import_plan", plan_then_clash)
    contacts_import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed"
    assert list(Contact.objects.values_list("email", flat=True)) == ["p7@example.org"]


def test_a_finished_job_run_again_does_nothing(org_a, small_inline):
    job = ImportJob.objects.create(organization=org_a, text=csv_text(6), total_rows=6)
    contacts_import_job_run(job_id=job.pk)
    contacts_import_job_run(job_id=job.pk)
    assert Contact.objects.count() == 6


def test_the_task_runs_the_job(org_a, small_inline):
    from surveys.tasks import import_run

    job = ImportJob.objects.create(organization=org_a, text=csv_text(6), total_rows=6)
    assert import_run.call(job.pk)["created"] == 6


def test_another_organizations_import_page_is_404(charlie_client, bob_client, org_a):
    job = ImportJob.objects.create(organization=org_a, text="", total_rows=1)
    url = reverse("contact_import_status", args=[job.pk])
    assert charlie_client.get(url).status_code == 404
    assert bob_client.get(url).status_code == 404


@pytest.mark.parametrize("kind", ["contacts", "staff"])
def test_an_import_previewed_in_one_organization_is_never_applied_in_another(
    alice, alice_client, org_a, org_b, kind, mailoutbox
):
    Membership.objects.create(user=alice.user, organization=org_b, role=Role.MANAGER)
    if kind == "contacts":
        preview = _preview(alice_client, csv_text(3))
        confirm_url = reverse("contact_import_confirm")
    else:
        from tests.surveys.test_staff import preview as staff_preview

        preview = staff_preview(alice_client, "email,name\nx1@example.org,X One\n")
        confirm_url = reverse("staff_import_confirm")
    alice_client.post(reverse("organization_switch"), {"organization": org_b.pk})
    response = alice_client.post(
        confirm_url, {"key": preview.context["key"]}, follow=True
    )
    assert "previewed in another organization" in response.content.decode()
    assert not Contact.objects.exists()
    assert not Membership.objects.filter(user__email="x1@example.org").exists()
    # Back in A, the preview can still be confirmed there.
    alice_client.post(reverse("organization_switch"), {"organization": org_a.pk})
    alice_client.post(confirm_url, {"key": preview.context["key"]})
    if kind == "contacts":
        assert Contact.objects.filter(organization=org_a).count() == 3
    else:
        assert Membership.objects.filter(
            organization=org_a, user__email="x1@example.org"
        ).exists()


# --- SQLite: WAL and a busy timeout, so a short write waits ----------------------

HOLD = """
import time
from django.db import transaction
from surveys.models import Organization
with transaction.atomic():
    Organization.objects.create(name="Long", slug="long")
    print("locked", flush=True)
    time.sleep(3)
"""
SHORT = """
import time
from surveys.models import Organization
started = time.monotonic()
Organization.objects.create(name="Short", slug="short")
print(f"waited {time.monotonic() - started:.2f}")
"""


@pytest.mark.django_db(transaction=False)
def test_on_sqlite_a_short_write_waits_for_a_long_one_instead_of_failing(tmp_path):
    env = os.environ | {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True
    )
    shell = [sys.executable, "manage.py", "shell", "--no-imports", "-c"]
    holder = subprocess.Popen(
        [*shell, HOLD], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "locked"
    short = subprocess.run(
        [*shell, SHORT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    holder.wait(timeout=30)
    assert short.returncode == 0, short.stderr
    assert "database is locked" not in short.stderr
    waited = float(short.stdout.split()[-1])
    assert waited > 0.5  # it waited for the long transaction
    mode = subprocess.run(
        [
            *shell,
            "from django.db import connection; c = connection.cursor(); "
            "c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert mode.stdout.strip() == "wal"


# --- a big preview stays a small page ---------------------------------------------


def test_a_big_preview_shows_a_capped_number_of_rows_and_says_how_many_more(
    alice_client, settings
):
    settings.IMPORT_PREVIEW_ROWS = 10
    page = _preview(alice_client, csv_text(25))
    html = page.content.decode()
    assert html.count("data-preview-row") == 10
    assert "p9@example.org" in html and "p10@example.org" not in html
    assert "15 more rows are not shown" in html
    assert page.context["key"]  # the whole file can still be confirmed
    assert "Import 25 new" in html


def test_a_big_preview_with_rejected_rows_shows_those_first(alice_client, settings):
    settings.IMPORT_PREVIEW_ROWS = 10
    text = csv_text(25) + "broken,Bad\n"
    html = _preview(alice_client, text).content.decode()
    assert html.count("data-preview-row") == 1
    assert "broken" in html and "p0@example.org" not in html
    assert "Only the rejected row is shown" in html


def test_a_20000_row_preview_renders_only_the_cap(alice_client, settings):
    settings.MAX_UPLOAD_BYTES = 4_000_000
    page = _preview(alice_client, csv_text(20_000))
    html = page.content.decode()
    assert html.count("data-preview-row") == settings.IMPORT_PREVIEW_ROWS
    more = 20_000 - settings.IMPORT_PREVIEW_ROWS
    assert f"{more:,} more rows are not shown" in html


def test_a_big_staff_preview_is_capped_too(alice_client, settings):
    from tests.surveys.test_staff import preview as staff_preview

    settings.IMPORT_PREVIEW_ROWS = 10
    text = "email,name\n" + "".join(f"s{i}@acme.example,S {i}\n" for i in range(25))
    html = staff_preview(alice_client, text).content.decode()
    assert html.count("data-preview-row") == 10
    assert "15 more rows are not shown" in html
