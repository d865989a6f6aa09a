"""Big CSV imports (contacts and staff) through the task queue: one job model, one
runner.

A confirmed import of more than IMPORT_INLINE_MAX_ROWS rows becomes an ImportJob
of its organization. The worker claims it, checks the rows in chunks (progress
written after each chunk, each a short write of its own, nothing else written),
then applies everything in one short final transaction that also marks the job
done — so an import is all or nothing, and a job run twice applies once. Work
that must follow the commit (the staff's welcome mails) runs after it.

Each kind brings its own `check` (rows -> plan, raising on a bad file) and
`apply` (plan -> ImportApplied, inside the final transaction); see
`contacts_import_job_run` and `staff_import_job_run`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from surveys.models import ImportJob, Organization

Progress = Callable[[int, int], None]


@dataclass
class ImportApplied:
    """What the final transaction wrote, and what to do once it has committed
    (`after_commit` returns the number of mails the server refused)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    after_commit: Callable[[], int] | None = None


def import_job_start(
    *,
    organization: Organization,
    actor: AbstractBaseUser | None,
    kind: str,
    text: str,
    total_rows: int,
) -> ImportJob:
    """Queue a confirmed import for the worker; the task is enqueued once the job
    row is committed (a worker must be able to find it)."""
    from surveys.tasks import import_run  # the tasks import the services

    job = ImportJob.objects.create(
        organization=organization,
        actor=actor,
        kind=kind,
        text=text,
        total_rows=total_rows,
    )
    transaction.on_commit(lambda: import_run.enqueue(job.pk))
    return job


def import_job_run(
    *,
    job_id: int,
    kind: str,
    check: Callable[[ImportJob, Progress], Any],
    apply: Callable[[ImportJob, Any], ImportApplied],
    refusals: tuple[type[Exception], ...],
) -> ImportJob:
    """Run a queued import of `kind`: claim it, `check` in chunks, `apply` in one
    transaction that also marks the job done, then the after-commit work.
    An exception of `refusals` fails the job with its message, nothing written.
    A finished job (or one of another kind) is left alone."""
    claimed = ImportJob.objects.filter(
        pk=job_id,
        kind=kind,
        status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING],
    ).update(status=ImportJob.Status.RUNNING)
    job = ImportJob.objects.select_related("organization", "actor").get(pk=job_id)
    if not claimed:
        return job

    def progress(done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job_id).update(
            processed_rows=done, total_rows=total
        )

    try:
        plan = check(job, progress)
        with transaction.atomic():
            applied = apply(job, plan)
            _job_finish(
                job,
                status=ImportJob.Status.DONE,
                created=applied.created,
                updated=applied.updated,
                unchanged=applied.unchanged,
            )
    except refusals as error:
        _job_finish(job, status=ImportJob.Status.FAILED, error=str(error))
    else:
        if applied.after_commit is not None:
            failed = applied.after_commit()
            if failed:
                ImportJob.objects.filter(pk=job_id).update(mails_failed=failed)
    job.refresh_from_db()
    return job


def _job_finish(job: ImportJob, **fields) -> None:
    # The file's text holds addresses: it goes once the job is over.
    fields |= {"finished_at": timezone.now(), "text": ""}
    ImportJob.objects.filter(pk=job.pk).update(**fields)
