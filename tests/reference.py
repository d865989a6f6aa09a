"""The reference implementation of the analysis definitions, for the tests only.

The app computes every number from sums aggregated in SQL over the published
snapshots (`analysis.queries.study_sums`, `analysis.stats.*_from_sums`). These
are the same definitions written the plain way — one row per respondent, read
straight from every submitted response with pandas — so that the tests can
check the production numbers against an independent computation. Nothing in
`analysis/` calls them.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Count, F, Q, Sum

from analysis.queries import ALL, NO_DEPARTMENT, NO_SEGMENT, Cut, table_names
from analysis.stats import (
    AUDIENCES,
    CATEGORIES,
    CUSTOMER,
    INTERNAL,
    MATRIX_COLUMNS,
    OVERALL,
    ROUNDING,
    SEGMENT_DELTA_COLUMNS,
    _alpha,
    _frame,
    _gap_row,
    _matrix_cell,
    _segment_delta,
    _suppressed_side,
    delighted_from,
    fewer_than,
    headline_from_counts,
)
from surveys.models import Answer, Audience, Item, Response, Study

# --- queries: one row per respondent, from the live responses ------------------


def _response_q(study: Study, cut: Cut, prefix: str = "") -> Q:
    """Submitted responses of the study, within the cut."""
    p = prefix
    internal = Q(**{f"{p}audience": Audience.INTERNAL})
    if cut.department_id is not None:
        internal &= Q(**{f"{p}department_id": cut.department_id})
    customer = Q(**{f"{p}audience": Audience.CUSTOMER})
    if cut.segment_id is not None:
        customer &= Q(**{f"{p}segment_id": cut.segment_id})
    return Q(**{f"{p}study": study, f"{p}status": Response.Status.SUBMITTED}) & (
        internal | customer
    )


def _answers(study: Study, cut: Cut):
    return Answer.objects.filter(
        _response_q(study, cut, "response__"), value__isnull=False
    )


def _group_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Fold department (staff) and segment (customers) into one group column."""
    internal = frame["audience"] == Audience.INTERNAL
    frame["group_id"] = frame["segment_id"].where(~internal, frame["department_id"])
    frame["group"] = (
        frame["segment"]
        .where(~internal, frame["department"])
        .fillna(
            pd.Series(NO_SEGMENT, index=frame.index).where(~internal, NO_DEPARTMENT)
        )
    )
    return frame.drop(columns=["department_id", "segment_id", "department", "segment"])


RESPONDENT_COLUMNS = [
    "response_id",
    "audience",
    "group_id",
    "group",
    "gap",
    "total",
    "n_items",
    "score",
    "k",
    "k_total",
]


def _scored(scores: pd.DataFrame) -> pd.DataFrame:
    """The gap scores that count: the respondent answered at least half of the
    gap's k items (rounded up: 2 · answered ≥ k). Frames built by hand without
    k count every row."""
    if "k" not in scores.columns:
        return scores
    return scores[scores["n_items"] * 2 >= scores["k"]]


