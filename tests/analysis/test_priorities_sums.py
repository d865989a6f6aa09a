"""Areas of several items, "don't know" in one rating only, a respondent who
gives one area all the points, an overall rating left out: every priorities
figure the dashboard shows equals scipy on the raw answers, for everyone and
under a segment filter. (The figures are summed in the database: a
respondent's area score is total / answered items, so these cases are where
such sums could go wrong.)"""

import random

import numpy as np
import pytest
from django.utils import timezone
from scipy import stats as scipy_stats

from analysis import priorities_queries, queries, stats
from analysis.cuts import Cut
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
from tests.analysis.test_priorities_view import AREAS

pytestmark = pytest.mark.django_db

ITEMS_PER_AREA = 2
CUSTOMERS_PER_SEGMENT = 8
STAFF_PER_DEPARTMENT = 4


def _ratings(rng):
    """E and P of every item; a few "don't know" (None) in one rating only."""
    e = [rng.randint(3, 7) for _ in range(len(AREAS) * ITEMS_PER_AREA)]
    p = [rng.randint(1, 7) for _ in range(len(AREAS) * ITEMS_PER_AREA)]
    for _ in range(rng.randint(0, 2)):
        (e if rng.random() < 0.5 else p)[rng.randrange(len(e))] = None
    return e, p


def _points(rng, k):
    if k == 0:  # all the points on one area
        return [0, 100, 0, 0, 0]
    cuts = sorted(rng.sample(range(0, 101, 5), 4))
    return [b - a for a, b in zip([0, *cuts], [*cuts, 100], strict=True)]


def _make(org):
    rng = random.Random(20261203)
    questionnaire = factories.make_questionnaire(
        items_per_gap=ITEMS_PER_AREA,
        dimensions=True,
        mode=MeasurementMode.EXPECTATION,
        ask_importance=True,
        ask_overall=True,
    )
    study = factories.make_study(org, questionnaire=questionnaire, min_group_size=3)
    segments = [
        factories.make_segment(org, "Business", weight=3),
        factories.make_segment(org, "Private", weight=1),
    ]
    departments = [
        factories.make_department(org, "Sales"),
        factories.make_department(org, "Support"),
    ]
    people = respond(
        study, rng, segments, departments, CUSTOMERS_PER_SEGMENT, STAFF_PER_DEPARTMENT
    )
    return study, segments, people


def respond(study, rng, segments, departments, customers, staff, *, touch=True):
    """`customers` random customers per segment and `staff` per department:
    their answers, points and overall ratings as the tests' raw data. (With
    `touch`, the study is marked changed, as a settings change would.)"""
    items = list(study.questionnaire.items.order_by("position"))
    people = []
    for audience, groups, size in (
        (Audience.CUSTOMER, segments, customers),
        (Audience.INTERNAL, departments, staff),
    ):
        for group in groups:
            for k in range(size):
                e, p = _ratings(rng)
                customer = audience == Audience.CUSTOMER
                overall = rng.randint(1, 7) if customer else None
                if customer and k == 3:
                    overall = None  # "don't know" on the overall rating
                response = Response.objects.create(
                    study=study,
                    audience=audience,
                    status=Response.Status.SUBMITTED,
                    submitted_at=timezone.now(),
                    overall_rating=overall,
                    **{"segment" if customer else "department": group},
                )
                Answer.objects.bulk_create(
                    Answer(response=response, item=item, kind=kind, value=value)
                    for kind, values in (("E", e), ("P", p))
                    for item, value in zip(items, values, strict=True)
                )
                points = _points(rng, k)
                Allocation.objects.bulk_create(
                    Allocation(response=response, area=area, points=n)
                    for area, n in zip(AREAS, points, strict=True)
                )
                people.append(
                    {
                        "audience": audience,
                        "group": group.pk,
                        "e": e,
                        "p": p,
                        "points": points,
                        "overall": overall,
                    }
                )
    if touch:
        Study.objects.filter(pk=study.pk).update(changed_at=timezone.now())
        study.refresh_from_db()
    return people


@pytest.fixture
def made(org_a):
    return _make(org_a)


def _mean(values):
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def _slice(values, j):
    return values[j * ITEMS_PER_AREA : (j + 1) * ITEMS_PER_AREA]


def _area_d(person, j):
    """The customer's perception gap on area j: the mean of P − E over the
    items with both."""
    pairs = [
        p - e
        for e, p in zip(_slice(person["e"], j), _slice(person["p"], j), strict=True)
        if e is not None and p is not None
    ]
    return float(np.mean(pairs)) if pairs else None


def _customers(people, segment=None):
    return [
        x
        for x in people
        if x["audience"] == Audience.CUSTOMER and segment in (None, x["group"])
    ]


def _staff(people):
    return [x for x in people if x["audience"] == Audience.INTERNAL]


def _area(context, key):
    return next(a for a in context["areas"] if a["area"] == key)


def _context(study, cut=None):
    published = snapshots.published(study)
    return priorities_context(study, published, cut or Cut())


