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
