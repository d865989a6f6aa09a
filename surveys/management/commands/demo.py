from django.conf import settings
from django.core.management.base import BaseCommand

from surveys.services.demo import demo_load


class Command(BaseCommand):
    help = "Load the demo organization (idempotent) and print its logins."

    def handle(self, *args, **options) -> None:
        summary = demo_load()
        organization = summary.organization
        if summary.created:
            self.stdout.write(f"Created the demo organization “{organization}”.")
        else:
            self.stdout.write(
                f"The demo organization “{organization}” is already there."
            )
        # The address the server answers on: SITE_URL (`make run PORT=…` sets it).
        self.stdout.write(f"Demo logins ({settings.SITE_URL}/accounts/login/):")
        for role, email, password in summary.logins:
            self.stdout.write(f"  {role:<8} {email:<24} password: {password}")
