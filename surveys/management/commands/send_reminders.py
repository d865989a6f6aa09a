"""Cron entry point: reminders (and overdue sends) for every open study."""

from django.core.management.base import CommandError

from surveys.management.base import ExplainedCommand
from surveys.models import Study
from surveys.services.invitations import invitations_deliver, reminders_deliver
from surveys.text import count


class Command(ExplainedCommand):
    help = (
        "Mail reminders to the non-respondents of every open study, under each "
        "study's reminder policy; also sends invitations whose retry is due or "
        "whose worker died. Safe to run as often as you like (e.g. hourly)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--study", type=int, help="Only this study (its id); it must be open."
        )

    def handle(self, *args, study: int | None = None, **options) -> None:
        studies = Study.objects.filter(status=Study.Status.OPEN).order_by("pk")
        if study is not None:
            studies = studies.filter(pk=study)
            if not studies.exists():
                raise CommandError(
                    f"No open study with id {study}: nothing to send. "
                    "Leave out --study to remind for every open study."
                )
        total_reminded = 0
        for each in studies:
            sent = invitations_deliver(study_id=each.pk)
            reminded = reminders_deliver(study_id=each.pk)
            total_reminded += reminded.sent
            self.stdout.write(
                f"{each.name}: {reminded.sent} reminded, {reminded.deferred} to retry; "
                f"{sent.sent} overdue invitation(s) sent, {sent.failed} failed."
            )
        reminded = count(total_reminded, "reminder")
        self.stdout.write(self.style.SUCCESS(f"{reminded} sent."))
