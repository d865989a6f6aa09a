"""Cron entry point: each owner's overdue follow-up cases, once a day."""

from surveys.management.base import ExplainedCommand
from surveys.services.followup import followup_digests_deliver
from surveys.text import count


class Command(ExplainedCommand):
    help = (
        "Mail each follow-up case owner the list of their overdue cases (not "
        "contacted by the due time). Each owner gets at most one such mail a "
        "day per organization, so it is safe to run as often as you like."
    )

    def handle(self, *args, **options) -> None:
        report = followup_digests_deliver()
        self.stdout.write(
            self.style.SUCCESS(
                f"{count(report.sent, 'digest')} sent; "
                f"{count(report.skipped, 'owner')} already mailed today or skipped."
            )
        )
