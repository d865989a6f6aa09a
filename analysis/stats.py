"""The statistics of the gap dashboard: pure functions on DataFrames, no Django.

Inputs come from analysis.queries (respondent gap scores, item sums); outputs are
DataFrames whose columns are named in each docstring. Missing numbers are None
(in object columns) or NaN (in float columns); nothing here divides by zero.

Conventions:
- SD is the sample standard deviation (ddof=1); with n < 2 it is undefined (None).
- Δ (delta) = internal mean − customer mean; positive means the organization
  rates itself higher than its customers do.
- Welch's t-test as scipy.stats.ttest_ind(equal_var=False); the 95 % interval
  of Δ uses the Welch–Satterthwaite degrees of freedom.
- Hedges' g = Δ / pooled SD × J, J = 1 − 3 / (4 (n1 + n2) − 9).
- A cell (gap × audience, item × audience, group × gap) with n below the
  study's minimum group size is suppressed: its numbers are None and its note
  reads "fewer than N".
"""

import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import pandas as pd
from scipy import special

INTERNAL = "internal"
CUSTOMER = "customer"
AUDIENCES = (INTERNAL, CUSTOMER)
OVERALL = "overall"
CATEGORIES = ("disappointed", "neutral", "satisfied", "delighted")
# Scores are ratios of small integers; this only absorbs float rounding.
ROUNDING = 1e-9
Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal


def fewer_than(min_group_size: int) -> str:
    """The label that stands in for a suppressed number."""
    return f"fewer than {min_group_size}"


HIDDEN = "hidden to protect a smaller group"
COMPARISON_KEYS = (
    "delta",
    "ci_low",
    "ci_high",
    "ci_half",
    "p",
    "q",
    "df",
    "g",
    "g_low",
    "g_high",
    "glass",
)


def hidden_note() -> str:
    """The note of a group that is large enough but hidden so that a smaller
    one cannot be worked out from it (complementary suppression)."""
    return HIDDEN


def mask_sides(frame: pd.DataFrame, shown, *, note: str = HIDDEN) -> pd.DataFrame:
    """Hide the audiences of a gap or item table that the published snapshot
    does not show: `shown(row, audience)` False hides that side (mean, SD,
    interval) and every comparison of the row; n stays for the caller, which
    never shows it for a suppressed side."""
    if frame.empty:
        return frame
    rows = frame.to_dict("records")
    for row in rows:
        for audience in AUDIENCES:
            if row[f"{audience}_suppressed"] or shown(row, audience):
                continue
            row[f"{audience}_suppressed"] = True
            row[f"{audience}_note"] = note
            for key in ("mean", "sd", "low", "high", "alpha"):
                if f"{audience}_{key}" in row:
                    row[f"{audience}_{key}"] = None
        if row["internal_suppressed"] or row["customer_suppressed"]:
            for key in COMPARISON_KEYS:
                if key in row:
                    row[key] = None
    return _frame(rows, list(frame.columns))


