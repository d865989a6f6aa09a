"""analysis.priorities against hand-worked values and scipy on the raw answers.

The references are written out here (worked by hand from DESIGN.md's
definitions), never computed by the code under test."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from analysis import priorities

approx = pytest.approx


def ratings(rows):
    """(response_id, item_id, kind, value) rows; None = "don't know"."""
    frame = pd.DataFrame(rows, columns=["response_id", "item_id", "kind", "value"])
    frame["value"] = frame["value"].astype(float)
    return frame


ITEMS = pd.DataFrame({"item_id": [1, 2, 3], "area": ["rel", "rel", "emp"]})


# --- the published worked example and the gap-model score ---------------------


def test_the_worked_example_gives_an_unweighted_score_of_minus_0_86():
    gaps = {"a": -0.65, "b": -1.10, "c": -0.83, "d": -0.70, "e": -1.01}
    score = priorities.unweighted_score(gaps)
    assert score == approx(-0.858)
    assert f"{score:.2f}" == "-0.86"


def test_the_unweighted_score_leaves_out_areas_without_a_gap():
    assert priorities.unweighted_score({"a": -1.0, "b": None}) == -1.0
    assert priorities.unweighted_score({}) is None


def test_the_weighted_score_uses_each_customers_points_over_areas_with_a_d():
    area_d = pd.DataFrame(
        {"response_id": [1, 1, 2, 3], "area": ["a", "b", "a", "b"], "d": [-1, -2, 0, 5]}
    )
    points = pd.DataFrame(
        {
            # 1: everything on a; 2: half on b, which has no d for them, so
            # a weighs 50/50 = 1; 3: all 100 points on an area without a d.
            "response_id": [1, 1, 2, 2, 3, 3],
            "area": ["a", "b", "a", "b", "a", "b"],
            "points": [100, 0, 50, 50, 100, 0],
        }
    )
    found = priorities.weighted_score(area_d, points)
    # Customers 1 (−1·1 + −2·0 = −1) and 2 (0·1 = 0); 3 has no weighted score.
    assert found["n"] == 2
    assert found["mean"] == approx(-0.5)


# --- the perception gap, paired ----------------------------------------------


def test_the_paired_gap_matches_hand_values_and_scipy():
    d = [-1.0, -2.0, 0.0, -1.0]
    found = priorities.one_sample(d)
    # mean −1, sd √(2/3) = 0.8165, half = 3.18245 · 0.8165 / 2 = 1.29923
    assert found["mean"] == approx(-1.0)
    assert found["sd"] == approx(0.816497, abs=1e-6)
    assert (found["low"], found["high"]) == (
        approx(-2.299228, abs=1e-6),
        approx(0.299228, abs=1e-6),
    )
    assert found["dz"] == approx(-1.224745, abs=1e-6)
    reference = scipy_stats.ttest_1samp(d, 0)
    assert found["p"] == approx(reference.pvalue)
    assert found["p"] == approx(0.091721, abs=1e-6)


def test_zero_variance_gives_a_mean_but_no_interval_p_or_dz():
    found = priorities.one_sample([-1.0, -1.0, -1.0])
    assert found["mean"] == -1.0 and found["sd"] == 0.0
    assert found["low"] is None and found["p"] is None and found["dz"] is None


def test_dont_know_in_one_rating_only_leaves_that_pair_out():
    frame = ratings(
        [
            (1, 1, "E", 7),
            (1, 1, "P", 5),  # d = −2
            (1, 2, "E", None),  # "don't know" for E: no pair
            (1, 2, "P", 3),
            (2, 1, "E", 6),
            (2, 1, "P", None),  # "don't know" for P: no pair
            (2, 2, "E", 4),
            (2, 2, "P", 5),  # d = +1
        ]
    )
    diffs = priorities.item_differences(frame)
    assert sorted(map(tuple, diffs.to_numpy().tolist())) == [(1, 1, -2.0), (2, 2, 1.0)]


def test_area_gaps_are_means_over_the_areas_items_then_summarised_per_area():
    frame = ratings(
        [
            (1, 1, "E", 7),
            (1, 1, "P", 4),  # −3
            (1, 2, "E", 6),
            (1, 2, "P", 5),  # −1 → rel −2
            (1, 3, "E", 5),
            (1, 3, "P", 5),  # emp 0 (one item in the area)
            (2, 1, "E", 5),
            (2, 1, "P", 5),  # rel 0 (item 2 unanswered)
            (2, 3, "E", 4),
            (2, 3, "P", 6),  # emp +2
            (3, 1, "E", 6),
            (3, 1, "P", 5),  # rel −1
        ]
    )
    area_d = priorities.area_differences(priorities.item_differences(frame), ITEMS)
    table = priorities.gap_table(area_d).set_index("area")
    assert table.loc["rel", "n"] == 3
    assert table.loc["rel", "mean"] == approx(-1.0)
    raw_rel = [-2.0, 0.0, -1.0]
    reference = scipy_stats.ttest_1samp(raw_rel, 0)
    assert table.loc["rel", "p"] == approx(reference.pvalue)
    low, high = reference.confidence_interval()
    assert (table.loc["rel", "low"], table.loc["rel", "high"]) == (
        approx(low),
        approx(high),
    )
    assert table.loc["emp", "mean"] == approx(1.0)


def test_the_knowledge_gap_is_welch_with_hedges_g():
    staff = [6.0, 7.0, 5.0, 6.0, 7.0]
    customers = [5.0, 4.0, 6.0, 5.0, 3.0, 4.0]
    found = priorities.knowledge_gap(staff, customers)
    reference = scipy_stats.ttest_ind(staff, customers, equal_var=False)
    assert found["delta"] == approx(6.2 - 4.5)
    assert found["p"] == approx(reference.pvalue)
    low, high = reference.confidence_interval()
    assert (found["ci_low"], found["ci_high"]) == (approx(low), approx(high))
    # Hedges' g by hand: pooled SD √((4·0.7 + 5·1.1)/9) = 0.96032, J = 1 − 3/35
    assert found["g"] == approx(1.7 / 0.960324 * (1 - 3 / 35), abs=1e-5)


# --- zone of tolerance --------------------------------------------------------


def test_the_zone_of_tolerance_counts_inside_and_leaves_inversions_out():
    rows = []
    for pk, (a, d, p) in enumerate([(3, 6, 5), (4, 6, 7), (6, 4, 5), (2, 5, 2)], 1):
        rows += [(pk, 1, "A", a), (pk, 1, "D", d), (pk, 1, "P", p)]
    zone = priorities.zone_of_tolerance(ratings(rows)).iloc[0]
    assert zone["n"] == 3 and zone["inversions"] == 1
    assert zone["inside"] == 2 and zone["inside_share"] == approx(2 / 3)
    assert zone["msa_mean"] == approx((2 + 3 + 0) / 3)
    assert zone["mss_mean"] == approx((-1 + 1 - 3) / 3)
    # The tolerance mode's d is P − D without the inversion.
    diffs = priorities.item_differences(ratings(rows), priorities.TOLERANCE)
    assert sorted(diffs["d"]) == [-3.0, -1.0, 1.0]


# --- importance ----------------------------------------------------------------


def test_stated_importance_compares_staffs_prediction_with_customers():
    customer = pd.DataFrame(
        {
            "response_id": [1, 1, 2, 2, 3, 3],
            "area": ["a", "b"] * 3,
            "points": [100, 0, 60, 40, 50, 50],  # one gives all to one area
        }
    )
    staff = pd.DataFrame(
        {
            "response_id": [7, 7, 8, 8],
            "area": ["a", "b"] * 2,
            "points": [30, 70, 40, 60],
        }
    )
    table = priorities.stated_importance(customer, staff).set_index("area")
    assert table.loc["a", "customer_mean"] == approx(70.0)
    assert table.loc["a", "internal_mean"] == approx(35.0)
    assert table.loc["a", "delta"] == approx(-35.0)
    reference = scipy_stats.ttest_ind([30, 40], [100, 60, 50], equal_var=False)
    assert table.loc["a", "p"] == approx(reference.pvalue)
    low, high = scipy_stats.t.interval(
        0.95, 2, loc=70, scale=np.std([100, 60, 50], ddof=1) / math.sqrt(3)
    )
    assert table.loc["a", "customer_low"] == approx(low)


def test_derived_importance_is_pearson_with_the_fisher_interval():
    rng = np.random.default_rng(4)
    overall = rng.integers(1, 8, 30).astype(float)
    score = overall + rng.normal(0, 1.5, 30)
    area_p = pd.DataFrame({"response_id": range(30), "area": "rel", "score": score})
    table = priorities.derived_importance(
        area_p, dict(enumerate(overall)), min_group_size=5
    )
    row = table.iloc[0]
    reference = scipy_stats.pearsonr(score, overall)
    assert row["r"] == approx(reference.statistic)
    interval = reference.confidence_interval(0.95)
    assert (row["low"], row["high"]) == (approx(interval.low), approx(interval.high))


def test_fisher_interval_by_hand():
    # r = 0.5, n = 28: atanh 0.549306 ± 1.959964/5 → tanh(0.157313), tanh(0.941299)
    low, high = priorities.fisher_interval(0.5, 28)
    assert low == approx(0.156037, abs=1e-5)
    assert high == approx(0.735818, abs=1e-5)


def test_derived_importance_is_hidden_below_ten_or_the_group_size():
    area_p = pd.DataFrame(
        {"response_id": range(12), "area": "rel", "score": np.arange(12.0)}
    )
    overall = {pk: float(pk % 7 + 1) for pk in range(12)}
    shown = priorities.derived_importance(area_p, overall, min_group_size=5)
    assert bool(shown.iloc[0]["shown"]) and shown.iloc[0]["r"] is not None
    hidden = priorities.derived_importance(area_p, overall, min_group_size=15)
    assert not hidden.iloc[0]["shown"] and hidden.iloc[0]["r"] is None
    few = priorities.derived_importance(area_p.head(9), overall, min_group_size=3)
    assert not few.iloc[0]["shown"]


def test_derived_importance_with_zero_variance_has_no_r():
    area_p = pd.DataFrame({"response_id": range(12), "area": "rel", "score": 4.0})
    table = priorities.derived_importance(
        area_p, {pk: float(pk % 7 + 1) for pk in range(12)}, min_group_size=5
    )
    assert table.iloc[0]["r"] is None


def test_importance_shares_from_points_or_from_positive_r():
    assert priorities.importance_shares(stated={"a": 60.0, "b": 40.0}) == {
        "a": 0.6,
        "b": 0.4,
    }
    shares = priorities.importance_shares(derived={"a": 0.6, "b": 0.2, "c": -0.3})
    assert shares == {"a": approx(0.75), "b": approx(0.25), "c": 0.0}


# --- priority matrix and where to act first -----------------------------------


def test_the_priority_matrix_names_each_quadrant_at_the_mean_lines():
    rows = pd.DataFrame(
        {
            "area": ["a", "b", "c", "d"],
            "x": [30.0, 30.0, 10.0, 10.0],
            "y": [-1.5, 0.5, -1.5, 0.5],
        }
    )
    matrix, lines = priorities.priority_matrix(rows)
    assert lines == {"x": 20.0, "y": -0.5}
    assert dict(zip(matrix["area"], matrix["quadrant"], strict=True)) == {
        "a": "concentrate here",
        "b": "keep up the good work",
        "c": "low priority",
        "d": "possible overkill",
    }


def test_where_to_act_first_ranks_share_times_shortfall_and_marks_uncertain():
    shares = {"a": 0.4, "b": 0.3, "c": 0.2, "d": 0.1}
    performance = {
        "a": {"mean": -0.5, "low": -0.8, "high": -0.2},  # 0.4·0.5 = 0.20
        "b": {"mean": -1.0, "low": -1.6, "high": -0.4},  # 0.3·1.0 = 0.30
        "c": {"mean": -0.5, "low": -1.2, "high": 0.2},  # 0.10, interval holds 0
        "d": {"mean": 0.6, "low": 0.3, "high": 0.9},  # over-delivered: 0
    }
    rows = priorities.act_first(shares, performance, mode=priorities.EXPECTATION)
    assert [r["area"] for r in rows] == ["b", "a", "c", "d"]
    assert [r["priority"] for r in rows] == [
        approx(0.3),
        approx(0.2),
        approx(0.1),
        0.0,
    ]
    assert [r["uncertain"] for r in rows] == [False, False, True, True]
    assert rows[0]["shortfall_low"] == approx(0.4)


def test_where_to_act_first_in_perception_mode_uses_delta():
    rows = priorities.act_first(
        {"a": 0.5, "b": 0.5},
        {
            "a": {"delta": 0.8, "ci_low": 0.2, "ci_high": 1.4},
            "b": {"delta": -0.3, "ci_low": -0.9, "ci_high": 0.3},
        },
        mode=priorities.PERCEPTION,
    )
    assert [(r["area"], r["priority"], r["uncertain"]) for r in rows] == [
        ("a", approx(0.4), False),
        ("b", 0.0, True),
    ]


# --- segment influence --------------------------------------------------------

SEGMENTS = [
    {"segment": "A", "weight": 2, "n": 10, "mean": 4.0, "sd": 1.0},
    {"segment": "B", "weight": 1, "n": 20, "mean": 5.0, "sd": 2.0},
    {"segment": "C", "weight": 3, "n": 3, "mean": 1.0, "sd": 1.0},  # below K
    {"segment": "D", "weight": None, "n": 40, "mean": 6.0, "sd": 1.0},
    {"segment": "E", "weight": 5, "n": 9, "mean": 2.0, "sd": 1.0, "shown": False},
]
STAFF = {"n": 8, "mean": 5.0, "sd": 1.5}


def test_segment_weights_give_the_weighted_mean_and_its_welch_interval():
    found = priorities.segment_influence(SEGMENTS, STAFF, min_group_size=5)
    assert (found["used"], found["left_out"]) == (2, 3)
    # x_w = (2·4 + 1·5)/3; SE² = (2/3)²·1/10 + (1/3)²·4/20 = 0.066667
    assert found["mean"] == approx(13 / 3)
    assert found["se"] ** 2 == approx(0.0666667, abs=1e-6)
    assert found["df"] == approx(18.105882, abs=1e-5)
    assert found["high"] - found["mean"] == approx(0.542228, abs=1e-5)


def test_the_weighted_delta_and_contributions_add_up():
    found = priorities.segment_influence(SEGMENTS, STAFF, min_group_size=5)
    assert found["delta"] == approx(5 - 13 / 3)
    assert found["delta_df"] == approx(10.484083, abs=1e-5)
    assert found["delta_high"] - found["delta"] == approx(1.306076, abs=1e-5)
    contributions = found["contributions"]
    assert [c["segment"] for c in contributions] == ["A", "B"]
    assert contributions[0]["contribution"] == approx(2 / 3)
    assert sum(c["contribution"] for c in contributions) == approx(found["delta"])


def test_one_weighted_segment_is_the_plain_t_interval_and_welch():
    rng = np.random.default_rng(7)
    customers = rng.integers(1, 8, 25).astype(float)
    staff = rng.integers(2, 8, 12).astype(float)
    segment = {
        "segment": "only",
        "weight": 1,
        "n": 25,
        "mean": customers.mean(),
        "sd": customers.std(ddof=1),
    }
    side = {"n": 12, "mean": staff.mean(), "sd": staff.std(ddof=1)}
    found = priorities.segment_influence([segment], side, min_group_size=5)
    low, high = scipy_stats.t.interval(
        0.95, 24, loc=customers.mean(), scale=scipy_stats.sem(customers)
    )
    assert (found["low"], found["high"]) == (approx(low), approx(high))
    reference = scipy_stats.ttest_ind(staff, customers, equal_var=False)
    low, high = reference.confidence_interval()
    assert (found["delta_low"], found["delta_high"]) == (approx(low), approx(high))


def test_no_weighted_segment_gives_no_weighted_figures():
    found = priorities.segment_influence(SEGMENTS[2:], STAFF, min_group_size=5)
    assert found["mean"] is None and found["delta"] is None
    assert found["left_out"] == 3


def test_the_sums_versions_match_the_raw_ones():
    d = [-1, -2, 0, -1, 3]
    raw = priorities.one_sample(d)
    found = priorities.one_sample_from_sums(5, sum(d), sum(x * x for x in d))
    assert found == {key: approx(value) for key, value in raw.items()}
    staff, customers = [6, 7, 5, 6], [5, 4, 6, 5, 3]
    raw = priorities.knowledge_gap(staff, customers)
    found = priorities.knowledge_gap_from_sums(
        (4, sum(staff), sum(x * x for x in staff)),
        (5, sum(customers), sum(x * x for x in customers)),
    )
    for key in ("delta", "ci_low", "ci_high", "p", "g"):
        assert found[key] == approx(raw[key])


def test_the_zone_from_sums_matches_the_raw_zone():
    triples = [(3, 6, 5), (4, 6, 7), (2, 5, 2), (3, 5, 4)]
    rows = []
    for pk, (a, d, p) in enumerate(triples, 1):
        rows += [(pk, 1, "A", a), (pk, 1, "D", d), (pk, 1, "P", p)]
    raw = priorities.zone_of_tolerance(ratings(rows)).iloc[0].to_dict()
    msa = [p - a for a, d, p in triples]
    mss = [p - d for a, d, p in triples]
    found = priorities.zone_from_sums(
        {
            "n": 4,
            "inversions": 0,
            "inside": 3,
            "msa_total": sum(msa),
            "msa_sumsq": sum(x * x for x in msa),
            "mss_total": sum(mss),
            "mss_sumsq": sum(x * x for x in mss),
            "a_total": 12,
            "d_total": 22,
            "p_total": 18,
        }
    )
    for key, value in found.items():
        assert value == approx(raw[key]), key


def _sums(values):
    return (len(values), sum(values), sum(x * x for x in values))


def test_stated_importance_from_sums_matches_the_raw_one():
    customer = pd.DataFrame(
        {
            "response_id": [1, 1, 2, 2, 3, 3],
            "area": ["a", "b"] * 3,
            "points": [100, 0, 60, 40, 50, 50],
        }
    )
    staff = pd.DataFrame(
        {"response_id": [7, 7, 8, 8], "area": ["a", "b"] * 2, "points": [30, 70] * 2}
    )
    raw = priorities.stated_importance(customer, staff).set_index("area")

    def per_area(frame):
        return {
            area: _sums(list(part["points"]))
            for area, part in frame.groupby("area", sort=False)
        }

    found = priorities.stated_importance_from_sums(
        per_area(customer), per_area(staff)
    ).set_index("area")
    assert list(found.index) == list(raw.index)
    for column in raw.columns:
        for area in raw.index:
            assert found.loc[area, column] == approx(raw.loc[area, column], nan_ok=True)
    # The staff's two equal allocations: SD 0 on their side, Welch still runs.
    assert found.loc["a", "internal_sd"] == 0.0


def _derived_sums(x, y):
    return {
        "n": len(x),
        "x_total": float(np.sum(x)),
        "x_sumsq": float(np.sum(np.square(x))),
        "y_total": float(np.sum(y)),
        "y_sumsq": float(np.sum(np.square(y))),
        "xy_total": float(np.dot(x, y)),
    }


def test_derived_importance_from_sums_matches_the_raw_one():
    rng = np.random.default_rng(4)
    overall = rng.integers(1, 8, 30).astype(float)
    # Area scores are means of two items: halves, as in the database's sums.
    score = np.clip(np.round(2 * (overall + rng.normal(0, 1.5, 30))) / 2, 1, 7)
    area_p = pd.DataFrame({"response_id": range(30), "area": "rel", "score": score})
    raw = priorities.derived_importance(
        area_p, dict(enumerate(overall)), min_group_size=5
    ).iloc[0]
    found = priorities.derived_importance_from_sums(
        {"rel": _derived_sums(score, overall)}, min_group_size=5
    ).iloc[0]
    for key in ("n", "r", "low", "high", "shown"):
        assert found[key] == approx(raw[key])
    assert found["r"] == approx(scipy_stats.pearsonr(score, overall).statistic)


def test_derived_importance_from_sums_without_spread_or_below_ten_has_no_r():
    flat = priorities.derived_importance_from_sums(
        {"rel": _derived_sums(np.full(12, 4.0), np.arange(12.0) % 7 + 1)},
        min_group_size=5,
    ).iloc[0]
    assert flat["shown"] and flat["r"] is None
    few = priorities.derived_importance_from_sums(
        {"rel": _derived_sums(np.arange(9.0), np.arange(9.0) % 7 + 1)},
        min_group_size=3,
    ).iloc[0]
    assert not few["shown"] and few["r"] is None
