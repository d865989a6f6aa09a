"""Background work, through Django's Tasks API (the django-tasks backport).

The default backend is the database one (`manage.py db_worker`); RQ on Redis
(`django_tasks_rq.RQBackend`) is the scale-out option. Both tasks are safe to run
any number of times, concurrently too: the services claim each row before mailing
it (see surveys.services.invitations).
"""

import logging

from django_tasks import task

from surveys.models import ImportJob
from surveys.services.contacts import contacts_import_job_run
from surveys.services.followup import (
    case_assignment_deliver,
    case_closing_deliver,
    followup_digests_deliver,
)
from surveys.services.invitations import (
    DeliveryReport,
    invitations_deliver,
    reminders_deliver,
)
from surveys.services.rights import data_export_deliver
from surveys.services.staff import staff_import_job_run

logger = logging.getLogger(__name__)


def _follow_up(task_obj, study_id: int, report: DeliveryReport) -> None:
    """Queue another run when retries are due later, on backends that can defer.

    Without deferral (the immediate backend) later retries wait for the next
    trigger: another invitation, a retry button, or `send_reminders` from cron.
    """
    if report.next_run_at is None:
        return
    backend = task_obj.get_backend()
    if not backend.supports_defer:
        return
    task_obj.using(run_after=report.next_run_at).enqueue(study_id)


@task()
def invitations_send(study_id: int) -> dict:
    """Mail the study's pending invitations; retries are queued with backoff."""
    report = invitations_deliver(study_id=study_id)
    logger.info("Study %s invitations: %s", study_id, report.as_dict())
    _follow_up(invitations_send, study_id, report)
    return report.as_dict()


@task()
def reminders_send(study_id: int) -> dict:
    """Mail reminders to the study's non-respondents who are due one."""
    report = reminders_deliver(study_id=study_id)
    logger.info("Study %s reminders: %s", study_id, report.as_dict())
    return report.as_dict()


@task()
def data_export_send(export_id: int) -> bool:
    """Mail a contact the link to their own data (once, whatever the retries)."""
    return data_export_deliver(export_id)


@task()
def import_run(job_id: int) -> dict:
    """Run a confirmed CSV import (contacts or staff) too big for a web request."""
    runners = {
        ImportJob.Kind.CONTACTS: contacts_import_job_run,
        ImportJob.Kind.STAFF: staff_import_job_run,
    }
    kind = ImportJob.objects.filter(pk=job_id).values_list("kind", flat=True).first()
    if kind is None:  # its organization was deleted meanwhile, and the job with it
        logger.info("Import %s: gone before it ran", job_id)
        return {"status": "gone", "created": 0, "updated": 0}
    job = runners[kind](job_id=job_id)
    logger.info("%s import %s: %s", job.get_kind_display(), job_id, job.status)
    return {"status": job.status, "created": job.created, "updated": job.updated}


@task()
def case_assignment_send(case_id: int) -> bool:
    """Mail a follow-up case's owner that it is theirs (once per assignment)."""
    return case_assignment_deliver(case_id)


@task()
def case_closing_send(case_id: int) -> bool:
    """Mail a customer their resolved case's note (once; never if opted out)."""
    return case_closing_deliver(case_id)


@task()
def followup_digest_send() -> dict:
    """Mail each owner their overdue cases, once a day (safe to repeat)."""
    report = followup_digests_deliver()
    return {"sent": report.sent, "skipped": report.skipped}


@task()
def snapshots_publish(study_id: int) -> int | None:
    """Publish what can be published of a big study (pages ask for it at most
    once a minute); the new snapshot's number, or None."""
    from surveys.models import Study
    from surveys.services.snapshots import snapshot_publish_check

    study = Study.objects.filter(pk=study_id).first()
    if study is None:
        return None
    snapshot = snapshot_publish_check(study)
    return snapshot.seq if snapshot else None
