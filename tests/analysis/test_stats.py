"""The statistics on small hand-built frames: expected numbers written out, and
cross-checked with scipy applied straight to the raw scores."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from analysis import stats
from tests import factories, reference

GAPS = ["knowledge", "standards"]
STAFF_SCORES = [6.5, 5.0, 7.0, 5.0]
CUSTOMER_SCORES = [3.5, 2.0, 4.5, 4.0, 3.0]


def frame(rows: list[tuple]) -> pd.DataFrame:
    """Respondent gap scores from (response_id, audience, group, gap, total, n)."""
    data = pd.DataFrame(
        rows, columns=["response_id", "audience", "group", "gap", "total", "n_items"]
    )
    data["group_id"] = data["group"].map(lambda g: hash(g) % 1000)
    data["score"] = data["total"] / data["n_items"]
    return data


@pytest.fixture
def scores() -> pd.DataFrame:
    # The hand data set of tests/analysis/conftest.py (knowledge gap only).
    return frame(
        [
            (1, "internal", "Front desk", "knowledge", 13, 2),
            (2, "internal", "Front desk", "knowledge", 5, 1),
            (3, "internal", "Front desk", "knowledge", 14, 2),
            (4, "internal", "Front desk", "knowledge", 10, 2),
            (5, "customer", "Retail", "knowledge", 7, 2),
            (6, "customer", "Retail", "knowledge", 4, 2),
            (7, "customer", "Retail", "knowledge", 9, 2),
            (8, "customer", "Retail", "knowledge", 8, 2),
            (9, "customer", "Retail", "knowledge", 3, 1),
        ]
    )


def test_describe_uses_the_sample_standard_deviation():
    summary = reference.describe(STAFF_SCORES)
    assert summary["n"] == 4
    assert summary["mean"] == pytest.approx(5.875)
    # Σ(x − mean)² = 3.1875; / (n − 1) = 1.0625
    assert summary["sd"] == pytest.approx(math.sqrt(1.0625))


def test_describe_sums_is_exact_for_integer_answers():
    values = [6, 5, 7, 4]
    summary = stats.describe_sums(4, sum(values), sum(v * v for v in values))
    assert summary["mean"] == 5.5
    assert summary["sd"] == pytest.approx(np.std(values, ddof=1))


def test_describe_sums_gives_zero_spread_not_nan_for_identical_answers():
    assert stats.describe_sums(3, 15, 75)["sd"] == 0.0


def test_gap_table_has_the_hand_computed_means_and_delta(scores):
    table = reference.gap_table(scores, gaps=GAPS, min_group_size=3)
    knowledge = table[table["gap"] == "knowledge"].iloc[0]
    assert knowledge["internal_n"] == 4
    assert knowledge["internal_mean"] == pytest.approx(5.875)
    assert knowledge["internal_sd"] == pytest.approx(1.030776406)
    assert knowledge["customer_n"] == 5
    assert knowledge["customer_mean"] == pytest.approx(3.4)
    assert knowledge["customer_sd"] == pytest.approx(math.sqrt(0.925))
    assert knowledge["delta"] == pytest.approx(2.475)


def test_welch_interval_and_p_match_scipy_on_the_raw_scores(scores):
    table = reference.gap_table(scores, gaps=GAPS, min_group_size=3)
    knowledge = table[table["gap"] == "knowledge"].iloc[0]
    expected = scipy_stats.ttest_ind(STAFF_SCORES, CUSTOMER_SCORES, equal_var=False)
    interval = expected.confidence_interval(0.95)
    assert knowledge["p"] == pytest.approx(expected.pvalue)
    assert knowledge["ci_low"] == pytest.approx(interval.low)
    assert knowledge["ci_high"] == pytest.approx(interval.high)
    # Welch–Satterthwaite by hand: v1 = 1.0625/4, v2 = 0.925/5
    v1, v2 = 1.0625 / 4, 0.925 / 5
    assert knowledge["df"] == pytest.approx((v1 + v2) ** 2 / (v1**2 / 3 + v2**2 / 4))
    assert knowledge["df"] == pytest.approx(expected.df)


def test_hedges_g_uses_the_pooled_sd_and_small_sample_correction(scores):
    table = reference.gap_table(scores, gaps=GAPS, min_group_size=3)
    knowledge = table[table["gap"] == "knowledge"].iloc[0]
    pooled = math.sqrt((3 * 1.0625 + 4 * 0.925) / 7)
    j = 1 - 3 / (4 * 9 - 9)
    assert knowledge["g"] == pytest.approx(2.475 / pooled * j)
    assert knowledge["g"] == pytest.approx(2.21789, abs=1e-5)


def test_a_gap_without_answers_has_no_numbers(scores):
    table = reference.gap_table(scores, gaps=GAPS, min_group_size=3)
    standards = table[table["gap"] == "standards"].iloc[0]
    assert standards["internal_n"] == 0
    assert standards["delta"] is None or pd.isna(standards["delta"])
    assert standards["internal_note"] == "not enough answers"


def test_an_audience_with_no_responses_has_no_delta(scores):
    staff_only = scores[scores["audience"] == "internal"]
    table = reference.gap_table(staff_only, gaps=GAPS, min_group_size=3)
    knowledge = table[table["gap"] == "knowledge"].iloc[0]
    assert knowledge["internal_mean"] == pytest.approx(5.875)
    assert knowledge["customer_n"] == 0
    assert pd.isna(knowledge["delta"])
    assert pd.isna(knowledge["p"])


def test_zero_variance_gives_a_delta_but_no_interval_p_or_g():
    same = frame(
        [(i, "internal", "A", "knowledge", 10, 2) for i in range(1, 5)]
        + [(i, "customer", "B", "knowledge", 6, 2) for i in range(5, 10)]
    )
    table = reference.gap_table(same, gaps=["knowledge"], min_group_size=3)
    row = table.iloc[0]
    assert row["delta"] == pytest.approx(2.0)
    assert row["internal_sd"] == 0.0
    assert pd.isna(row["p"]) and pd.isna(row["ci_low"]) and pd.isna(row["g"])


@pytest.mark.filterwarnings("ignore:Precision loss occurred:RuntimeWarning")
def test_zero_variance_on_one_side_still_gives_a_welch_test():
    result = stats.welch(
        {"n": 4, "mean": 5.0, "sd": 0.0},
        reference.describe(CUSTOMER_SCORES),
    )
    expected = scipy_stats.ttest_ind([5.0] * 4, CUSTOMER_SCORES, equal_var=False)
    assert result["p"] == pytest.approx(expected.pvalue)
    assert result["df"] == pytest.approx(4)  # all the variance is the customers'


def test_a_group_below_the_minimum_is_suppressed(scores):
    table = reference.gap_table(scores, gaps=GAPS, min_group_size=5)
    knowledge = table[table["gap"] == "knowledge"].iloc[0]
    assert bool(knowledge["internal_suppressed"]) is True
    assert knowledge["internal_mean"] is None or pd.isna(knowledge["internal_mean"])
    assert knowledge["internal_note"] == "fewer than 5"
    assert pd.isna(knowledge["delta"])
    assert knowledge["customer_mean"] == pytest.approx(3.4)


def test_overall_score_is_the_mean_of_all_answered_items():
    data = frame(
        [
            (1, "internal", "A", "knowledge", 12, 2),  # 6, 6
            (1, "internal", "A", "standards", 3, 1),  # 3 (one "don't know")
        ]
    )
    overall = reference.overall_scores(data)
    assert overall.iloc[0]["score"] == pytest.approx(15 / 3)  # not (6 + 3) / 2


def test_cronbach_alpha_matches_the_hand_computation():
    # Complete respondents of the hand data set; staff: (6,7), (7,7), (4,6)
    items = pd.DataFrame({"item_id": [1, 2], "gap": ["knowledge"] * 2})
    scores = frame(
        [
            (1, "internal", "A", "knowledge", 13, 2),
            (2, "internal", "A", "knowledge", 5, 1),  # left out: a "don't know"
            (3, "internal", "A", "knowledge", 14, 2),
            (4, "internal", "A", "knowledge", 10, 2),
        ]
    )
    complete = pd.DataFrame(
        [
            (1, "internal", 3, 17, 36 + 49 + 16),
            (2, "internal", 3, 20, 49 + 49 + 36),
        ],
        columns=["item_id", "audience", "n", "total", "sumsq"],
    )
    alpha = reference.cronbach_alpha(scores, complete, items)
    staff = alpha[(alpha["audience"] == "internal")].iloc[0]
    # var(item1) = 7/3, var(item2) = 1/3, var(total) = 13/3 → 2 × (1 − 8/13)
    assert staff["alpha"] == pytest.approx(10 / 13)
    assert staff["n"] == 3


def test_cronbach_alpha_matches_the_textbook_formula_on_a_matrix():
    rng = np.random.default_rng(7)
    matrix = rng.integers(1, 8, size=(30, 4))
    k = matrix.shape[1]
    expected = (
        k / (k - 1) * (1 - matrix.var(axis=0, ddof=1).sum() / matrix.sum(1).var(ddof=1))
    )
    items = pd.DataFrame({"item_id": range(k), "gap": ["delivery"] * k})
    scores = frame(
        [
            (i, "customer", "A", "delivery", int(row.sum()), k)
            for i, row in enumerate(matrix)
        ]
    )
    complete = pd.DataFrame(
        [
            (j, "customer", 30, int(matrix[:, j].sum()), int((matrix[:, j] ** 2).sum()))
            for j in range(k)
        ],
        columns=["item_id", "audience", "n", "total", "sumsq"],
    )
    alpha = reference.cronbach_alpha(scores, complete, items)
    customers = alpha[alpha["audience"] == "customer"].iloc[0]
    assert customers["alpha"] == pytest.approx(expected)


def test_cronbach_alpha_is_undefined_for_a_one_item_gap():
    items = pd.DataFrame({"item_id": [1], "gap": ["perception"]})
    scores = frame(
        [(i, "internal", "A", "perception", v, 1) for i, v in enumerate([3, 5, 6])]
    )
    complete = pd.DataFrame(
        [(1, "internal", 3, 14, 70)],
        columns=["item_id", "audience", "n", "total", "sumsq"],
    )
    alpha = reference.cronbach_alpha(scores, complete, items)
    assert alpha.iloc[0]["alpha"] is None


def test_headline_shares(scores):
    result = reference.headline(scores, midpoint=4, min_group_size=3)
    assert result["staff_above"] == 1.0  # 6.5, 5, 7, 5 are all above 4
    assert result["customer_above"] == pytest.approx(1 / 5)  # only 4.5
    assert result["difference"] == pytest.approx(0.8)


def test_headline_is_suppressed_for_a_small_audience(scores):
    result = reference.headline(scores, midpoint=4, min_group_size=5)
    assert result["staff_above"] is None and result["staff_suppressed"]
    assert result["customer_above"] == pytest.approx(0.2)
    assert result["difference"] is None


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2"),
    [(3, 4, 1, 5), (93, 100, 22, 100), (0, 7, 7, 7), (5, 5, 0, 12), (1, 1, 0, 1)],
)
def test_wilson_and_newcombe_equal_statsmodels(k1, n1, k2, n2):
    from statsmodels.stats.proportion import (
        confint_proportions_2indep,
        proportion_confint,
    )

    assert stats.wilson(k1, n1) == pytest.approx(
        proportion_confint(k1, n1, method="wilson"), abs=1e-12
    )
    found = stats.newcombe(k1, n1, k2, n2)
    low, high = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb")
    assert found["difference"] == pytest.approx(k1 / n1 - k2 / n2)
    assert (found["low"], found["high"]) == pytest.approx((low, high), abs=1e-12)


@pytest.mark.parametrize(
    ("score", "category"),
    [
        (3.5, "disappointed"),
        (4.0, "neutral"),
        (4.5, "satisfied"),
        (5.99, "satisfied"),
        (6.0, "delighted"),
        (7.0, "delighted"),
    ],
)
def test_classify_on_a_seven_point_scale_counts_the_top_two_boxes(score, category):
    assert reference.classify(score, midpoint=4, scale_min=1, scale_max=7) == category


def test_classify_on_a_five_point_scale_counts_the_top_box_only():
    assert reference.classify(4.5, midpoint=3, scale_min=1, scale_max=5) == "satisfied"
    assert reference.classify(5.0, midpoint=3, scale_min=1, scale_max=5) == "delighted"


def test_distribution_shares(scores):
    dist = reference.distribution(
        scores, gaps=GAPS, scale_min=1, scale_max=7, min_group_size=3
    )
    staff = dist[(dist["gap"] == "knowledge") & (dist["audience"] == "internal")].iloc[
        0
    ]
    assert (staff["disappointed"], staff["neutral"]) == (0.0, 0.0)
    assert (staff["satisfied"], staff["delighted"]) == (0.5, 0.5)
    customers = dist[
        (dist["gap"] == "knowledge") & (dist["audience"] == "customer")
    ].iloc[0]
    assert customers["disappointed"] == pytest.approx(0.6)
    assert customers["neutral"] == pytest.approx(0.2)
    assert customers["satisfied"] == pytest.approx(0.2)
    assert customers["delighted"] == 0.0


def test_distribution_is_suppressed_below_the_minimum(scores):
    dist = reference.distribution(
        scores, gaps=GAPS, scale_min=1, scale_max=7, min_group_size=5
    )
    staff = dist[(dist["gap"] == "knowledge") & (dist["audience"] == "internal")].iloc[
        0
    ]
    assert staff["delighted"] is None and staff["note"] == "fewer than 5"


def test_items_are_ranked_by_delta_largest_first():
    items = pd.DataFrame(
        {
            "item_id": [1, 2, 3],
            "gap": ["knowledge"] * 3,
            "position": [1, 2, 3],
            "internal_text": ["a", "b", "c"],
            "customer_text": ["a", "b", "c"],
        }
    )
    sums = pd.DataFrame(
        [
            (1, "internal", 4, 22, 126),  # 6, 5, 7, 4 → 5.5
            (1, "customer", 4, 14, 54),  # 3, 2, 4, 5 → 3.5 ; Δ 2.0
            (2, "internal", 3, 20, 134),  # 7, 7, 6 → 6.667
            (2, "customer", 5, 17, 63),  # 4, 2, 5, 3, 3 → 3.4 ; Δ 3.267
            (3, "internal", 2, 8, 32),  # too few: suppressed, no Δ
            (3, "customer", 3, 9, 27),
        ],
        columns=["item_id", "audience", "n", "total", "sumsq"],
    )
    table = stats.item_table(sums, items, min_group_size=3)
    ranked = stats.rank_items(table)
    assert list(ranked["item_id"]) == [2, 1, 3]
    assert ranked.iloc[0]["delta"] == pytest.approx(20 / 3 - 3.4)
    expected = scipy_stats.ttest_ind([7, 7, 6], [4, 2, 5, 3, 3], equal_var=False)
    assert ranked.iloc[0]["p"] == pytest.approx(expected.pvalue)
    assert ranked.iloc[2]["internal_note"] == "fewer than 3"


def test_group_matrix_suppresses_small_groups():
    data = frame(
        [(i, "customer", "Big", "knowledge", 8, 2) for i in range(5)]
        + [(i, "customer", "Small", "knowledge", 4, 2) for i in range(5, 7)]
    )
    matrix = reference.group_matrix(
        data, audience="customer", gaps=["knowledge"], min_group_size=3
    )
    big = matrix[matrix["group"] == "Big"].iloc[0]
    small = matrix[matrix["group"] == "Small"].iloc[0]
    assert big["mean"] == 4.0 and not big["suppressed"]
    assert small["mean"] is None and small["note"] == "fewer than 3"


def test_segment_deltas_compare_each_segment_with_the_staff(scores):
    extra = frame([(20 + i, "customer", "Tiny", "knowledge", 2, 1) for i in range(2)])
    data = pd.concat([scores, extra], ignore_index=True)
    deltas = reference.segment_deltas(data, gaps=["knowledge"], min_group_size=3)
    retail = deltas[deltas["group"] == "Retail"].iloc[0]
    tiny = deltas[deltas["group"] == "Tiny"].iloc[0]
    assert retail["delta"] == pytest.approx(2.475)
    assert tiny["delta"] is None and tiny["note"] == "fewer than 3"


def test_allowed_groups_lists_only_groups_at_or_above_the_minimum():
    sizes = pd.DataFrame(
        {
            "audience": ["internal", "internal", "customer"],
            "group_id": [1, pd.NA, 7],
            "group": ["A", "No department", "S"],
            "n": [5, 5, 4],
        }
    )
    assert reference.allowed_groups(sizes, min_group_size=5) == {
        "internal": [1, None],
        "customer": [],
    }


def test_trend_gives_the_delta_per_study_from_sums():
    sums = pd.DataFrame(
        [
            (1, "Wave 1", "2025-01-01", 3, "internal", "knowledge", 4, 23.5, 141.25),
            (1, "Wave 1", "2025-01-01", 3, "customer", "knowledge", 5, 17.0, 61.5),
            (2, "Wave 2", "2026-01-01", 3, "internal", "knowledge", 2, 10.0, 50.0),
            (2, "Wave 2", "2026-01-01", 3, "customer", "knowledge", 5, 17.0, 61.5),
        ],
        columns=[
            "study_id",
            "name",
            "date",
            "min_group_size",
            "audience",
            "gap",
            "n",
            "total",
            "sumsq",
        ],
    )
    table = stats.trend(sums, gaps=["knowledge"])
    first, second = table.iloc[0], table.iloc[1]
    expected = scipy_stats.ttest_ind(STAFF_SCORES, CUSTOMER_SCORES, equal_var=False)
    assert first["delta"] == pytest.approx(2.475)
    assert first["p"] == pytest.approx(expected.pvalue)
    assert second["delta"] is None and second["note"] == "fewer than 3"


@pytest.mark.django_db
def test_alpha_per_gap_and_over_all_items_equals_the_raw_formula(org_a):
    """Listwise alpha from the SQL sums against numpy on the answer matrix,
    with its n and Feldt's interval (F quantiles from scipy)."""
    from scipy.stats import f as f_dist

    from analysis.dashboard import study_results
    from tests.analysis.conftest import submit

    rng = np.random.default_rng(7)
    study = factories.make_study(org_a, min_group_size=3)
    items = list(study.questionnaire.items.order_by("position"))
    rows = []
    for n in range(14):
        level = rng.integers(2, 7)
        values = [int(min(7, max(1, level + rng.integers(-1, 2)))) for _ in items]
        if n in (3, 8):
            values[0] = None  # "don't know": out of the first gap's and overall alpha
        submit(study, "internal", dict(zip(items, values, strict=True)))
        rows.append(values)
    table = study_results(study)["gap_table"].set_index("gap")

    def alpha(columns):
        matrix = np.array(
            [
                [r[c] for c in columns]
                for r in rows
                if all(r[c] is not None for c in columns)
            ],
            dtype=float,
        )
        n, k = matrix.shape
        value = (
            k
            / (k - 1)
            * (1 - matrix.var(axis=0, ddof=1).sum() / matrix.sum(axis=1).var(ddof=1))
        )
        low = 1 - (1 - value) * f_dist.ppf(0.975, n - 1, (n - 1) * (k - 1))
        high = 1 - (1 - value) * f_dist.ppf(0.025, n - 1, (n - 1) * (k - 1))
        return value, n, low, high

    gaps = {item.gap for item in items}
    for gap in [*gaps, "overall"]:
        columns = [
            i for i, item in enumerate(items) if gap == "overall" or item.gap == gap
        ]
        value, n, low, high = alpha(columns)
        row = table.loc[gap]
        assert row["internal_alpha"] == pytest.approx(value, rel=1e-9), gap
        assert row["internal_alpha_n"] == n
        assert (row["internal_alpha_low"], row["internal_alpha_high"]) == pytest.approx(
            (low, high), rel=1e-9
        )