def respondent_gap_scores(study: Study, cut: Cut = ALL) -> pd.DataFrame:
    """Each respondent's gap scores, aggregated in SQL.

    One row per (response, gap) with at least one answered item:
    response_id, audience, group_id, group (department or segment name),
    gap, total (sum of answered values), n_items (answered items), score
    (total / n_items, the mean of the answered items on the scale's units).
    Summing then dividing keeps the mean exact on every database (PostgreSQL's
    AVG of an integer is a numeric).

    Two queries: the GROUP BY (response, gap) over the answers, and the
    respondents' audience and group (one row per response); grouping the
    answers by the two keys alone is twice as fast as carrying the group
    columns through the sort.
    """
    sums = (
        _answers(study, cut)
        .values_list("response_id", "item__gap")
        .annotate(total=Sum("value"), n_items=Count("value"))
        .order_by()
    )
    frame = pd.DataFrame.from_records(
        list(sums), columns=["response_id", "gap", "total", "n_items"]
    ).astype(
        {"response_id": "int64", "gap": "object", "total": "int64", "n_items": "int64"}
    )
    respondents = pd.DataFrame.from_records(
        list(
            Response.objects.filter(_response_q(study, cut)).values_list(
                "id",
                "audience",
                "department_id",
                "segment_id",
                "department__name",
                "segment__name",
            )
        ),
        columns=[
            "response_id",
            "audience",
            "department_id",
            "segment_id",
            "department",
            "segment",
        ],
    ).astype(
        {
            "response_id": "int64",
            "audience": "object",
            "department_id": "Int64",
            "segment_id": "Int64",
            "department": "object",
            "segment": "object",
        }
    )
    frame = _group_columns(frame.merge(respondents, on="response_id"))
    frame["score"] = frame["total"] / frame["n_items"]
    sizes = dict(
        Item.objects.filter(questionnaire_id=study.questionnaire_id)
        .values_list("gap")
        .annotate(k=Count("id"))
        .order_by()
    )
    frame["k"] = frame["gap"].map(sizes).astype("int64")
    frame["k_total"] = sum(sizes.values())
    return frame[RESPONDENT_COLUMNS].sort_values(
        ["response_id", "gap"], ignore_index=True
    )


def item_sums(study: Study, cut: Cut = ALL) -> pd.DataFrame:
    """Per item and audience: n, sum and sum of squares of the answered values.

    Columns: item_id, audience, n, total, sumsq (integers; exact mean, SD and
    Welch's test follow from them).
    """
    rows = (
        _answers(study, cut)
        .values_list("item_id", "response__audience")
        .annotate(
            n=Count("value"),
            total=Sum("value"),
            sumsq=Sum(F("value") * F("value")),
        )
        .order_by()
    )
    return _sums_frame(rows)


def _sums_frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(
        list(rows), columns=["item_id", "audience", "n", "total", "sumsq"]
    )
    return frame.astype(
        {
            "item_id": "int64",
            "audience": "object",
            "n": "int64",
            "total": "int64",
            "sumsq": "int64",
        }
    )


def _cut_sql(cut: Cut) -> tuple[str, list]:
    """The cut as SQL on a response aliased `r`: (condition, parameters)."""
    internal, customer = "r.audience = %s", "r.audience = %s"
    params: list = [Audience.INTERNAL]
    if cut.department_id is not None:
        internal += " AND r.department_id = %s"
        params.append(cut.department_id)
    params.append(Audience.CUSTOMER)
    if cut.segment_id is not None:
        customer += " AND r.segment_id = %s"
        params.append(cut.segment_id)
    return f"(({internal}) OR ({customer}))", params


