"""The dashboard's expectations, importance and priorities, read from the
published snapshot: numbers equal scipy on the raw answers, suppression
holds, and the perception dashboard is unchanged where nothing more is asked."""

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone
from scipy import stats as scipy_stats

from analysis.priorities_view import priorities_context
from surveys.models import (
    Allocation,
    Answer,
    Audience,
    MeasurementMode,
    Response,
    Study,
)
from surveys.services import snapshots
from tests import factories
from tests.analysis.test_dashboard import figures

pytestmark = pytest.mark.django_db
AREAS = ["tangibles", "reliability", "responsiveness", "assurance", "empathy"]

# Per customer: E and P for the five items (one per area), points, overall.
CUSTOMERS = [
    ([6, 7, 6, 5, 6], [5, 4, 6, 6, 6], [10, 50, 20, 10, 10], 4),
    ([7, 7, 5, 5, 6], [6, 3, 5, 6, 7], [10, 40, 30, 10, 10], 3),
    ([6, 6, 6, 5, 5], [6, 4, 4, 7, 5], [0, 60, 20, 10, 10], 4),
    ([5, 7, 6, 4, 6], [5, 5, 5, 6, 6], [20, 40, 20, 10, 10], 5),
]
STAFF = [
    ([5, 5, 5, 5, 5], [6, 6, 6, 6, 6], [20, 20, 20, 20, 20]),
    ([4, 6, 5, 5, 5], [6, 5, 6, 6, 6], [30, 20, 20, 10, 20]),
    ([5, 6, 4, 6, 5], [7, 6, 5, 6, 6], [20, 30, 10, 20, 20]),
]


def _respond(study, audience, e, p, points, overall=None):
    now = timezone.now()
    response = Response.objects.create(
        study=study,
        audience=audience,
        status=Response.Status.SUBMITTED,
        submitted_at=now,
        overall_rating=overall,
    )
    items = list(study.questionnaire.items.order_by("position"))
    Answer.objects.bulk_create(
        Answer(response=response, item=i, kind=kind, value=v)
        for kind, values in (("E", e), ("P", p))
        for i, v in zip(items, values, strict=True)
    )
    Allocation.objects.bulk_create(
        Allocation(response=response, area=a, points=n)
        for a, n in zip(AREAS, points, strict=True)
    )
    Study.objects.filter(pk=study.pk).update(changed_at=timezone.now())


def _study(org, size=3, customers=CUSTOMERS):
    questionnaire = factories.make_questionnaire(
        items_per_gap=1,
        dimensions=True,
        mode=MeasurementMode.EXPECTATION,
        ask_importance=True,
        ask_overall=True,
    )
    study = factories.make_study(org, questionnaire=questionnaire, min_group_size=size)
    for e, p, points, overall in customers:
        _respond(study, Audience.CUSTOMER, e, p, points, overall)
    for e, p, points in STAFF:
        _respond(study, Audience.INTERNAL, e, p, points)
    return study


@pytest.fixture
def study(org_a):
    return _study(org_a)


def _context(study):
    return priorities_context(study, snapshots.published(study))


def _area(context, key):
    return next(a for a in context["areas"] if a["area"] == key)


def test_the_perception_gap_per_area_is_the_paired_t_on_the_raw_answers(study):
    context = _context(study)
    # Reliability (item 2, the only one of its area): d = P − E per customer.
    d = [c[1][1] - c[0][1] for c in CUSTOMERS]
    reference = scipy_stats.ttest_1samp(d, 0)
    found = _area(context, "reliability")["gap_d"]
    assert found["n"] == 4
    assert found["mean"] == pytest.approx(np.mean(d))
    assert found["p"] == pytest.approx(reference.pvalue)
    low, high = reference.confidence_interval()
    assert (found["low"], found["high"]) == (pytest.approx(low), pytest.approx(high))


def test_the_knowledge_gap_is_welch_on_staff_and_customer_expectations(study):
    found = _area(_context(study), "tangibles")["knowledge"]
    staff = [s[0][0] for s in STAFF]
    customers = [c[0][0] for c in CUSTOMERS]
    reference = scipy_stats.ttest_ind(staff, customers, equal_var=False)
    assert found["delta"] == pytest.approx(np.mean(staff) - np.mean(customers))
    assert found["p"] == pytest.approx(reference.pvalue)


def test_the_gap_model_scores_and_where_to_act_first(study):
    context = _context(study)
    means = [np.mean([c[1][j] - c[0][j] for c in CUSTOMERS]) for j in range(5)]
    assert context["score"]["unweighted"] == pytest.approx(np.mean(means))
    weighted = [
        sum(pts[j] / 100 * (p[j] - e[j]) for j in range(5))
        for e, p, pts, _ in CUSTOMERS
    ]
    assert context["score"]["weighted"]["mean"] == pytest.approx(np.mean(weighted))
    # Importance share × shortfall by hand: reliability (mean points 47.5,
    # mean d (−3 − 4 − 2 − 2)/4 = −2.75) comes first.
    first = context["act_first"][0]
    assert first["area"] == "reliability"
    assert first["priority"] == pytest.approx(0.475 * 2.75)
    assert first["uncertain"] is False
    assert _area(context, "reliability")["quadrant"] == "concentrate here"


