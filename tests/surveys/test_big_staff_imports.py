"""Issue 14.4 for staff: a confirmed staff import of more than
IMPORT_INLINE_MAX_ROWS rows runs in the task queue (the same import jobs as
contacts), checked in chunks with progress on its page, applied all or nothing in
one short final transaction, tied to the organization it was previewed in; the
welcome mails go out only once the apply has committed."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse

from surveys.models import AuditEvent, Department, ImportJob, Membership, Role
from surveys.services.staff import staff_import_job_run
from tests import factories
from tests.surveys.test_staff import confirm, preview

pytestmark = pytest.mark.django_db
User = get_user_model()


def staff_csv(n: int, department: str = "Field") -> str:
    return "email,name,department\n" + "".join(
        f"s{i}@acme.example,Staff {i},{department}\n" for i in range(n)
    )


def staff_job(org, text: str, rows: int) -> ImportJob:
    return ImportJob.objects.create(
        organization=org, kind=ImportJob.Kind.STAFF, text=text, total_rows=rows
    )


def new_members(org) -> int:
    return Membership.objects.filter(
        organization=org, user__email__startswith="s"
    ).count()


@pytest.fixture
def small_inline(settings):
    settings.IMPORT_INLINE_MAX_ROWS = 5
    settings.IMPORT_CHUNK_ROWS = 4


def test_a_big_confirmed_staff_import_is_queued_not_run_in_the_request(
    alice_client, org_a, small_inline, mailoutbox, django_capture_on_commit_callbacks
):
    page = preview(alice_client, staff_csv(12))
    with django_capture_on_commit_callbacks() as callbacks:
        response = confirm(alice_client, page)
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("staff_import_status", args=[job.pk])
    assert len(callbacks) == 1  # enqueued once the job row is committed
    assert (job.organization, job.kind, job.status, job.total_rows) == (
        org_a,
        "staff",
        "queued",
        12,
    )
    assert new_members(org_a) == 0
    assert not User.objects.filter(email__startswith="s0@").exists()
    assert mailoutbox == []
    status = alice_client.get(response["Location"]).content.decode()
    assert "0 of 12 rows checked" in status
    assert 'http-equiv="refresh"' in status


def test_a_small_staff_import_still_runs_at_once(
    alice_client, org_a, small_inline, mailoutbox
):
    response = confirm(alice_client, preview(alice_client, staff_csv(5)))
    assert response["Location"] == reverse("staff_list")
    assert not ImportJob.objects.exists()
    assert new_members(org_a) == 5
    assert len(mailoutbox) == 5


def test_the_job_checks_in_chunks_with_progress_then_applies_and_mails(
    alice_client, org_a, small_inline, monkeypatch, mailoutbox
):
    job = staff_job(org_a, staff_csv(12), 12)
    seen = []
    original = ImportJob.objects.filter

    def spy(*args, **kwargs):
        queryset = original(*args, **kwargs)
        update = queryset.update

        def recording_update(**fields):
            if "processed_rows" in fields:
                seen.append((fields["processed_rows"], new_members(org_a)))
            return update(**fields)

        queryset.update = recording_update
        return queryset

    monkeypatch.setattr(ImportJob.objects, "filter", spy)
    staff_import_job_run(job_id=job.pk)
    assert [done for done, _ in seen] == [4, 8, 12, 12]
    assert all(members == 0 for _, members in seen)  # nothing written while checking
    job.refresh_from_db()
    assert (job.status, job.created, job.text, job.mails_failed) == ("done", 12, "", 0)
    assert new_members(org_a) == 12
    assert Department.objects.filter(organization=org_a, name="Field").count() == 1
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        f"s{i}@acme.example" for i in range(12)
    )
    assert AuditEvent.objects.filter(action="staff_import").count() == 1
    page = alice_client.get(reverse("staff_import_status", args=[job.pk]))
    assert "12 added" in page.content.decode()


def test_progress_is_shown_while_the_job_runs(alice_client, org_a):
    job = staff_job(org_a, staff_csv(10), 10)
    ImportJob.objects.filter(pk=job.pk).update(status="running", processed_rows=4)
    page = alice_client.get(reverse("staff_import_status", args=[job.pk]))
    html = page.content.decode()
    assert "4 of 10 rows checked" in html
    assert 'aria-valuenow="40"' in html


def test_a_bad_row_fails_the_whole_staff_import_and_writes_nothing(
    alice_client, org_a, small_inline, mailoutbox
):
    text = staff_csv(8, department="Brand new") + "not-an-email,Bad,\n"
    job = staff_job(org_a, text, 9)
    staff_import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed"
    assert "Nothing was imported" in job.error and "line 10" in job.error
    assert job.text == ""
    assert new_members(org_a) == 0
    assert (
        not User.objects.filter(email__endswith="@acme.example")
        .exclude(memberships__organization=org_a)
        .exists()
    )
    assert not Department.objects.filter(name="Brand new").exists()
    assert mailoutbox == []
    page = alice_client.get(reverse("staff_import_status", args=[job.pk]))
    assert "line 10" in page.content.decode()


def test_a_member_added_meanwhile_fails_the_final_apply_as_a_whole(
    org_a, small_inline, monkeypatch, mailoutbox
):
    from surveys.services import staff

    job = staff_job(org_a, staff_csv(10), 10)
    plan = staff.staff_import_plan

    def plan_then_someone_adds(**kwargs):
        result = plan(**kwargs)
        factories.make_member(org_a, Role.STAFF, email="s7@acme.example")
        return result

    monkeypatch.setattr(staff, "staff_import_plan", plan_then_someone_adds)
    staff_import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "meanwhile" in job.error
    assert new_members(org_a) == 1  # only the one added by hand
    assert mailoutbox == []


def test_an_existing_account_elsewhere_is_invited_not_made_a_member(
    org_a, org_b, small_inline, mailoutbox
):
    factories.make_member(org_b, Role.MANAGER, email="s3@acme.example")
    job = staff_job(org_a, staff_csv(6), 6)
    staff_import_job_run(job_id=job.pk)
    assert new_members(org_a) == 5
    assert org_a.membership_invites.get().email == "s3@acme.example"
    assert len(mailoutbox) == 6


def test_a_finished_staff_job_run_again_does_nothing(org_a, small_inline, mailoutbox):
    job = staff_job(org_a, staff_csv(6), 6)
    staff_import_job_run(job_id=job.pk)
    staff_import_job_run(job_id=job.pk)
    assert new_members(org_a) == 6
    assert len(mailoutbox) == 6


def test_the_import_task_runs_a_staff_job(org_a, small_inline, mailoutbox):
    from surveys.tasks import import_run

    job = staff_job(org_a, staff_csv(6), 6)
    assert import_run.call(job.pk)["created"] == 6
    assert len(mailoutbox) == 6


def test_another_organization_cannot_see_the_staff_job(
    charlie_client, bob_client, alice_client, org_a
):
    job = staff_job(org_a, "", 1)
    url = reverse("staff_import_status", args=[job.pk])
    assert charlie_client.get(url).status_code == 404
    assert bob_client.get(url).status_code == 404
    # Nor through the contacts page: a job is shown only as its own kind.
    contacts_url = reverse("contact_import_status", args=[job.pk])
    assert alice_client.get(contacts_url).status_code == 404


def test_another_organization_cannot_confirm_the_previewed_big_import(
    alice, alice_client, charlie_client, org_a, org_b, small_inline, mailoutbox
):
    page = preview(alice_client, staff_csv(12))
    key = page.context["key"]
    # Charlie (organization B) replays the key: nothing is queued.
    charlie_client.post(reverse("staff_import_confirm"), {"key": key})
    # Alice switches to B and confirms there: nothing is queued either.
    Membership.objects.create(user=alice.user, organization=org_b, role=Role.MANAGER)
    alice_client.post(reverse("organization_switch"), {"organization": org_b.pk})
    response = alice_client.post(
        reverse("staff_import_confirm"), {"key": key}, follow=True
    )
    assert "previewed in another organization" in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_mails_go_out_only_after_the_apply_has_committed(
    org_a, small_inline, monkeypatch, mailoutbox
):
    from surveys.services import staff

    job = staff_job(org_a, staff_csv(6), 6)
    real = staff.staff_welcome_send
    states = []

    def watching(**kwargs):
        job_status = ImportJob.objects.values_list("status", flat=True).get(pk=job.pk)
        states.append((connection.in_atomic_block, new_members(org_a), job_status))
        return real(**kwargs)

    monkeypatch.setattr(staff, "staff_welcome_send", watching)
    staff_import_job_run(job_id=job.pk)
    assert states == [(False, 6, "done")] * 6
    assert len(mailoutbox) == 6


def test_a_refused_mail_is_counted_on_the_job_page(
    alice_client, org_a, small_inline, monkeypatch
):
    from surveys.services import staff

    monkeypatch.setattr(staff, "staff_welcome_send", lambda **kwargs: False)
    job = staff_job(org_a, staff_csv(6), 6)
    staff_import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.mails_failed) == ("done", 6)
    page = alice_client.get(reverse("staff_import_status", args=[job.pk]))
    assert "6 emails could not be sent" in page.content.decode()


def test_a_job_whose_organization_was_deleted_meanwhile_does_nothing(
    org_a, small_inline, mailoutbox
):
    from surveys.tasks import import_run

    job = staff_job(org_a, staff_csv(6), 6)
    org_a.delete()  # the job goes with it: an import never outlives its organization
    assert import_run.call(job.pk)["status"] == "gone"
    assert not User.objects.filter(email__startswith="s0@").exists()
    assert mailoutbox == []
