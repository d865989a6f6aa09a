"""The SQL aggregates: the right rows, only submitted responses, "don't know"
left out, the cut applied — checked against the hand data set and against
numbers computed in Python straight from the raw answers."""

import random

import numpy as np
import pytest
from scipy import stats as scipy_stats

from analysis import queries, stats
from analysis.dashboard import GAPS, study_results
from surveys.models import Audience, Response
from tests import factories, reference
from tests.analysis.conftest import gap_items, submit

pytestmark = pytest.mark.django_db


def test_respondent_gap_scores_are_means_of_the_answered_items(hand_study):
    scores = reference.respondent_gap_scores(hand_study)
    staff = scores[scores["audience"] == "internal"].sort_values("response_id")
    assert list(staff["score"]) == [6.5, 5.0, 7.0, 5.0]
    assert list(staff["n_items"]) == [2, 1, 2, 2]
    customers = scores[scores["audience"] == "customer"].sort_values("response_id")
    assert list(customers["score"]) == [3.5, 2.0, 4.5, 4.0, 3.0]
    assert set(scores["group"]) == {"Front desk", "Retail"}
    assert set(scores["gap"]) == {"knowledge"}


def test_drafts_do_not_count(hand_study):
    k1, k2 = gap_items(hand_study, "knowledge")
    submit(
        hand_study,
        Audience.INTERNAL,
        {k1: 1, k2: 1},
        status=Response.Status.DRAFT,
    )
    scores = reference.respondent_gap_scores(hand_study)
    assert len(scores[scores["audience"] == "internal"]) == 4


def test_an_all_dont_know_gap_gives_no_row(hand_study):
    k1, k2 = gap_items(hand_study, "knowledge")
    submit(hand_study, Audience.CUSTOMER, {k1: None, k2: None})
    scores = reference.respondent_gap_scores(hand_study)
    assert len(scores[scores["audience"] == "customer"]) == 5


def test_item_sums_leave_dont_know_out(hand_study):
    sums = reference.item_sums(hand_study).set_index(["item_id", "audience"])
    k1, k2 = gap_items(hand_study, "knowledge")
    assert tuple(sums.loc[(k1.pk, "internal")]) == (4, 22, 36 + 25 + 49 + 16)
    assert tuple(sums.loc[(k2.pk, "internal")]) == (3, 20, 49 + 49 + 36)
    assert tuple(sums.loc[(k1.pk, "customer")]) == (4, 14, 9 + 4 + 16 + 25)


def test_complete_item_sums_keep_only_respondents_with_every_item(hand_study):
    sums = reference.complete_item_sums(hand_study).set_index(["item_id", "audience"])
    k1, _ = gap_items(hand_study, "knowledge")
    # s2 (a "don't know") is left out: 6, 7, 4
    assert tuple(sums.loc[(k1.pk, "internal")]) == (3, 17, 36 + 49 + 16)


def test_alpha_from_the_database_matches_the_hand_computation(hand_study):
    results = study_results(hand_study)
    knowledge = results["gap_table"].set_index("gap").loc["knowledge"]
    assert knowledge["internal_alpha"] == pytest.approx(10 / 13)
    assert knowledge["customer_alpha"] == pytest.approx(4 / 7)


