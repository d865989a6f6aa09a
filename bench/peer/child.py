"""The peer's side of the submission benchmark, run in the peer's environment:

    var/bench/peer-venv/bin/python -m bench.peer.child prepare|queries|count [survey_id]

- prepare: migrate the peer's database and create one published survey of 25
  required radio questions answered on 1..7 (like GapSurvey's default
  questionnaire), all on one page, open to anonymous visitors (so no login);
  prints its id, the answering path and the form body with "{v<n>}"
  placeholders for bench/submit.lua, plus a CSRF cookie and its token (the
  peer's view is CSRF-protected, as Django's middleware makes every view);
- queries: POST three complete answers through Django's test client and count
  the SQL statements of the third (bench/querycount.py);
- count: the survey's stored responses.

Prints one JSON line last.
"""

import json
import sys

QUESTIONS = 25
SCALE = (1, 7)


def _body(survey, csrf_token: str) -> str:
    fields = [
        f"question_{question.pk}={{v{n}}}"
        for n, question in enumerate(survey.questions.order_by("order", "id"))
    ]
    fields.append(f"csrfmiddlewaretoken={csrf_token}")
    return "&".join(fields)


def prepare() -> dict:
    from datetime import date

    from django.core.management import call_command
    from django.middleware.csrf import _get_new_csrf_string
    from survey.models import Question, Survey

    call_command("migrate", verbosity=0, interactive=False)
    survey = Survey.objects.create(
        name="Service survey",
        description="Bench survey: 25 statements on a 1-7 scale.",
        is_published=True,
        need_logged_user=False,
        editable_answers=True,
        display_method=Survey.ALL_IN_ONE_PAGE,
        expire_date=date(2999, 12, 31),
    )
    choices = ", ".join(str(value) for value in range(SCALE[0], SCALE[1] + 1))
    Question.objects.bulk_create(
        Question(
            survey=survey,
            text=f"Statement {n + 1}: the service does what it promises.",
            order=n,
            required=True,
            type=Question.RADIO,
            choices=choices,
        )
        for n in range(QUESTIONS)
    )
    # A CSRF secret for the cookie, sent back unmasked as the form's token
    # (Django accepts both forms of the token).
    secret = _get_new_csrf_string()
    return {
        "survey_id": survey.pk,
        "path": f"/survey/{survey.pk}/",
        "body": _body(survey, secret),
        "cookie": f"csrftoken={secret}",
        "scale": list(SCALE),
        "questions": QUESTIONS,
    }


def queries(survey_id: int) -> dict:
    import random

    from django.test import Client
    from survey.models import Response, Survey

    from bench.querycount import post_counted, summary

    survey = Survey.objects.get(pk=survey_id)
    questions = list(survey.questions.order_by("order", "id"))
    before = Response.objects.filter(survey=survey).count()
    statuses, each = [], []
    for _ in range(3):
        # A new visitor each time, as in the load test.
        data = {f"question_{q.pk}": str(random.randint(*SCALE)) for q in questions}
        status, statements = post_counted(Client(), f"/survey/{survey.pk}/", data)
        statuses.append(status)
        each.append(statements)
    written = Response.objects.filter(survey=survey).count() - before
    return summary(statuses, each) | {"written": written}


def count(survey_id: int) -> dict:
    from survey.models import Response

    return {"responses": Response.objects.filter(survey_id=survey_id).count()}


def main() -> None:
    import django

    django.setup()
    command = sys.argv[1]
    if command == "prepare":
        result = prepare()
    elif command == "queries":
        result = queries(int(sys.argv[2]))
    elif command == "count":
        result = count(int(sys.argv[2]))
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