def _frame(rows: list[dict], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows as an object frame, so a missing number stays None (not NaN)."""
    if not rows:
        return pd.DataFrame(columns=list(columns or []), dtype=object)
    frame = pd.DataFrame(rows, dtype=object)
    return frame[list(columns)] if columns else frame


def _none(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


# --- summaries ---------------------------------------------------------------


def describe_sums(n: int, total: float, sumsq: float) -> dict:
    """n, mean and SD (ddof=1) from n, Σx and Σx².

    With integer sums (item answers) the variance is computed exactly as
    (n Σx² − (Σx)²) / (n (n − 1)); a zero spread gives SD 0.0, never a
    negative or NaN.
    """
    n = int(n)
    if n == 0:
        return {"n": 0, "mean": None, "sd": None}
    mean = total / n
    if n < 2:
        return {"n": n, "mean": float(mean), "sd": None}
    if isinstance(total, int | np.integer) and isinstance(sumsq, int | np.integer):
        numerator = n * int(sumsq) - int(total) ** 2
    else:
        numerator = n * float(sumsq) - float(total) ** 2
        if abs(numerator) <= ROUNDING * max(1.0, n * float(sumsq)):
            numerator = 0.0
    variance = max(numerator, 0) / (n * (n - 1))
    return {"n": n, "mean": float(mean), "sd": math.sqrt(variance)}


# Student's t and F through scipy.special: what scipy.stats.t.ppf, t.sf and
# f.ppf compute inside (the same values), without the per-call overhead of the
# distribution objects (≈0.2 ms a call; the worker makes thousands per snapshot).


def t_quantile(q: float, df: float) -> float:
    """scipy.stats.t.ppf(q, df)."""
    return float(special.stdtrit(df, q))


def t_two_sided_p(t: float, df: float) -> float:
    """The two-sided p of a t statistic: 2·scipy.stats.t.sf(|t|, df)."""
    return float(2 * special.stdtr(df, -abs(t)))


def mean_interval(n: int, mean: float | None, sd: float | None) -> tuple:
    """The 95 % t interval of a mean, (low, high); (None, None) if undefined."""
    if mean is None or sd is None or n < 2:
        return None, None
    half = t_quantile(0.975, n - 1) * sd / math.sqrt(n)
    return mean - half, mean + half


def welch(internal: dict, customer: dict) -> dict:
    """Δ, its Welch 95 % interval, p-value, df, Hedges' g with its 95 %
    interval (g_low, g_high) and Glass's Δ (glass: Δ over the customers' SD).

    Inputs: two dicts with n, mean, sd (sample SD). Output keys: delta, ci_low,
    ci_high, ci_half, p, df, g. Δ needs a mean on both sides. The interval and
    p need n ≥ 2 on both sides and some spread: when both SDs are 0 the
    standard error is 0, the t statistic is undefined, and interval, p and g
    are None (rather than scipy's nan or a false certainty).
    """
    out = {
        "delta": None,
        "ci_low": None,
        "ci_high": None,
        "ci_half": None,
        "p": None,
        "df": None,
        "g": None,
        "g_low": None,
        "g_high": None,
        "glass": None,
    }
    n1, m1, s1 = internal["n"], internal["mean"], internal["sd"]
    n2, m2, s2 = customer["n"], customer["mean"], customer["sd"]
    if m1 is None or m2 is None:
        return out
    out["delta"] = m1 - m2
    if s1 is None or s2 is None or n1 < 2 or n2 < 2:
        return out
    v1, v2 = s1 * s1 / n1, s2 * s2 / n2
    se = math.sqrt(v1 + v2)
    if se > 0:
        df = (v1 + v2) ** 2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))
        half = t_quantile(0.975, df) * se
        out.update(
            ci_low=out["delta"] - half,
            ci_high=out["delta"] + half,
            ci_half=half,
            p=_none(t_two_sided_p(out["delta"] / se, df)),
            df=df,
        )
    out["g"] = hedges_g(internal, customer)
    if out["g"] is not None:
        out["g_low"], out["g_high"] = hedges_g_interval(out["g"], n1, n2)
    if s2 > 0:
        # Glass's Δ: standardized by the customers' SD alone, which suits
        # Welch's test (the two SDs are not assumed equal).
        out["glass"] = out["delta"] / s2
    return out


def hedges_g_interval(g: float, n1: int, n2: int) -> tuple[float, float]:
    """The 95 % interval of Hedges' g by the Hedges–Olkin large-sample
    approximation: g ± z · √((n1 + n2) / (n1 n2) + g² / (2 (n1 + n2)))."""
    se = math.sqrt((n1 + n2) / (n1 * n2) + g * g / (2 * (n1 + n2)))
    return g - Z95 * se, g + Z95 * se


def hedges_g(internal: dict, customer: dict) -> float | None:
    """Hedges' g: Δ over the pooled SD, times J = 1 − 3 / (4 (n1 + n2) − 9).

    None when a mean or SD is missing or the pooled SD is 0.
    """
    n1, m1, s1 = internal["n"], internal["mean"], internal["sd"]
    n2, m2, s2 = customer["n"], customer["mean"], customer["sd"]
    if None in (m1, m2, s1, s2) or n1 + n2 < 3:
        return None
    pooled = math.sqrt(((n1 - 1) * s1 * s1 + (n2 - 1) * s2 * s2) / (n1 + n2 - 2))
    if pooled == 0:
        return None
    j = 1 - 3 / (4 * (n1 + n2) - 9)
    return (m1 - m2) / pooled * j


# --- respondent scores -------------------------------------------------------


def _suppressed_side(summary: dict, min_group_size: int) -> dict:
    """A describe() summary, its mean and SD hidden below the minimum size, with
    the 95 % interval of its mean (low, high)."""
    summary["suppressed"] = summary["n"] < min_group_size
    if summary["suppressed"]:
        summary.update(mean=None, sd=None)
    summary["low"], summary["high"] = mean_interval(
        summary["n"], summary["mean"], summary["sd"]
    )
    return summary


NOT_ENOUGH = "not enough answers"


def _small_note(n: int, min_group_size: int) -> str:
    """Why a side shows no number: no one with a score (or only "don't
    know"), or a group below the minimum size."""
    return NOT_ENOUGH if n == 0 else fewer_than(min_group_size)


def _row(internal: dict, customer: dict, min_group_size: int) -> dict:
    row = {}
    for prefix, side in (("internal", internal), ("customer", customer)):
        row[f"{prefix}_n"] = side["n"]
        row[f"{prefix}_mean"] = side["mean"]
        row[f"{prefix}_sd"] = side["sd"]
        row[f"{prefix}_low"] = side["low"]
        row[f"{prefix}_high"] = side["high"]
        row[f"{prefix}_suppressed"] = side["suppressed"]
        row[f"{prefix}_note"] = (
            _small_note(side["n"], min_group_size) if side["suppressed"] else ""
        )
    row.update(welch(internal, customer))
    return row


def _gap_row(
    gap: str, sides: dict, min_group_size: int, alpha: pd.DataFrame | None
) -> dict:
    """A gap table row from the two audiences' sides, with each audience's alpha
    (None where that audience is suppressed or has none)."""
    row = {"gap": gap, **_row(sides[INTERNAL], sides[CUSTOMER], min_group_size)}
    for audience in AUDIENCES:
        found = {"alpha": None, "alpha_n": None, "alpha_low": None, "alpha_high": None}
        if alpha is not None and not sides[audience]["suppressed"]:
            match = alpha[(alpha["gap"] == gap) & (alpha["audience"] == audience)]
            if not match.empty:
                value = _none(match["alpha"].iloc[0])
                n, k = int(match["n"].iloc[0]), int(match["k"].iloc[0])
                low, high = feldt_interval(value, n, k)
                found = {
                    "alpha": value,
                    "alpha_n": n,
                    "alpha_low": low,
                    "alpha_high": high,
                }
        row.update({f"{audience}_{key}": value for key, value in found.items()})
    return row


ALPHA_LOW = 0.7


def feldt_interval(alpha: float | None, n: int, k: int) -> tuple:
    """Feldt's 95 % interval of Cronbach's alpha from n respondents and k
    items: 1 − (1 − α) · F(0.975 / 0.025; n − 1, (n − 1)(k − 1))."""
    if alpha is None or n < 3 or k < 2:
        return None, None
    df1, df2 = n - 1, (n - 1) * (k - 1)
    low = 1 - (1 - alpha) * float(special.fdtri(df1, df2, 0.975))
    high = 1 - (1 - alpha) * float(special.fdtri(df1, df2, 0.025))
    return float(low), float(high)


def item_table(
    sums: pd.DataFrame, items: pd.DataFrame, *, min_group_size: int
) -> pd.DataFrame:
    """One row per item, in questionnaire order, on the item answers.

    In: item sums (item_id, audience, n, total, sumsq) and items (item_id, gap,
    position, internal_text, customer_text). Out: the item columns plus the
    gap_table columns (no alpha).
    """
    rows = []
    # One pass over the sums (first row per item and audience), not a frame
    # filter per cell.
    cells: dict[tuple, tuple] = {}
    for row in sums[["item_id", "audience", "n", "total", "sumsq"]].itertuples(
        index=False
    ):
        cells.setdefault((row.item_id, row.audience), row)
    for item in items.itertuples(index=False):
        sides = {}
        for audience in AUDIENCES:
            first = cells.get((item.item_id, audience))
            if first is None:
                summary = describe_sums(0, 0, 0)
            else:
                summary = describe_sums(
                    int(first.n), int(first.total), int(first.sumsq)
                )
            sides[audience] = _suppressed_side(summary, min_group_size)
        rows.append(
            {
                "item_id": item.item_id,
                "gap": item.gap,
                "position": item.position,
                "internal_text": item.internal_text,
                "customer_text": item.customer_text,
                **_row(sides[INTERNAL], sides[CUSTOMER], min_group_size),
            }
        )
    return _frame(
        rows, None if rows else ["item_id", "gap", "position", "internal_text"]
    )


def _always(*_) -> bool:
    return True


def rank_items(table: pd.DataFrame) -> pd.DataFrame:
    """Items ranked by how surely they differ, in both directions.

    The key is the end of Δ's 95 % interval nearest zero, in absolute value
    (the lower end for a positive Δ, the upper for a negative one; 0 when the
    interval holds zero), so a large Δ from a handful of people does not
    outrank a solid one from hundreds; ties go to the larger |Δ|. Adds
    `direction`: "over" (staff rate the service higher than customers) or
    "under". Items without an interval come last.
    """
    if table.empty:
        return table.assign(direction=pd.Series(dtype=object))
    rows = table.to_dict("records")
    for row in rows:
        delta, low, high = row["delta"], row["ci_low"], row["ci_high"]
        if _number(delta) is None:
            row["direction"], row["_key"] = None, (-1.0, 0.0)
            continue
        row["direction"] = "over" if delta > 0 else "under"
        surely = 0.0
        if _number(low) is not None and _number(high) is not None:
            surely = low if low > 0 else -high if high < 0 else 0.0
        row["_key"] = (surely, abs(delta))
    rows.sort(key=lambda r: r["_key"], reverse=True)
    for row in rows:
        del row["_key"]
    return _frame(rows, [*table.columns, "direction"])


def _number(value) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def bh_qvalues(pvalues: Sequence) -> list:
    """Benjamini–Hochberg adjusted p-values (q-values) of one table's tests,
    in the input order; None stays None and is not counted as a test."""
    found = [(i, float(p)) for i, p in enumerate(pvalues) if _number(p) is not None]
    out: list = [None] * len(pvalues)
    m = len(found)
    running = 1.0
    for rank, (i, p) in reversed(list(enumerate(sorted(found, key=lambda x: x[1]), 1))):
        running = min(running, p * m / rank)
        out[i] = min(1.0, running)
    return out


def with_qvalues(table: pd.DataFrame, include=_always) -> pd.DataFrame:
    """The table with a `q` column: the p-values of its rows (those
    `include` accepts) adjusted together."""
    if table.empty:
        return table.assign(q=pd.Series(dtype=object))
    rows = table.to_dict("records")
    chosen = [row for row in rows if include(row)]
    for row in rows:
        row["q"] = None
    for row, q in zip(chosen, bh_qvalues([r.get("p") for r in chosen]), strict=True):
        row["q"] = q
    return _frame(rows, [*table.columns, "q"])


def _alpha(
    total_var: float, complete_sums: pd.DataFrame, item_ids: list, audience: str
) -> float | None:
    """k / (k − 1) × (1 − Σ var(item) / var(total)) for one gap and audience;
    None when the total has no variance or an item has no complete answers."""
    k = len(item_ids)
    part = complete_sums[
        complete_sums["item_id"].isin(item_ids)
        & (complete_sums["audience"] == audience)
    ]
    if total_var <= 0 or len(part) != k:
        return None
    item_var = sum(
        describe_sums(int(r.n), int(r.total), int(r.sumsq))["sd"] ** 2
        for r in part.itertuples(index=False)
    )
    return k / (k - 1) * (1 - item_var / total_var)


# --- headline and distribution ------------------------------------------------


def delighted_from(scale_min: int, scale_max: int) -> int:
    """The lowest mean that counts as delighted: the top box, or the top two
    boxes on scales of 7 points or more."""
    points = scale_max - scale_min + 1
    return scale_max - 1 if points >= 7 else scale_max


# --- cuts ----------------------------------------------------------------------


MATRIX_COLUMNS = ["group", "gap", "n", "mean", "suppressed", "note"]


def _matrix_cell(
    group, gap: str, n: int, mean, min_group_size: int, hidden: bool = False
) -> dict:
    """One group × gap cell, its mean hidden below the minimum size (or when
    `hidden`, to protect a smaller group)."""
    suppressed = n < min_group_size or hidden
    note = fewer_than(min_group_size) if n < min_group_size else HIDDEN
    return {
        "group": group,
        "gap": gap,
        "n": n,
        "mean": None if suppressed else mean,
        "suppressed": suppressed,
        "note": note if suppressed else "",
    }


SEGMENT_DELTA_COLUMNS = [
    "group",
    "gap",
    "n",
    "staff_n",
    "delta",
    "ci_low",
    "ci_high",
    "p",
    "g",
    "suppressed",
    "note",
]


def _segment_delta(
    group,
    gap: str,
    internal: dict,
    customer: dict,
    min_group_size: int,
    hidden: bool = False,
) -> dict:
    """Staff against one segment in one gap; suppressed when either side is
    (or when `hidden`, to protect a smaller group)."""
    small = internal["suppressed"] or customer["suppressed"]
    suppressed = small or hidden
    result = welch(internal, customer)
    if suppressed:
        result = dict.fromkeys(("delta", "ci_low", "ci_high", "p", "g"))
    return {
        "group": group,
        "gap": gap,
        "n": customer["n"],
        "staff_n": internal["n"],
        **{key: result[key] for key in ("delta", "ci_low", "ci_high", "p", "g")},
        "suppressed": suppressed,
        "note": (fewer_than(min_group_size) if small else HIDDEN) if suppressed else "",
    }


# --- trend ---------------------------------------------------------------------


def trend(sums: pd.DataFrame, *, gaps: Sequence[str]) -> pd.DataFrame:
    """Gap Δ per study, in date order, from per-study sums of respondent scores.

    In: study_id, name, date, min_group_size, audience, gap, n, total, sumsq
    (sums of respondent gap scores). Out: study_id, name, date, gap,
    internal_n, customer_n, delta, ci_low, ci_high, ci_half, p, suppressed,
    note — a cell is suppressed under that study's own minimum group size.
    """
    rows = []
    studies = sums.drop_duplicates("study_id")[
        ["study_id", "name", "date", "min_group_size"]
    ]
    for study in studies.itertuples(index=False):
        part = sums[sums["study_id"] == study.study_id]
        for gap in gaps:
            sides = {}
            for audience in AUDIENCES:
                match = part[(part["gap"] == gap) & (part["audience"] == audience)]
                if match.empty:
                    summary = describe_sums(0, 0.0, 0.0)
                else:
                    first = match.iloc[0]
                    summary = describe_sums(
                        int(first["n"]), float(first["total"]), float(first["sumsq"])
                    )
                summary["suppressed"] = summary["n"] < study.min_group_size
                if summary["suppressed"]:
                    summary.update(mean=None, sd=None)
                sides[audience] = summary
            result = welch(sides[INTERNAL], sides[CUSTOMER])
            suppressed = sides[INTERNAL]["suppressed"] or sides[CUSTOMER]["suppressed"]
            rows.append(
                {
                    "study_id": study.study_id,
                    "name": study.name,
                    "date": study.date,
                    "gap": gap,
                    "internal_n": sides[INTERNAL]["n"],
                    "customer_n": sides[CUSTOMER]["n"],
                    "delta": result["delta"],
                    "ci_low": result["ci_low"],
                    "ci_high": result["ci_high"],
                    "ci_half": result["ci_half"],
                    "p": result["p"],
                    "suppressed": suppressed,
                    "note": fewer_than(study.min_group_size) if suppressed else "",
                }
            )
    columns = [
        "study_id",
        "name",
        "date",
        "gap",
        "internal_n",
        "customer_n",
        "delta",
        "ci_low",
        "ci_high",
        "ci_half",
        "p",
        "suppressed",
        "note",
    ]
    return _frame(rows, columns)


def actions_in_trend(actions: pd.DataFrame, trend_table: pd.DataFrame) -> pd.DataFrame:
    """The actions created on or after the first wave: the ones the later waves
    can show the effect of. In: actions (…, created_on) and the trend table
    (date). Out: the matching action rows, oldest first."""
    if actions.empty or trend_table.empty:
        return actions.iloc[0:0]
    first = min(trend_table["date"])
    chosen = actions[[created >= first for created in actions["created_on"]]]
    return chosen.sort_values("created_on", kind="stable").reset_index(drop=True)


# --- the same numbers from sums (what the dashboard computes in SQL) -----------
#
# Input: score sums as analysis.queries.study_sums returns them — one row per
# audience, group_id, gap (or OVERALL) and m (answered items): n respondents,
# total = Σ respondent totals, sumsq = Σ squared totals, and the counts of the
# disappointed, neutral and delighted respondents. A respondent's score is
# total / m, so Σ score = Σ total / m and Σ score² = Σ sumsq / m²; these are
# added up as exact fractions, so means and SDs equal those of the respondent
# scores themselves (up to the final rounding to float).


def _exact(rows) -> tuple[int, Fraction, Fraction]:
    """n, Σ score and Σ score² of the respondents in some score-sum rows."""
    n, total, sumsq = 0, Fraction(0), Fraction(0)
    for m, count, t, tt in rows:
        n += int(count)
        total += Fraction(int(t), int(m))
        sumsq += Fraction(int(tt), int(m) * int(m))
    return n, total, sumsq


def describe_exact(n: int, total: Fraction, sumsq: Fraction) -> dict:
    """n, mean and SD (ddof=1) from n, Σx and Σx² as exact fractions."""
    if n == 0:
        return {"n": 0, "mean": None, "sd": None}
    mean = total / n
    if n < 2:
        return {"n": n, "mean": float(mean), "sd": None}
    variance = (sumsq - total * total / n) / (n - 1)
    return {"n": n, "mean": float(mean), "sd": math.sqrt(max(variance, 0))}


class ScoreSums:
    """Lookups over a score-sum frame: cells by audience, group and gap."""

    def __init__(self, sums: pd.DataFrame, names: dict | None = None) -> None:
        self.cells: dict[tuple, list] = {}
        self.counts: dict[tuple, list[int]] = {}
        for row in sums.itertuples(index=False):
            key = (row.gap, row.audience, _group_key(row.group_id))
            self.cells.setdefault(key, []).append((row.m, row.n, row.total, row.sumsq))
            counts = self.counts.setdefault((row.gap, row.audience), [0, 0, 0, 0])
            counts[0] += int(row.n)
            counts[1] += int(row.disappointed)
            counts[2] += int(row.neutral)
            counts[3] += int(row.delighted)
        self.names = names or {}

    def groups(self, audience: str) -> list:
        """The group ids of an audience that have respondents."""
        return list(
            dict.fromkeys(
                group
                for gap, who, group in self.cells
                if who == audience and gap != OVERALL
            )
        )

    def describe(self, gap: str, audience: str, group=...) -> dict:
        rows = [
            row
            for (g, who, group_id), cell in self.cells.items()
            if g == gap and who == audience and (group is ... or group_id == group)
            for row in cell
        ]
        return describe_exact(*_exact(rows))

    def side(self, gap: str, audience: str, min_group_size: int, group=...) -> dict:
        return _suppressed_side(self.describe(gap, audience, group), min_group_size)

    def complete(self, gap: str, audience: str, k: int) -> dict:
        """n, mean and SD of the totals of the respondents with all k items."""
        rows = [
            (count, t, tt)
            for (g, who, _), cell in self.cells.items()
            if g == gap and who == audience
            for m, count, t, tt in cell
            if int(m) == k
        ]
        n = sum(int(r[0]) for r in rows)
        return describe_sums(
            n, sum(int(r[1]) for r in rows), sum(int(r[2]) for r in rows)
        )


def _group_key(group_id):
    if group_id is None or (isinstance(group_id, float) and math.isnan(group_id)):
        return None
    return int(group_id)


def gap_table_from_sums(
    sums: ScoreSums,
    *,
    gaps: Sequence[str],
    min_group_size: int,
    alpha: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """`gap_table` from score sums (same columns, same numbers)."""
    rows = []
    for gap in [*gaps, OVERALL]:
        sides = {
            audience: sums.side(gap, audience, min_group_size) for audience in AUDIENCES
        }
        rows.append(_gap_row(gap, sides, min_group_size, alpha))
    return _frame(rows)


def cronbach_alpha_from_sums(
    sums: ScoreSums,
    complete_sums: pd.DataFrame,
    items: pd.DataFrame,
    complete_all_sums: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Cronbach's alpha per gap and audience from score sums, listwise: the
    variance of the complete respondents' totals comes from their n, Σ total
    and Σ total² (integers, exact); the item variances from the complete item
    sums. With `complete_all_sums` (item sums of the respondents who answered
    every item) also alpha over all items (gap "overall")."""
    rows = []
    per_gap = items.groupby("gap")["item_id"].apply(list).to_dict()
    groups = [(gap, ids, complete_sums) for gap, ids in per_gap.items()]
    if complete_all_sums is not None:
        groups.append((OVERALL, list(items["item_id"]), complete_all_sums))
    for gap, item_ids, complete_sums in groups:
        k = len(item_ids)
        for audience in AUDIENCES:
            totals = sums.complete(gap, audience, k)
            n = totals["n"]
            alpha = None
            if k >= 2 and n >= 2:
                alpha = _alpha(totals["sd"] ** 2, complete_sums, item_ids, audience)
            rows.append(
                {"gap": gap, "audience": audience, "k": k, "n": n, "alpha": alpha}
            )
    return _frame(rows, ["gap", "audience", "k", "n", "alpha"])


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | tuple[None, None]:
    """The Wilson score 95 % interval of a proportion k / n."""
    if n <= 0:
        return None, None
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(k1: int, n1: int, k2: int, n2: int) -> dict:
    """p1 − p2 with Newcombe's hybrid score 95 % interval (his method 10,
    from the two Wilson intervals)."""
    if n1 <= 0 or n2 <= 0:
        return {"difference": None, "low": None, "high": None}
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = wilson(k1, n1), wilson(k2, n2)
    d = p1 - p2
    return {
        "difference": d,
        "low": d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        "high": d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    }


def headline_from_counts(
    staff: tuple[int, int],
    customers: tuple[int, int],
    *,
    min_group_size: int,
    shown: tuple[bool, bool] = (True, True),
) -> dict:
    """The headline from (respondents, of whom above the midpoint) per
    audience: each share with its Wilson interval, and the difference in
    percentage points with Newcombe's interval — the same side of the
    midpoint for both audiences. A side below the minimum size (or not shown)
    is suppressed, and with it the difference."""
    out: dict = {"note": fewer_than(min_group_size)}
    sides = {"staff": (*staff, shown[0]), "customer": (*customers, shown[1])}
    for name, (n, above, visible) in sides.items():
        suppressed = n < min_group_size or not visible
        low, high = (None, None) if suppressed else wilson(above, n)
        out.update(
            {
                f"{name}_n": n,
                f"{name}_above": None if suppressed else above / n,
                f"{name}_low": low,
                f"{name}_high": high,
                f"{name}_suppressed": suppressed,
            }
        )
    if out["staff_suppressed"] or out["customer_suppressed"]:
        out.update(difference=None, difference_low=None, difference_high=None)
    else:
        found = newcombe(staff[1], staff[0], customers[1], customers[0])
        out.update(
            difference=found["difference"],
            difference_low=found["low"],
            difference_high=found["high"],
        )
    return out


def headline_from_sums(sums: ScoreSums, *, min_group_size: int, shown=_always) -> dict:
    """The headline from the category counts of the overall scores: above the
    midpoint = satisfied or delighted. `shown(gap, audience)` False
    suppresses that audience."""
    counts = {}
    for audience in AUDIENCES:
        n, low, middle, _ = sums.counts.get((OVERALL, audience), [0] * 4)
        counts[audience] = (n, n - low - middle)
    return headline_from_counts(
        counts[INTERNAL],
        counts[CUSTOMER],
        min_group_size=min_group_size,
        shown=(shown(OVERALL, INTERNAL), shown(OVERALL, CUSTOMER)),
    )


def extreme_gaps(gap_table: pd.DataFrame) -> dict:
    """The gap where staff most overrate the service (largest positive Δ) and
    the one where they most underrate it (most negative Δ), each a row of the
    gap table (gap, delta, ci_low, ci_high) or None."""
    rows = [
        row
        for row in gap_table.to_dict("records")
        if row["gap"] != OVERALL
        and row["delta"] is not None
        and not (isinstance(row["delta"], float) and math.isnan(row["delta"]))
    ]
    over = max(rows, key=lambda r: r["delta"], default=None)
    under = min(rows, key=lambda r: r["delta"], default=None)
    return {
        "over": over if over is not None and over["delta"] > 0 else None,
        "under": under if under is not None and under["delta"] < 0 else None,
    }


def distribution_from_answers(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    *,
    gaps: Sequence[str],
    min_group_size: int,
    shown=_always,
) -> pd.DataFrame:
    """The four categories on item answers (a stacked Likert per gap and
    audience, and over all items): each answer is disappointed (below the
    midpoint), neutral (the midpoint), satisfied or delighted (the top box;
    the top two on scales of 7 or more points).

    In: item sums with category counts (item_id, audience, n, disappointed,
    neutral, delighted) and the items (item_id, gap). Out: gap, audience, n
    (answers), suppressed, note, and the four shares 0–1 (None when
    suppressed: fewer than the minimum size of answers, or the gap not shown
    for that audience, `shown(gap, audience)`).
    """
    gap_of = dict(zip(items["item_id"], items["gap"], strict=True))
    counts: dict = {}
    for row in answers.itertuples(index=False):
        for gap in (gap_of.get(row.item_id), OVERALL):
            cell = counts.setdefault((gap, row.audience), [0, 0, 0, 0])
            cell[0] += int(row.n)
            cell[1] += int(row.disappointed)
            cell[2] += int(row.neutral)
            cell[3] += int(row.delighted)
    rows = []
    for gap in [*gaps, OVERALL]:
        for audience in AUDIENCES:
            n, low, middle, top = counts.get((gap, audience), [0] * 4)
            small = n < min_group_size
            suppressed = small or not shown(gap, audience)
            shares = {
                "disappointed": low,
                "neutral": middle,
                "satisfied": n - low - middle - top,
                "delighted": top,
            }
            row = {
                "gap": gap,
                "audience": audience,
                "n": n,
                "suppressed": suppressed,
                "note": (fewer_than(min_group_size) if small else HIDDEN)
                if suppressed
                else "",
            }
            for category in CATEGORIES:
                row[category] = None if suppressed else shares[category] / n
            rows.append(row)
    return _frame(rows)


def group_sizes_from_sums(sums: ScoreSums) -> pd.DataFrame:
    """Respondents per audience and group (from the overall rows).
    Out: audience, group_id, group, n."""
    rows = []
    for (gap, audience, group), cell in sums.cells.items():
        if gap == OVERALL:
            rows.append(
                {
                    "audience": audience,
                    "group_id": group,
                    "group": sums.names.get((audience, group)),
                    "n": sum(int(count) for _, count, _, _ in cell),
                }
            )
    return _frame(rows, ["audience", "group_id", "group", "n"])


def group_matrix_from_sums(
    sums: ScoreSums,
    *,
    audience: str,
    gaps: Sequence[str],
    min_group_size: int,
    shown=_always,
) -> pd.DataFrame:
    """`group_matrix` from score sums: groups in name order; a cell whose
    `shown(gap, group_id)` is False is hidden."""
    rows = []
    groups = sorted(
        sums.groups(audience), key=lambda g: str(sums.names.get((audience, g)))
    )
    for group in groups:
        for gap in gaps:
            summary = sums.describe(gap, audience, group)
            name = sums.names.get((audience, group))
            rows.append(
                _matrix_cell(
                    name,
                    gap,
                    summary["n"],
                    summary["mean"],
                    min_group_size,
                    hidden=not shown(gap, group),
                )
            )
    return _frame(rows, MATRIX_COLUMNS)


def segment_deltas_from_sums(
    sums: ScoreSums,
    *,
    gaps: Sequence[str],
    min_group_size: int,
    shown=_always,
    staff_shown=_always,
) -> pd.DataFrame:
    """`segment_deltas` from score sums (same columns and numbers); a cell is
    hidden when `shown(gap, segment id)` or `staff_shown(gap)` is False."""
    staff_sides = {gap: sums.side(gap, INTERNAL, min_group_size) for gap in gaps}
    rows = []
    groups = sorted(
        sums.groups(CUSTOMER), key=lambda g: str(sums.names.get((CUSTOMER, g)))
    )
    for group in groups:
        for gap in gaps:
            internal = staff_sides[gap]
            customer = sums.side(gap, CUSTOMER, min_group_size, group)
            name = sums.names.get((CUSTOMER, group))
            hidden = not (shown(gap, group) and staff_shown(gap))
            rows.append(
                _segment_delta(
                    name, gap, internal, customer, min_group_size, hidden=hidden
                )
            )
    return _frame(rows, SEGMENT_DELTA_COLUMNS)


def trend_rows_from_sums(sums: ScoreSums, *, gaps: Sequence[str]) -> list[dict]:
    """One study's rows of the trend input: audience, gap, n, total (Σ score),
    sumsq (Σ score²), as floats like those of `queries.trend_sums`."""
    rows = []
    for audience in AUDIENCES:
        for gap in gaps:
            cell = [
                row
                for (g, who, _), part in sums.cells.items()
                if g == gap and who == audience
                for row in part
            ]
            n, total, sumsq = _exact(cell)
            if n:
                rows.append(
                    {
                        "audience": audience,
                        "gap": gap,
                        "n": n,
                        "total": float(total),
                        "sumsq": float(sumsq),
                    }
                )
    return rows
