from django.conf import settings
from django.core.management import call_command

from surveys.management.base import ExplainedCommand
from surveys.models import Questionnaire
from surveys.services.demo import DEFAULT_QUESTIONNAIRE, demo_load


class Command(ExplainedCommand):
    help = (
        "Load the demo organization (idempotent) and print its logins; loads the "
        "default questionnaire first if it is missing."
    )

    def handle(self, *args, **options) -> None:
        if not Questionnaire.objects.filter(
            organization=None, name=DEFAULT_QUESTIONNAIRE, version=1
        ).exists():
            call_command("loaddata", "default_questionnaire", verbosity=0)
            self.stdout.write("Loaded the default questionnaire (it was missing).")
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
