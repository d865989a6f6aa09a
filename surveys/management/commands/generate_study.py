"""`manage.py generate_study --customers N --staff M`: a study of any size, fast.

For the benchmarks (see BENCHMARKS.md): bulk inserts throughout, one password
hash for all the staff, the default questionnaire (`loaddata default_questionnaire`).
"""

import time
from pathlib import Path

from django.core.management.base import CommandError, CommandParser

from surveys.management.base import ExplainedCommand
from surveys.models import Questionnaire
from surveys.services.generate import (
    DEFAULT_QUESTIONNAIRE_NAME,
    EXPECTATIONS_QUESTIONNAIRE_NAME,
    MODES,
    study_generate,
)


def _not_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(ExplainedCommand):
    help = "Generate an open study with N customer and M staff submitted responses."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=_not_negative, required=True)
        parser.add_argument("--staff", type=_not_negative, required=True)
        parser.add_argument(
            "--organization",
            default="bench",
            help="Slug of the organization to create or reuse (default: bench).",
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--mode",
            choices=MODES,
            default="perception",
            help="Measurement mode: perception (the default questionnaire), "
            "expectation (the expectations questionnaire) or tolerance (a "
            "tolerance-mode copy of the default one); the last two with "
            "importance and the overall rating.",
        )
        parser.add_argument(
            "--default-items",
            action="store_true",
            help="With --mode expectation: ask it on (a copy of) the default "
            "questionnaire's items, the perception mode's, instead of the "
            "expectations questionnaire's.",
        )
        parser.add_argument(
            "--unanswered",
            type=_not_negative,
            default=0,
            help="Invite K more contacts who have not answered yet.",
        )
        parser.add_argument(
            "--unsent",
            action="store_true",
            help="Leave the unanswered invitations not yet mailed (for the worker).",
        )
        parser.add_argument(
            "--tokens-file",
            type=Path,
            help="Write the plain tokens of the unanswered invitations here, one a "
            "line (only their hashes are stored).",
        )

    def handle(self, *args, **options) -> None:
        if not Questionnaire.objects.filter(
            organization=None, name=DEFAULT_QUESTIONNAIRE_NAME
        ).exists():
            raise CommandError(
                "The default questionnaire is missing: run "
                "`manage.py loaddata default_questionnaire` first."
            )
        if options["default_items"] and options["mode"] != "expectation":
            raise CommandError(
                "--default-items goes with --mode expectation (the perception "
                "and tolerance modes ask the default items already)."
            )
        if (
            options["mode"] == "expectation"
            and not options["default_items"]
            and not Questionnaire.objects.filter(
                organization=None, name=EXPECTATIONS_QUESTIONNAIRE_NAME
            ).exists()
        ):
            raise CommandError(
                "The expectations questionnaire is missing: run "
                "`manage.py loaddata expectations_questionnaire` first."
            )
        tokens_file = options["tokens_file"]
        if tokens_file is not None and not tokens_file.parent.is_dir():
            raise CommandError(
                f"Cannot write the tokens to {tokens_file}: the folder "
                f"{tokens_file.parent} does not exist."
            )
        started = time.perf_counter()
        result = study_generate(
            customers=options["customers"],
            staff=options["staff"],
            organization_slug=options["organization"],
            seed=options["seed"],
            unanswered=options["unanswered"],
            unsent=options["unsent"],
            mode=options["mode"],
            default_items=options["default_items"],
        )
        seconds = time.perf_counter() - started
        if tokens_file is not None:
            try:
                tokens_file.write_text("".join(f"{token}\n" for token in result.tokens))
            except OSError as error:
                raise CommandError(f"Cannot write the tokens to {tokens_file}: {error}")
        study = result.study
        self.stdout.write(
            f"Study {study.pk} “{study.name}” in {study.organization.slug}: "
            f"{result.customers} customer + {result.staff} staff responses, "
            f"{result.answers} answers, {len(result.tokens)} unanswered "
            f"invitations, in {seconds:.1f} s."
        )
        self.stdout.write(f"study_id={study.pk}")
        self.stdout.write(f"manager={result.manager_email}")