def test_stated_and_derived_importance(study):
    context = _context(study)
    importance = _area(context, "reliability")["importance"]
    assert importance["customer_mean"] == pytest.approx(47.5)
    assert importance["internal_mean"] == pytest.approx(70 / 3)
    # Four customers: derived importance needs ten.
    assert _area(context, "reliability")["derived"]["shown"] is False


def test_the_dashboard_shows_the_matrix_the_ranking_and_an_add_action_link(
    alice_client, study
):
    response = alice_client.get(reverse("dashboard", args=[study.pk]))
    html = response.content.decode()
    assert "Where to act first" in html
    assert "priority_matrix" in figures(response)
    assert (
        f"/studies/{study.pk}/actions/new/?gap=" in html or "area=reliability" in html
    )
    assert "\u22122.75" in html  # reliability's gap, with a true minus


def test_the_add_action_link_opens_the_form_about_that_area(alice_client, study):
    url = reverse("action_create", args=[study.pk]) + "?gap=standards&area=reliability"
    page = alice_client.get(url).content.decode()
    assert "Reliability: " in page


def test_nothing_is_shown_below_the_minimum_group_size(org_a):
    study = _study(org_a, size=5)
    context = _context(study)
    assert all(not a["gap_d"]["shown"] for a in context["areas"])
    assert context["act_first"] == []
    assert context["score"]["unweighted"] is None


def test_a_perception_study_without_options_or_weights_gets_nothing_new(
    alice_client, study_a
):
    assert _context(study_a) == {"shown": False}
    html = alice_client.get(reverse("dashboard", args=[study_a.pk])).content.decode()
    assert "Where to act first" not in html and "Segment influence" not in html


def test_segment_influence_leaves_out_small_and_unweighted_segments(org_a):
    study = factories.make_study(org_a, min_group_size=3)
    big = factories.make_segment(org_a, "Business", weight=3)
    other = factories.make_segment(org_a, "Private", weight=1)
    unweighted = factories.make_segment(org_a, "Public")
    tiny = factories.make_segment(org_a, "Tiny", weight=5)
    items = list(study.questionnaire.items.all())

    def answer(audience, value, segment=None):
        response = Response.objects.create(
            study=study,
            audience=audience,
            segment=segment,
            status=Response.Status.SUBMITTED,
            submitted_at=timezone.now(),
        )
        Answer.objects.bulk_create(
            Answer(response=response, item=i, value=value) for i in items
        )

    for value in (3, 4, 5, 4):
        answer(Audience.CUSTOMER, value, big)
    for value in (5, 6, 6, 6):
        answer(Audience.CUSTOMER, value, other)
    for value in (2, 3, 2):  # no weight; also hidden to protect Tiny
        answer(Audience.CUSTOMER, value, unweighted)
    answer(Audience.CUSTOMER, 1, tiny)  # fewer than 3: left out
    for value in (6, 6, 7):
        answer(Audience.INTERNAL, value)
    context = _context(study)
    segments = context["segments"]
    overall = next(r for r in segments["rows"] if r["gap"] == "overall")
    # (3·4 + 1·5.75)/4 = 4.4375; staff 19/3
    assert overall["weighted_mean"] == pytest.approx(4.4375)
    assert overall["weighted_delta"] == pytest.approx(19 / 3 - 4.4375)
    assert sum(c["contribution"] for c in segments["contributions"]) == pytest.approx(
        overall["weighted_delta"]
    )
    assert segments["left_out"] == 2
    assert [c["segment"] for c in segments["contributions"]][0] == "Business"


def test_the_tolerance_mode_shows_the_zone_per_statement(org_a):
    questionnaire = factories.make_questionnaire(
        items_per_gap=1, mode=MeasurementMode.TOLERANCE
    )
    study = factories.make_study(org_a, questionnaire=questionnaire, min_group_size=3)
    items = list(questionnaire.items.order_by("position"))
    triples = [(3, 6, 5), (4, 6, 7), (2, 5, 2), (3, 5, 4)]
    for a, d, p in triples:
        response = Response.objects.create(
            study=study,
            audience=Audience.CUSTOMER,
            status=Response.Status.SUBMITTED,
            submitted_at=timezone.now(),
        )
        Answer.objects.bulk_create(
            Answer(response=response, item=item, kind=kind, value=value)
            for item in items
            for kind, value in (("A", a), ("D", d), ("P", p))
        )
    context = _context(study)
    zone = context["zone"][0]
    assert zone["shown"] and zone["n"] == 4
    assert zone["inside_share"] == pytest.approx(3 / 4)
    assert zone["msa_mean"] == pytest.approx((2 + 3 + 0 + 1) / 4)
    assert zone["mss_mean"] == pytest.approx((-1 + 1 - 3 - 1) / 4)
    assert "tolerance" in context["figures"]
    band = context["figures"]["tolerance"]
    assert [trace["type"] for trace in band["data"]] == ["bar", "scatter"]
