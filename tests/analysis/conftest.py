"""Small hand-written data sets for the analysis tests.

`hand_study` (scale 1–7, two items per gap, minimum group size 3) has answers
on the knowledge gap only:

    staff      k1  k2   score        customers  k1  k2   score
    s1          6   7   6.5          c1          3   4   3.5
    s2          5  DK   5.0          c2          2   2   2.0
    s3          7   7   7.0          c3          4   5   4.5
    s4          4   6   5.0          c4          5   3   4.0
                                     c5         DK   3   3.0

The expected numbers in the tests are worked out from this table by hand.
"""

import pytest
from django.core.cache import cache
from django.utils import timezone

from surveys.models import Answer, Audience, Response, Study
from tests import factories

STAFF = [(6, 7), (5, None), (7, 7), (4, 6)]
CUSTOMERS = [(3, 4), (2, 2), (4, 5), (5, 3), (None, 3)]


def submit(
    study,
    audience: str,
    values: dict,
    *,
    department=None,
    segment=None,
    comment: str = "",
    status: str = Response.Status.SUBMITTED,
    invitation=None,
) -> Response:
    """A response with answers {item: value or None for "don't know"}."""
    now = timezone.now()
    response = Response.objects.create(
        study=study,
        audience=audience,
        department=department,
        segment=segment,
        comment=comment,
        status=status,
        invitation=invitation,
        submitted_at=now if status == Response.Status.SUBMITTED else None,
    )
    Answer.objects.bulk_create(
        Answer(response=response, item=item, value=value)
        for item, value in values.items()
    )
    # As the response services do: results changed, cached aggregates are stale.
    Study.objects.filter(pk=study.pk).update(changed_at=timezone.now())
    return response


@pytest.fixture(autouse=True)
def _empty_cache(request):
    """No dashboard aggregates cached from one test leak into the next (the
    cache is a database table: only for tests that use the database)."""
    if request.node.get_closest_marker("django_db") is None:
        yield
        return
    request.getfixturevalue("db")
    cache.clear()
    yield
    cache.clear()


def gap_items(study, gap: str) -> list:
    return list(study.questionnaire.items.filter(gap=gap).order_by("position"))


@pytest.fixture
def hand_study(org_a):
    study = factories.make_study(org_a, name="Hand wave", min_group_size=3)
    k1, k2 = gap_items(study, "knowledge")
    support = factories.make_department(org_a, "Front desk")
    retail = factories.make_segment(org_a, "Retail")
    for a, b in STAFF:
        submit(study, Audience.INTERNAL, {k1: a, k2: b}, department=support)
    for a, b in CUSTOMERS:
        submit(study, Audience.CUSTOMER, {k1: a, k2: b}, segment=retail)
    return study