def test_welch_gives_hedges_g_with_its_interval_and_glass_delta():
    staff, customers = [6, 5, 7, 4, 6, 7], [3, 2, 4, 5, 3, 2, 4]
    internal = {"n": 6, "mean": np.mean(staff), "sd": np.std(staff, ddof=1)}
    customer = {"n": 7, "mean": np.mean(customers), "sd": np.std(customers, ddof=1)}
    result = stats.welch(internal, customer)
    g, n1, n2 = result["g"], 6, 7
    se = math.sqrt((n1 + n2) / (n1 * n2) + g * g / (2 * (n1 + n2)))
    assert (result["g_low"], result["g_high"]) == pytest.approx(
        (g - 1.959963984540054 * se, g + 1.959963984540054 * se)
    )
    assert result["glass"] == pytest.approx(
        (np.mean(staff) - np.mean(customers)) / np.std(customers, ddof=1)
    )


@pytest.mark.parametrize(
    "pvalues",
    [[0.01, 0.04, 0.03, 0.2], [0.5], [0.001, 0.001, 0.9, None, 0.04], []],
)
def test_benjamini_hochberg_equals_statsmodels(pvalues):
    from statsmodels.stats.multitest import multipletests

    got = stats.bh_qvalues(pvalues)
    present = [p for p in pvalues if p is not None]
    if present:
        expected = iter(multipletests(present, method="fdr_bh")[1])
        for p, q in zip(pvalues, got, strict=True):
            assert q is None if p is None else q == pytest.approx(next(expected))
    assert len(got) == len(pvalues)