def test_the_gap_table_matches_scipy_on_the_raw_answers(org_a):
    """A random study: the raw answers are kept in Python here, the gap scores
    worked out from them, and scipy run straight on those."""
    rng = random.Random(5)
    study = factories.make_study(org_a, min_group_size=3)
    items = list(study.questionnaire.items.order_by("position"))
    raw = {"internal": [], "customer": []}
    for audience, count, centre in (("internal", 9, 5.5), ("customer", 14, 3.8)):
        for _ in range(count):
            values = {}
            for item in items:
                if rng.random() < 0.15:
                    values[item] = None
                else:
                    values[item] = max(1, min(7, round(rng.gauss(centre, 1.3))))
            submit(study, audience, values)
            raw[audience].append(values)
    table = study_results(study)["gap_table"].set_index("gap")
    for gap in GAPS:
        per_audience = {}
        for audience, responses in raw.items():
            per_audience[audience] = [
                np.mean(answered)
                for values in responses
                if (
                    answered := [
                        v
                        for item, v in values.items()
                        if item.gap == gap and v is not None
                    ]
                )
            ]
        expected = scipy_stats.ttest_ind(
            per_audience["internal"], per_audience["customer"], equal_var=False
        )
        interval = expected.confidence_interval(0.95)
        row = table.loc[gap]
        assert row["internal_n"] == len(per_audience["internal"])
        assert row["internal_mean"] == pytest.approx(np.mean(per_audience["internal"]))
        assert row["customer_sd"] == pytest.approx(
            np.std(per_audience["customer"], ddof=1)
        )
        assert row["p"] == pytest.approx(expected.pvalue)
        assert row["ci_low"] == pytest.approx(interval.low)
        assert row["ci_high"] == pytest.approx(interval.high)
    overall = {
        audience: [
            np.mean([v for v in values.values() if v is not None])
            for values in responses
        ]
        for audience, responses in raw.items()
    }
    expected = scipy_stats.ttest_ind(
        overall["internal"], overall["customer"], equal_var=False
    )
    assert table.loc["overall"]["p"] == pytest.approx(expected.pvalue)
    assert table.loc["overall"]["delta"] == pytest.approx(
        np.mean(overall["internal"]) - np.mean(overall["customer"])
    )


def test_the_item_table_matches_scipy_on_the_raw_item_answers(hand_study):
    items = study_results(hand_study)["item_table"].set_index("position")
    expected = scipy_stats.ttest_ind([6, 5, 7, 4], [3, 2, 4, 5], equal_var=False)
    assert items.loc[1]["delta"] == pytest.approx(2.0)
    assert items.loc[1]["p"] == pytest.approx(expected.pvalue)


def test_a_department_cut_narrows_the_staff_only(hand_study, org_a):
    other = factories.make_department(org_a, "Back office")
    k1, k2 = gap_items(hand_study, "knowledge")
    for _ in range(3):
        submit(hand_study, Audience.INTERNAL, {k1: 1, k2: 1}, department=other)
    everyone = reference.respondent_gap_scores(hand_study)
    cut = reference.respondent_gap_scores(
        hand_study, queries.Cut(department_id=other.pk)
    )
    assert len(everyone[everyone["audience"] == "internal"]) == 7
    assert list(cut[cut["audience"] == "internal"]["score"]) == [1.0, 1.0, 1.0]
    assert len(cut[cut["audience"] == "customer"]) == 5


def test_a_segment_cut_narrows_the_customers_only(hand_study, org_a):
    business = factories.make_segment(org_a, "Business")
    k1, _ = gap_items(hand_study, "knowledge")
    submit(hand_study, Audience.CUSTOMER, {k1: 7}, segment=business)
    cut = reference.respondent_gap_scores(
        hand_study, queries.Cut(segment_id=business.pk)
    )
    assert list(cut[cut["audience"] == "customer"]["score"]) == [7.0]
    assert len(cut[cut["audience"] == "internal"]) == 4


def test_comments_come_only_from_shown_groups(hand_study, org_a):
    """A lone customer of "Tiny" is hidden, and Retail with it: the study's
    customers minus Retail would be that customer (complementary
    suppression). Staff comments are unaffected."""
    from surveys.services.snapshots import published

    k1, _ = gap_items(hand_study, "knowledge")
    front_desk = hand_study.organization.departments.get(name="Front desk")
    retail = hand_study.organization.segments.get(name="Retail")
    tiny = factories.make_segment(org_a, "Tiny")
    submit(hand_study, Audience.CUSTOMER, {k1: 2}, segment=retail, comment="Slow.")
    submit(hand_study, Audience.CUSTOMER, {k1: 2}, segment=tiny, comment="It's me!")
    submit(hand_study, Audience.INTERNAL, {k1: 2}, department=front_desk, comment="Ok")
    state = published(hand_study)
    allowed = {
        audience: list(state.release("respondents", audience).visible)
        for audience in ("internal", "customer")
    }
    assert allowed == {"internal": [front_desk.pk], "customer": []}
    found = queries.comments(hand_study, state, queries.ALL, allowed=allowed)
    assert list(found["comment"]) == ["Ok"]
    assert list(found["group"]) == ["Front desk"]


