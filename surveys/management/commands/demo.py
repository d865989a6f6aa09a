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
        self.stdout.write("Demo logins (http://127.0.0.1:8000/accounts/login/):")
        for role, email, password in summary.logins:
            self.stdout.write(f"  {role:<8} {email:<24} password: {password}")