def test_the_ranking_puts_a_solid_gap_above_a_large_uncertain_one_both_ways():
    table = pd.DataFrame(
        [
            {"item_id": 1, "delta": 2.5, "ci_low": -0.5, "ci_high": 5.5},  # 6 people
            {"item_id": 2, "delta": 0.8, "ci_low": 0.6, "ci_high": 1.0},  # 600
            {"item_id": 3, "delta": -2.0, "ci_low": -2.6, "ci_high": -1.4},
            {"item_id": 4, "delta": None, "ci_low": None, "ci_high": None},
        ]
    )
    ranked = stats.rank_items(table)
    assert list(ranked["item_id"]) == [3, 2, 1, 4]
    assert list(ranked["direction"]) == ["under", "over", "over", None]


@pytest.mark.django_db
def test_a_gap_score_needs_half_of_the_gaps_items(org_a):
    """Four items per gap: a respondent who answered one (three "don't
    know") has no knowledge score — under the old rule their 7 would have
    pulled the mean up from 3.00 to 3.80 — while two of four counts."""
    from analysis.dashboard import study_results
    from tests.analysis.conftest import submit

    questionnaire = factories.make_questionnaire(items_per_gap=4)
    study = factories.make_study(org_a, questionnaire=questionnaire, min_group_size=3)
    knowledge = list(questionnaire.items.filter(gap="knowledge").order_by("position"))
    for _ in range(4):
        submit(study, "customer", {item: 3 for item in knowledge})
    submit(study, "customer", {knowledge[0]: 7, **{i: None for i in knowledge[1:]}})
    row = study_results(study)["gap_table"].set_index("gap").loc["knowledge"]
    assert (row["customer_n"], row["customer_mean"]) == (4, pytest.approx(3.0))
    submit(study, "customer", {knowledge[0]: 7, knowledge[1]: 7})  # two of four
    for _ in range(2):
        submit(study, "customer", {item: 3 for item in knowledge})
    row = study_results(study)["gap_table"].set_index("gap").loc["knowledge"]
    assert row["customer_n"] == 7
    assert row["customer_mean"] == pytest.approx((6 * 3 + 7) / 7)