def complete_item_sums(study: Study, cut: Cut = ALL) -> pd.DataFrame:
    """Item sums over the respondents who answered every item of the item's gap.

    Cronbach's alpha uses listwise deletion: only respondents with no "don't
    know" in a gap count for that gap's alpha. One statement: the complete
    (response, gap) pairs are found with GROUP BY … HAVING COUNT = the number
    of items in the gap, and joined back to the answers. Columns as item_sums.
    """
    cut_sql, cut_params = _cut_sql(cut)
    # Table names come from model metadata, values are parameters.
    sql = """
        WITH answered AS (
            SELECT a.response_id AS response_id, a.item_id AS item_id,
                   a.value AS value, i.gap AS gap, r.audience AS audience
            FROM {answer} a
            JOIN {response} r ON a.response_id = r.id
            JOIN {item} i ON a.item_id = i.id
            WHERE r.study_id = %s AND r.status = %s AND a.value IS NOT NULL
              AND {cut}
        ),
        sizes AS (
            SELECT gap, COUNT(*) AS k FROM {item}
            WHERE questionnaire_id = %s GROUP BY gap HAVING COUNT(*) >= 2
        ),
        complete AS (
            SELECT x.response_id AS response_id, x.gap AS gap
            FROM answered x JOIN sizes s ON x.gap = s.gap
            GROUP BY x.response_id, x.gap, s.k
            HAVING COUNT(*) = s.k
        )
        SELECT x.item_id, x.audience, COUNT(*), SUM(x.value),
               SUM(x.value * x.value)
        FROM answered x
        JOIN complete c ON c.response_id = x.response_id AND c.gap = x.gap
        GROUP BY x.item_id, x.audience
    """.format(cut=cut_sql, **table_names())  # noqa: S608
    params = [study.pk, Response.Status.SUBMITTED, *cut_params, study.questionnaire_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _sums_frame(rows)


# --- statistics on respondent rows ------------------------------------------


def describe(values: Sequence[float] | pd.Series) -> dict:
    """n, mean and SD (ddof=1) of a sample; mean None if empty, SD None if n < 2."""
    array = np.asarray(values, dtype=float)
    n = int(array.size)
    mean = float(array.mean()) if n else None
    sd = float(array.std(ddof=1)) if n >= 2 else None
    return {"n": n, "mean": mean, "sd": sd}


def overall_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Each respondent's overall score: the mean of all their answered items.

    In: respondent gap scores (response_id, audience, group_id, group, total,
    n_items). Out: response_id, audience, group_id, group, total, n_items,
    score — exact, as Σ totals / Σ answered items, not a mean of gap means.
    """
    columns = ["response_id", "audience", "group_id", "group", "total", "n_items"]
    if scores.empty:
        return pd.DataFrame(columns=[*columns, "score"])
    frame = scores.groupby("response_id", as_index=False, dropna=False).agg(
        audience=("audience", "first"),
        group_id=("group_id", "first"),
        group=("group", "first"),
        total=("total", "sum"),
        n_items=("n_items", "sum"),
    )
    frame["score"] = frame["total"] / frame["n_items"]
    if "k_total" in scores.columns:
        # At least half of all the questionnaire's items, as for a gap.
        frame = frame[frame["n_items"] * 2 >= int(scores["k_total"].iloc[0])]
    return frame[[*columns, "score"]]


def _side(values: pd.Series, min_group_size: int) -> dict:
    return _suppressed_side(describe(values), min_group_size)


def gap_table(
    scores: pd.DataFrame,
    *,
    gaps: Sequence[str],
    min_group_size: int,
    alpha: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per gap, then one "overall" row.

    In: respondent gap scores. Out columns: gap, {internal,customer}_{n, mean,
    sd, low, high (95 % interval of the mean), suppressed, note}, delta,
    ci_low, ci_high, ci_half, p, df, g, internal_alpha, customer_alpha.
    n is the number of respondents with at least one answered item in the gap.
    """
    rows = []
    overall = overall_scores(scores)
    for gap in [*gaps, OVERALL]:
        source = (
            overall
            if gap == OVERALL
            else _scored(scores)[_scored(scores)["gap"] == gap]
        )
        sides = {
            audience: _side(
                source.loc[source["audience"] == audience, "score"], min_group_size
            )
            for audience in AUDIENCES
        }
        rows.append(_gap_row(gap, sides, min_group_size, alpha))
    return _frame(rows)


def cronbach_alpha(
    scores: pd.DataFrame, complete_sums: pd.DataFrame, items: pd.DataFrame
) -> pd.DataFrame:
    """Cronbach's alpha per gap and audience, listwise (complete respondents).

    alpha = k / (k − 1) × (1 − Σ var(item) / var(total)), sample variances,
    over the respondents who answered all k items of the gap. In: respondent
    gap scores (for the totals: rows with n_items == k), complete item sums
    (item_id, audience, n, total, sumsq) and items (item_id, gap).
    Out: gap, audience, k, n, alpha — alpha None with fewer than 2 items,
    fewer than 2 complete respondents, or a total with no variance.
    """
    rows = []
    per_gap = items.groupby("gap")["item_id"].apply(list).to_dict()
    cells = dict(list(scores.groupby(["gap", "audience"])))
    for gap, item_ids in per_gap.items():
        k = len(item_ids)
        for audience in AUDIENCES:
            cell = cells.get((gap, audience))
            totals = (
                cell.loc[cell["n_items"] == k, "total"]
                if cell is not None
                else pd.Series(dtype=float)
            )
            n = int(totals.size)
            alpha = None
            if k >= 2 and n >= 2:
                total_var = float(np.var(totals.to_numpy(dtype=float), ddof=1))
                alpha = _alpha(total_var, complete_sums, item_ids, audience)
            rows.append(
                {"gap": gap, "audience": audience, "k": k, "n": n, "alpha": alpha}
            )
    return _frame(rows, ["gap", "audience", "k", "n", "alpha"])


def headline(scores: pd.DataFrame, *, midpoint: float, min_group_size: int) -> dict:
    """The headline from respondents' overall scores, counted one by one."""
    overall = overall_scores(scores)
    counts = []
    for audience in AUDIENCES:
        values = overall.loc[overall["audience"] == audience, "score"]
        counts.append((len(values), int((values > midpoint + ROUNDING).sum())))
    return headline_from_counts(*counts, min_group_size=min_group_size)


def classify(score: float, *, midpoint: float, scale_min: int, scale_max: int) -> str:
    """The distribution category of one score (an answer or a respondent's mean).

    A respondent's gap score is a mean, not an answer, so the boxes become
    thresholds on the mean:
    - disappointed: score < midpoint;
    - neutral: score == midpoint (a mean exactly on the midpoint);
    - delighted: score ≥ the top box (scale_max), or ≥ the second box from the
      top (scale_max − 1) on scales of 7 or more points — i.e. the respondent's
      answers average inside the top box(es);
    - satisfied: above the midpoint but below the delighted threshold.
    """
    return str(
        classify_many(
            np.array([score]),
            midpoint=midpoint,
            scale_min=scale_min,
            scale_max=scale_max,
        )[0]
    )


def classify_many(
    scores: np.ndarray, *, midpoint: float, scale_min: int, scale_max: int
) -> np.ndarray:
    """`classify` for an array of scores at once (same thresholds)."""
    top = delighted_from(scale_min, scale_max)
    return np.select(
        [
            scores < midpoint - ROUNDING,
            scores <= midpoint + ROUNDING,
            scores >= top - ROUNDING,
        ],
        ["disappointed", "neutral", "delighted"],
        default="satisfied",
    )


def distribution(
    scores: pd.DataFrame,
    *,
    gaps: Sequence[str],
    scale_min: int,
    scale_max: int,
    min_group_size: int,
) -> pd.DataFrame:
    """Shares of respondents per category, per gap (and overall) and audience.

    In: respondent gap scores. Out: gap, audience, n, suppressed, note, and
    disappointed, neutral, satisfied, delighted as shares 0–1 (None when
    suppressed); categories as in `classify`.
    """
    midpoint = (scale_min + scale_max) / 2
    overall = overall_scores(scores)
    rows = []
    for gap in [*gaps, OVERALL]:
        source = (
            overall
            if gap == OVERALL
            else _scored(scores)[_scored(scores)["gap"] == gap]
        )
        for audience in AUDIENCES:
            values = source.loc[source["audience"] == audience, "score"]
            n = int(values.size)
            row = {
                "gap": gap,
                "audience": audience,
                "n": n,
                "suppressed": n < min_group_size,
                "note": fewer_than(min_group_size) if n < min_group_size else "",
            }
            counts = pd.Series(
                classify_many(
                    values.to_numpy(dtype=float),
                    midpoint=midpoint,
                    scale_min=scale_min,
                    scale_max=scale_max,
                )
            ).value_counts()
            for category in CATEGORIES:
                row[category] = (
                    None if row["suppressed"] else int(counts.get(category, 0)) / n
                )
            rows.append(row)
    return _frame(rows)


def group_sizes(scores: pd.DataFrame) -> pd.DataFrame:
    """Respondents per audience and group. Out: audience, group_id, group, n."""
    if scores.empty:
        return pd.DataFrame(columns=["audience", "group_id", "group", "n"])
    return (
        scores.groupby(["audience", "group"], dropna=False)
        .agg(group_id=("group_id", "first"), n=("response_id", "nunique"))
        .reset_index()[["audience", "group_id", "group", "n"]]
    )


def allowed_groups(sizes: pd.DataFrame, *, min_group_size: int) -> dict:
    """{audience: [group ids at or above the minimum size]} (None = no group)."""
    allowed: dict[str, list] = {audience: [] for audience in AUDIENCES}
    for row in sizes.itertuples(index=False):
        if row.n >= min_group_size:
            group_id = None if pd.isna(row.group_id) else int(row.group_id)
            allowed[row.audience].append(group_id)
    return allowed


def group_matrix(
    scores: pd.DataFrame,
    *,
    audience: str,
    gaps: Sequence[str],
    min_group_size: int,
) -> pd.DataFrame:
    """Group × gap means of one audience (departments for staff, segments for
    customers), suppressed below the minimum size.

    Out: group, gap, n, mean (None when suppressed), suppressed, note; groups
    in name order, gaps in the given order.
    """
    part = _scored(scores)[_scored(scores)["audience"] == audience]
    cells = dict(list(part.groupby(["group", "gap"])["score"]))
    empty = pd.Series(dtype=float)
    rows = []
    for group in sorted(part["group"].unique(), key=str):
        for gap in gaps:
            values = cells.get((group, gap), empty)
            mean = float(values.mean()) if values.size else None
            rows.append(
                _matrix_cell(group, gap, int(values.size), mean, min_group_size)
            )
    return _frame(rows, MATRIX_COLUMNS)


def segment_deltas(
    scores: pd.DataFrame, *, gaps: Sequence[str], min_group_size: int
) -> pd.DataFrame:
    """Δ of each customer segment against the staff: staff mean − segment mean.

    Out: group, gap, n (segment), staff_n, delta, ci_low, ci_high, p, g,
    suppressed, note. Suppressed when the segment or the staff is under the
    minimum size.
    """
    staff = _scored(scores)[_scored(scores)["audience"] == INTERNAL]
    customers = _scored(scores)[_scored(scores)["audience"] == CUSTOMER]
    staff_sides = {
        gap: _side(staff.loc[staff["gap"] == gap, "score"], min_group_size)
        for gap in gaps
    }
    cells = dict(list(customers.groupby(["group", "gap"])["score"]))
    empty = pd.Series(dtype=float)
    rows = []
    for group in sorted(customers["group"].unique(), key=str):
        for gap in gaps:
            internal = staff_sides[gap]
            customer = _side(cells.get((group, gap), empty), min_group_size)
            rows.append(_segment_delta(group, gap, internal, customer, min_group_size))
    return _frame(rows, SEGMENT_DELTA_COLUMNS)


def answer_distribution(
    study: Study, cut: Cut = ALL, *, gaps: Sequence[str], min_group_size: int
) -> pd.DataFrame:
    """The four categories counted answer by answer from every submitted
    response: below the midpoint, at it, the top box (two on 7+ points)."""
    questionnaire = study.questionnaire
    low_high = questionnaire.scale_min + questionnaire.scale_max
    top = delighted_from(questionnaire.scale_min, questionnaire.scale_max)
    counts: dict = {}
    for audience, gap, value in _answers(study, cut).values_list(
        "response__audience", "item__gap", "value"
    ):
        for key in ((gap, audience), (OVERALL, audience)):
            cell = counts.setdefault(key, dict.fromkeys(CATEGORIES, 0))
            if 2 * value < low_high:
                cell["disappointed"] += 1
            elif 2 * value == low_high:
                cell["neutral"] += 1
            elif value >= top:
                cell["delighted"] += 1
            else:
                cell["satisfied"] += 1
    rows = []
    for gap in [*gaps, OVERALL]:
        for audience in AUDIENCES:
            cell = counts.get((gap, audience), dict.fromkeys(CATEGORIES, 0))
            n = sum(cell.values())
            suppressed = n < min_group_size
            row = {
                "gap": gap,
                "audience": audience,
                "n": n,
                "suppressed": suppressed,
                "note": fewer_than(min_group_size) if suppressed else "",
            }
            for category in CATEGORIES:
                row[category] = None if suppressed else cell[category] / n
            rows.append(row)
    return _frame(rows)
