"""Create an organization and its first manager, and print a set-password link."""

from django.core.management.base import CommandError

from surveys.management.base import ExplainedCommand
from surveys.services.accounts import set_password_link
from surveys.services.organizations import OrganizationError, organization_create


class Command(ExplainedCommand):
    help = (
        "Create an organization and make the person with the given email its first "
        "manager (creating the user if needed); prints a one-time set-password link."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="The organization's name.")
        parser.add_argument(
            "--manager",
            required=True,
            metavar="EMAIL",
            help="Email of the first manager; an existing user is added as is.",
        )

    def handle(self, *args, name: str, manager: str, **options) -> None:
        try:
            organization, membership, created = organization_create(
                name=name, manager_email=manager
            )
        except OrganizationError as error:
            raise CommandError(str(error))
        user = membership.user
        self.stdout.write(
            self.style.SUCCESS(
                f"Created organization “{organization.name}” (slug {organization.slug})"
                f" with manager {user.email}"
                + (" (new user)." if created else " (existing user).")
            )
        )
        self.stdout.write(
            "One-time link to choose a password (it expires; it stops working once "
            "used):"
        )
        self.stdout.write(set_password_link(user))