@pytest.mark.parametrize("segment_index", [None, 0, 1])
def test_the_perception_gap_per_area_is_the_paired_t(made, segment_index):
    study, segments, people = made
    segment = None if segment_index is None else segments[segment_index].pk
    context = _context(study, Cut(segment_id=segment))
    for j, area in enumerate(AREAS):
        d = [_area_d(x, j) for x in _customers(people, segment)]
        d = [v for v in d if v is not None]
        reference = scipy_stats.ttest_1samp(d, 0)
        found = _area(context, area)["gap_d"]
        assert found["n"] == len(d)
        assert found["mean"] == pytest.approx(np.mean(d))
        assert found["sd"] == pytest.approx(np.std(d, ddof=1))
        assert found["p"] == pytest.approx(reference.pvalue)
        low, high = reference.confidence_interval()
        assert found["low"] == pytest.approx(low)
        assert found["high"] == pytest.approx(high)


def test_the_knowledge_gap_is_welch_on_area_expectation_scores(made):
    study, _, people = made
    context = _context(study)
    for j, area in enumerate(AREAS):
        staff = [_mean(_slice(x["e"], j)) for x in _staff(people)]
        customers = [_mean(_slice(x["e"], j)) for x in _customers(people)]
        staff = [v for v in staff if v is not None]
        customers = [v for v in customers if v is not None]
        reference = scipy_stats.ttest_ind(staff, customers, equal_var=False)
        found = _area(context, area)["knowledge"]
        assert (found["internal_n"], found["customer_n"]) == (
            len(staff),
            len(customers),
        )
        assert found["delta"] == pytest.approx(np.mean(staff) - np.mean(customers))
        assert found["p"] == pytest.approx(reference.pvalue)


def test_the_weighted_score_uses_the_points_of_the_areas_with_a_gap(made):
    study, _, people = made
    scores = []
    for x in _customers(people):
        d = {j: _area_d(x, j) for j in range(len(AREAS))}
        weights = {j: x["points"][j] for j in d if d[j] is not None}
        total = sum(weights.values())
        if total:
            scores.append(sum(w * d[j] for j, w in weights.items()) / total)
    found = _context(study)["score"]["weighted"]
    assert found["n"] == len(scores)
    assert found["mean"] == pytest.approx(np.mean(scores))
    assert found["p"] == pytest.approx(scipy_stats.ttest_1samp(scores, 0).pvalue)


@pytest.mark.parametrize("segment_index", [None, 1])
def test_stated_importance_customers_beside_staff(made, segment_index):
    study, segments, people = made
    segment = None if segment_index is None else segments[segment_index].pk
    context = _context(study, Cut(segment_id=segment))
    for j, area in enumerate(AREAS):
        mine = [x["points"][j] for x in _customers(people, segment)]
        theirs = [x["points"][j] for x in _staff(people)]
        found = _area(context, area)["importance"]
        assert found["customer_n"] == len(mine)
        assert found["customer_mean"] == pytest.approx(np.mean(mine))
        assert found["customer_sd"] == pytest.approx(np.std(mine, ddof=1))
        assert found["internal_mean"] == pytest.approx(np.mean(theirs))
        reference = scipy_stats.ttest_ind(theirs, mine, equal_var=False)
        assert found["p"] == pytest.approx(reference.pvalue)


def test_derived_importance_is_pearson_with_the_fisher_interval(made):
    study, _, people = made
    context = _context(study)
    shown = 0
    for j, area in enumerate(AREAS):
        pairs = [
            (_mean(_slice(x["p"], j)), x["overall"])
            for x in _customers(people)
            if x["overall"] is not None and _mean(_slice(x["p"], j)) is not None
        ]
        x, y = zip(*pairs, strict=True)
        reference = scipy_stats.pearsonr(x, y)
        found = _area(context, area)["derived"]
        assert found["n"] == len(pairs)
        assert found["shown"] is True
        shown += 1
        assert found["r"] == pytest.approx(reference.statistic)
        low, high = reference.confidence_interval()
        assert found["low"] == pytest.approx(low)
        assert found["high"] == pytest.approx(high)
    assert shown == len(AREAS)


def test_a_segment_filter_leaves_the_staff_side_whole(made):
    study, segments, people = made
    context = _context(study, Cut(segment_id=segments[0].pk))
    for j, area in enumerate(AREAS):
        staff = [_mean(_slice(x["e"], j)) for x in _staff(people)]
        customers = [
            _mean(_slice(x["e"], j)) for x in _customers(people, segments[0].pk)
        ]
        found = _area(context, area)["knowledge"]
        assert found["internal_mean"] == pytest.approx(
            np.mean([v for v in staff if v is not None])
        )
        assert found["customer_mean"] == pytest.approx(
            np.mean([v for v in customers if v is not None])
        )


def test_the_one_statement_gives_study_sums_own_numbers(made):
    """The statement that reads every rating kind at once gives the same
    perception sums as `study_sums` reading the P ratings alone."""
    study, _, _ = made
    published = snapshots.published(study)
    (scores, answers), _ = priorities_queries.published_frames(
        priorities_queries.published_sums_rows(
            study, priorities_queries.study_items(study), published.seq
        )
    )
    expected_scores, expected_answers = queries.study_sums(
        study, queries.study_items(study), published.seq, overall=stats.OVERALL
    )
    assert len(scores) > 10 and len(answers) > 10

    def rows(frame):
        return sorted(map(tuple, frame.astype(object).to_numpy().tolist()), key=str)

    assert rows(scores) == rows(expected_scores)
    assert rows(answers) == rows(expected_answers)