def test_comments_are_in_a_random_order_without_times(hand_study):
    """Attack 1: comments listed newest first point at the latest respondent.
    They come in the snapshot's own random order, the same on every read."""
    from surveys.services.snapshots import published

    k1, _ = gap_items(hand_study, "knowledge")
    front_desk = hand_study.organization.departments.get(name="Front desk")
    for n in range(12):
        submit(
            hand_study,
            Audience.INTERNAL,
            {k1: 5},
            department=front_desk,
            comment=f"comment {n:02}",
        )
    state = published(hand_study)
    allowed = {"internal": [front_desk.pk], "customer": []}
    first = queries.comments(hand_study, state, queries.ALL, allowed=allowed)
    again = queries.comments(hand_study, state, queries.ALL, allowed=allowed)
    texts = list(first["comment"])
    assert sorted(texts) == [f"comment {n:02}" for n in range(12)]
    assert texts != sorted(texts) and texts != sorted(texts, reverse=True)
    assert list(again["comment"]) == texts
    assert list(first.columns) == ["audience", "group", "comment"]


def test_the_trend_holds_one_point_per_published_study(hand_study, org_a):
    from analysis.dashboard import trend_table

    factories.make_study(org_a, name="Draft", status="draft")  # no responses
    trend = trend_table(hand_study)
    knowledge = trend[trend["gap"] == "knowledge"].iloc[0]
    assert set(trend["study_id"]) == {hand_study.pk}
    assert knowledge["internal_n"] == 4
    assert knowledge["delta"] == pytest.approx(5.875 - 3.4)


def test_the_trend_ignores_other_organizations(hand_study, org_b):
    from analysis.dashboard import trend_table

    other = factories.make_study(org_b)
    item = other.questionnaire.items.first()
    for _ in range(3):
        submit(other, Audience.CUSTOMER, {item: 1})
    assert set(trend_table(hand_study)["study_id"]) == {hand_study.pk}


def test_staff_rate_counts_members_and_published_submissions(org_a):
    from surveys.services.snapshots import published

    study = factories.make_study(org_a, min_group_size=3)
    item = study.questionnaire.items.first()
    members = [factories.make_member(org_a) for _ in range(4)]
    for member in members[:2]:
        response = submit(study, Audience.INTERNAL, {item: 5})
        response.user = member.user
        response.save()
    rate = queries.staff_rate(study, published(study))
    assert rate == {"members": 4, "submitted": None, "rate": None}  # 2 < 3
    response = submit(study, Audience.INTERNAL, {item: 5})
    response.user = members[2].user
    response.save()
    rate = queries.staff_rate(study, published(study))
    assert rate == {"members": 4, "submitted": 3, "rate": 0.75}


def _hidden_like(expected, got):
    """The reference frame with the cells the published numbers hide to
    protect a smaller group (complementary suppression) hidden the same way:
    every other number must agree."""
    expected = expected.copy()
    for column in [c for c in got.columns if c.endswith("note")]:
        prefix = column[: -len("note")]
        for i in got.index[got[column] == stats.HIDDEN]:
            assert not expected.at[i, f"{prefix}suppressed"], "hidden but small"
            for key in ("mean", "sd", "low", "high", "alpha"):
                if f"{prefix}{key}" in expected:
                    expected.at[i, f"{prefix}{key}"] = None
            expected.at[i, f"{prefix}suppressed"] = True
            expected.at[i, column] = stats.HIDDEN
            for key in stats.COMPARISON_KEYS:
                if key in expected:
                    expected.at[i, key] = None
    return expected


