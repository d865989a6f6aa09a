"""The submission benchmark's floor view (bench/floor.py) is served only by the
benchmark's URLconf, never by the app's, and stores what it claims to in two
queries (one transaction), so the floor it sets is a fair one."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from surveys.models import Answer, Response


def test_the_apps_urlconf_does_not_serve_the_floor(client, study_a):
    response = client.post(f"/bench/floor/{study_a.pk}/", {"item_1": "3"})
    assert response.status_code == 404
    assert not Response.objects.filter(study=study_a).exists()


def test_the_floor_stores_one_response_and_its_answers_in_two_queries(
    client, study_a, settings
):
    settings.ROOT_URLCONF = "bench.urls"
    items = list(study_a.questionnaire.items.order_by("pk"))
    data = {f"item_{item.pk}": str(n % 7 + 1) for n, item in enumerate(items)}
    with CaptureQueriesContext(connection) as captured:
        response = client.post(f"/bench/floor/{study_a.pk}/", data)
    assert response.status_code == 302
    stored = Response.objects.get(study=study_a)
    assert stored.status == Response.Status.SUBMITTED
    assert stored.audience == "customer"
    assert dict(
        Answer.objects.filter(response=stored).values_list("item_id", "value")
    ) == {item.pk: n % 7 + 1 for n, item in enumerate(items)}
    writes = [q["sql"] for q in captured.captured_queries]
    assert [sql.split()[0] for sql in writes if "SAVEPOINT" not in sql] == [
        "INSERT",
        "INSERT",
    ]


def test_the_submission_benchmarks_body_is_a_valid_submission_in_every_mode(
    client, org_a, capsys
):
    """bench.submit's form body (what wrk posts, placeholders filled with
    values on the scale) is accepted whole in the expectation mode too: both
    ratings of every item, the importance points and the overall rating."""
    import json
    import random
    import re

    from bench.submit import child_main
    from surveys.models import Allocation, MeasurementMode
    from tests import factories

    questionnaire = factories.make_questionnaire(
        mode=MeasurementMode.EXPECTATION, ask_importance=True, ask_overall=True
    )
    study = factories.make_study(org_a, questionnaire=questionnaire)
    child_main(["body", str(study.pk)])
    body = json.loads(capsys.readouterr().out)
    low, high = body["scale"]
    filled = re.sub(r"\{v\d+\}", lambda _: str(random.randint(low, high)), body["body"])
    _, token = factories.make_invitation(study)
    response = client.post(
        f"/s/{token}/", filled, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 302
    stored = Response.objects.get(study=study)
    assert stored.status == Response.Status.SUBMITTED
    items = questionnaire.items.count()
    kinds = sorted(
        Answer.objects.filter(response=stored).values_list("kind", flat=True)
    )
    assert kinds == ["E"] * items + ["P"] * items
    assert (
        sum(Allocation.objects.filter(response=stored).values_list("points", flat=True))
        == 100
    )
    assert low <= stored.overall_rating <= high