@pytest.mark.parametrize("cut_kind", ["all", "department", "segment"])
def test_the_numbers_from_sql_sums_equal_those_from_respondent_scores(org_a, cut_kind):
    """The dashboard computes from sums grouped in SQL (`queries.study_sums`);
    the respondent-level functions of `stats` on `respondent_gap_scores` are an
    independent way to the same numbers: every table must agree."""
    from analysis.dashboard import study_numbers

    rng = random.Random(11)
    study = factories.make_study(org_a, min_group_size=3)
    items = list(study.questionnaire.items.order_by("position"))
    departments = [factories.make_department(org_a, f"D{i}") for i in range(3)]
    segments = [factories.make_segment(org_a, f"S{i}") for i in range(3)]
    for n in range(60):
        audience = "internal" if n % 3 == 0 else "customer"
        values = {
            item: None if rng.random() < 0.2 else rng.randint(1, 7)
            for item in items
            if rng.random() < 0.9
        }
        submit(
            study,
            audience,
            values,
            department=rng.choice([*departments, None])
            if audience == "internal"
            else None,
            segment=rng.choice([*segments, None]) if audience == "customer" else None,
        )
    cut = {
        "all": queries.ALL,
        "department": queries.Cut(department_id=departments[0].pk),
        "segment": queries.Cut(segment_id=segments[1].pk),
    }[cut_kind]
    numbers = study_numbers(study, cut)
    scores = reference.respondent_gap_scores(study, cut)
    size = study.min_group_size
    alpha = reference.cronbach_alpha(
        scores, reference.complete_item_sums(study, cut), queries.study_items(study)
    )
    expected = {
        "gap_table": reference.gap_table(
            scores, gaps=GAPS, min_group_size=size, alpha=alpha
        ),
        "distribution": reference.answer_distribution(
            study, cut, gaps=GAPS, min_group_size=size
        ),
        "departments": reference.group_matrix(
            scores, audience="internal", gaps=GAPS, min_group_size=size
        ),
        "segments": reference.group_matrix(
            scores, audience="customer", gaps=GAPS, min_group_size=size
        ),
        "segment_deltas": reference.segment_deltas(
            scores, gaps=GAPS, min_group_size=size
        ),
    }
    expected["segment_deltas"] = stats.with_qvalues(expected["segment_deltas"])
    expected["gap_table"] = stats.with_qvalues(
        expected["gap_table"], include=lambda row: row["gap"] != "overall"
    )
    for name, frame in expected.items():
        got = numbers[name].reset_index(drop=True)
        frame = _hidden_like(frame, got)
        if name == "gap_table":
            # Alpha over all items is checked on its own against numpy
            # (test_alpha_per_gap_and_over_all_items_equals_the_raw_formula).
            overall = got.index[got["gap"] == "overall"]
            for column in [c for c in got.columns if "_alpha" in c]:
                frame.loc[overall, column] = got.loc[overall, column]
        assert list(got.columns) == list(frame.columns), name
        assert len(got) == len(frame), name
        for column in frame.columns:
            for a, b in zip(got[column], frame[column], strict=True):
                if isinstance(b, float) and b == b:
                    assert a == pytest.approx(b, rel=1e-9, abs=1e-12), (name, column)
                else:
                    assert a == b or (a != a and b != b), (name, column, a, b)
    assert numbers["headline"] == pytest.approx(
        reference.headline(scores, midpoint=4.0, min_group_size=size)
    )
    allowed = reference.allowed_groups(
        reference.group_sizes(scores), min_group_size=size
    )
    # The same groups (their order does not matter: a membership test).
    assert {k: set(v) for k, v in numbers["allowed"].items()} == {
        k: set(v) for k, v in allowed.items()
    }
