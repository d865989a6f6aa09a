"""Expectations, importance and where to act first: pure functions, no Django.

Every definition follows DESIGN.md, "Expectations, importance and priorities".
Inputs are small frames read from a published snapshot by
`analysis.priorities_view`; outputs are dicts and frames whose keys are named
in each docstring. Missing numbers are None; nothing here divides by zero.

Frames in:
- ratings: one row per (response_id, item_id, kind) with value (float, NaN
  for "don't know"); kind is P, E, A or D.
- items: item_id, area (a dimension or a gap, `surveys.areas`).
- points: response_id, area, points (a respondent's importance allocation).

Conventions: SD is the sample SD (ddof=1); intervals are 95 %; Δ-like
comparisons of two audiences reuse `analysis.stats.welch` (Welch's interval
and p, Hedges' g), so there is one implementation of each.

In the `tolerance` mode, the perception gap d is the measure of service
superiority, MSS = P − D (perceived against desired service): D plays E's
part there.
"""

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from analysis import stats

PERCEPTION, EXPECTATION, TOLERANCE = "perception", "expectation", "tolerance"
QUADRANTS = {
    (True, False): "concentrate here",
    (True, True): "keep up the good work",
    (False, False): "low priority",
    (False, True): "possible overkill",
}
DERIVED_MIN_N = 10
POINTS_TOTAL = 100


def _none(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def _frame(rows: list[dict], columns: Sequence[str]) -> pd.DataFrame:
    """Rows as an object frame, so a missing number stays None (not NaN)."""
    if not rows:
        return pd.DataFrame(columns=list(columns), dtype=object)
    return pd.DataFrame(rows, dtype=object)[list(columns)]


def describe(values: Sequence[float]) -> dict:
    """n, mean and SD (ddof=1; None below 2 values) of the values that are
    not NaN."""
    array = np.asarray(values, dtype=float)
    array = array[~np.isnan(array)]
    n = int(array.size)
    if n == 0:
        return {"n": 0, "mean": None, "sd": None}
    mean = float(array.mean())
    sd = float(array.std(ddof=1)) if n >= 2 else None
    return {"n": n, "mean": mean, "sd": sd}


def one_sample(values: Sequence[float]) -> dict:
    """A mean tested against 0: n, mean, sd, the t interval (low, high) =
    mean ± t(0.975, n − 1)·sd/√n, p of the one-sample t-test, and d_z =
    mean / sd. With n < 2 or no spread the interval, p and d_z are None
    (the t statistic is undefined)."""
    return _tested(describe(values))


def one_sample_from_sums(n: int, total, sumsq) -> dict:
    """`one_sample` from n, Σx and Σx² (integers stay exact:
    `stats.describe_sums`)."""
    return _tested(stats.describe_sums(n, total, sumsq))


def knowledge_gap_from_sums(staff: tuple, customers: tuple) -> dict:
    """`knowledge_gap` from (n, Σx, Σx²) of each side."""
    internal, customer = stats.describe_sums(*staff), stats.describe_sums(*customers)
    row = {f"internal_{k}": v for k, v in internal.items()}
    row.update({f"customer_{k}": v for k, v in customer.items()})
    row.update(stats.welch(internal, customer))
    return row


def zone_from_sums(sums: Mapping) -> dict:
    """`zone_of_tolerance`'s row from the sums of one item's customers with A,
    D and P: n (without inversions), inversions, inside, msa (n, Σ, Σ²), mss
    (n, Σ, Σ²), a_total, d_total, p_total (of the n)."""
    n = int(sums["n"])
    msa = one_sample_from_sums(n, sums["msa_total"], sums["msa_sumsq"])
    mss = one_sample_from_sums(n, sums["mss_total"], sums["mss_sumsq"])
    return {
        "n": n,
        "inversions": int(sums["inversions"]),
        "inside": int(sums["inside"]),
        "inside_share": int(sums["inside"]) / n if n else None,
        "msa_mean": msa["mean"],
        "msa_low": msa["low"],
        "msa_high": msa["high"],
        "mss_mean": mss["mean"],
        "mss_low": mss["low"],
        "mss_high": mss["high"],
        "a_mean": sums["a_total"] / n if n else None,
        "d_mean": sums["d_total"] / n if n else None,
        "p_mean": sums["p_total"] / n if n else None,
    }


def _tested(out: dict) -> dict:
    out = dict(out)
    out.update(low=None, high=None, p=None, dz=None)
    n, mean, sd = out["n"], out["mean"], out["sd"]
    if sd is None or sd == 0:
        return out
    se = sd / math.sqrt(n)
    half = scipy_stats.t.ppf(0.975, n - 1) * se
    t = mean / se
    out.update(
        low=mean - half,
        high=mean + half,
        p=_none(2 * scipy_stats.t.sf(abs(t), n - 1)),
        dz=mean / sd,
    )
    return out


# --- respondent scores --------------------------------------------------------


def area_scores(ratings: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """A respondent's area score per rating kind: the mean of their answered
    items of that area and kind ("don't know" left out).

    Out: response_id, area, kind, score (one row per respondent, area and
    kind with at least one answered item)."""
    columns = ["response_id", "area", "kind", "score"]
    frame = ratings.dropna(subset=["value"]).merge(items[["item_id", "area"]])
    if frame.empty:
        return pd.DataFrame(columns=columns)
    found = frame.groupby(["response_id", "area", "kind"], sort=True)["value"].mean()
    return found.rename("score").reset_index()[columns]


def _pairs(ratings: pd.DataFrame, first: str, second: str) -> pd.DataFrame:
    """Per respondent and item with both kinds answered: their two values."""
    wide = ratings.dropna(subset=["value"]).pivot_table(
        index=["response_id", "item_id"],
        columns="kind",
        values="value",
        aggfunc="first",
    )
    for kind in (first, second):
        if kind not in wide.columns:
            wide[kind] = np.nan
    return wide.dropna(subset=[first, second]).reset_index()


def item_differences(ratings: pd.DataFrame, mode: str = EXPECTATION) -> pd.DataFrame:
    """d = P − E (expectation mode) or P − D (tolerance mode: with A, D and P
    all given, leaving out the inversions A > D) per respondent and item with
    both ratings (the pairs of `surveys.services.snapshots.pair_unit`).

    Out: response_id, item_id, d."""
    columns = ["response_id", "item_id", "d"]
    reference = "D" if mode == TOLERANCE else "E"
    wide = _pairs(ratings, "P", reference)
    if wide.empty:
        return pd.DataFrame(columns=columns)
    if mode == TOLERANCE:
        if "A" not in wide.columns:
            return pd.DataFrame(columns=columns)
        wide = wide.dropna(subset=["A"])
        wide = wide[~(wide["A"] > wide["D"])]
    wide["d"] = wide["P"] - wide[reference]
    return wide[columns].reset_index(drop=True)


def area_differences(differences: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """A respondent's area gap d_a = the mean of their item d over the area's
    items. Out: response_id, area, d."""
    columns = ["response_id", "area", "d"]
    if differences.empty:
        return pd.DataFrame(columns=columns)
    frame = differences.merge(items[["item_id", "area"]])
    return (
        frame.groupby(["response_id", "area"], sort=True)["d"].mean().reset_index()
    )[columns]


def gap_table(differences: pd.DataFrame, key: str = "area") -> pd.DataFrame:
    """The perception gap per area (or item: key="item_id"), paired within
    each customer: `one_sample` of d. Out: key, n, mean, sd, low, high, p, dz."""
    columns = [key, "n", "mean", "sd", "low", "high", "p", "dz"]
    rows = [
        {key: value, **one_sample(group["d"].to_numpy(dtype=float))}
        for value, group in differences.groupby(key, sort=True)
    ]
    return _frame(rows, columns)


def knowledge_gap(staff: Sequence[float], customers: Sequence[float]) -> dict:
    """Staff-predicted E against customers' E, as any Δ: staff mean −
    customer mean with Welch's interval and p and Hedges' g
    (`analysis.stats.welch`). Out: internal_n/mean/sd, customer_n/mean/sd and
    the keys of `stats.welch`."""
    internal, customer = describe(staff), describe(customers)
    row = {f"internal_{k}": v for k, v in internal.items()}
    row.update({f"customer_{k}": v for k, v in customer.items()})
    row.update(stats.welch(internal, customer))
    return row


# --- the gap-model score ------------------------------------------------------


def unweighted_score(area_means: Mapping[str, float | None]) -> float | None:
    """The mean of the areas' mean d (areas without one left out)."""
    values = [v for v in area_means.values() if v is not None and not math.isnan(v)]
    return sum(values) / len(values) if values else None


def weighted_score(area_d: pd.DataFrame, points: pd.DataFrame) -> dict:
    """Per customer Σ_a w_a·d_a with w_a = their points for a / the sum of
    their points over the areas that have a d; then `one_sample` over the
    customers. A customer with no allocation, or no points on any area with a
    d, has no weighted score."""
    if area_d.empty or points.empty:
        return one_sample([])
    frame = area_d.merge(points, on=["response_id", "area"])
    totals = frame.groupby("response_id")["points"].transform("sum")
    frame = frame[totals > 0]
    frame = frame.assign(w=frame["points"] / totals[totals > 0])
    scores = (frame["w"] * frame["d"]).groupby(frame["response_id"]).sum()
    return one_sample(scores.to_numpy(dtype=float))


# --- zone of tolerance --------------------------------------------------------


def zone_of_tolerance(ratings: pd.DataFrame, key_frame=None) -> pd.DataFrame:
    """Per item: MSA = P − A and MSS = P − D per customer, summarised like d;
    the share of customers inside their own zone (A ≤ P ≤ D); inversions (A >
    D: counted, and left out of the item's other figures).

    Out: item_id, n (customers with A, D, P and no inversion), inversions,
    inside (count), inside_share, msa_mean, msa_low, msa_high, mss_mean,
    mss_low, mss_high, a_mean, d_mean, p_mean."""
    columns = [
        "item_id",
        "n",
        "inversions",
        "inside",
        "inside_share",
        "msa_mean",
        "msa_low",
        "msa_high",
        "mss_mean",
        "mss_low",
        "mss_high",
        "a_mean",
        "d_mean",
        "p_mean",
    ]
    wide = _pairs(ratings, "P", "D")
    if wide.empty or "A" not in wide.columns:
        return _frame([], columns)
    wide = wide.dropna(subset=["A"])
    rows = []
    for item_id, group in wide.groupby("item_id", sort=True):
        inverted = group["A"] > group["D"]
        valid = group[~inverted]
        msa = one_sample((valid["P"] - valid["A"]).to_numpy(dtype=float))
        mss = one_sample((valid["P"] - valid["D"]).to_numpy(dtype=float))
        inside = int(((valid["A"] <= valid["P"]) & (valid["P"] <= valid["D"])).sum())
        n = len(valid)
        rows.append(
            {
                "item_id": item_id,
                "n": n,
                "inversions": int(inverted.sum()),
                "inside": inside,
                "inside_share": inside / n if n else None,
                "msa_mean": msa["mean"],
                "msa_low": msa["low"],
                "msa_high": msa["high"],
                "mss_mean": mss["mean"],
                "mss_low": mss["low"],
                "mss_high": mss["high"],
                "a_mean": _none(valid["A"].mean()) if n else None,
                "d_mean": _none(valid["D"].mean()) if n else None,
                "p_mean": _none(valid["P"].mean()) if n else None,
            }
        )
    return _frame(rows, columns)


# --- importance ---------------------------------------------------------------


def stated_importance(
    customer_points: pd.DataFrame, staff_points: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per area: the customers' mean points with a t interval, the staff's
    prediction beside it, and the difference staff − customers as a Δ
    (Welch, Hedges' g).

    Out: area, customer_n, customer_mean, customer_sd, customer_low,
    customer_high, internal_n, internal_mean, internal_sd, and the keys of
    `stats.welch` (delta, ci_low, ci_high, p, g, …)."""
    staff_points = (
        staff_points
        if staff_points is not None
        else pd.DataFrame(columns=["response_id", "area", "points"])
    )
    areas = list(dict.fromkeys([*customer_points["area"], *staff_points["area"]]))
    rows = []
    for area in areas:
        mine = customer_points.loc[customer_points["area"] == area, "points"]
        theirs = staff_points.loc[staff_points["area"] == area, "points"]
        customer = one_sample(mine.to_numpy(dtype=float))
        internal = describe(theirs.to_numpy(dtype=float))
        row = {"area": area}
        row.update(
            {f"customer_{k}": customer[k] for k in ("n", "mean", "sd", "low", "high")}
        )
        row.update({f"internal_{k}": v for k, v in internal.items()})
        row.update(stats.welch(internal, describe(mine.to_numpy(dtype=float))))
        rows.append(row)
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=["area"])


def stated_importance_from_sums(
    customers: Mapping[str, tuple], staff: Mapping[str, tuple] | None = None
) -> pd.DataFrame:
    """`stated_importance` from each side's (n, Σ points, Σ points²) per
    area (integers: exact)."""
    staff = staff or {}
    rows = []
    for area in dict.fromkeys([*customers, *staff]):
        mine = customers.get(area, (0, 0, 0))
        customer = one_sample_from_sums(*mine)
        internal = stats.describe_sums(*staff.get(area, (0, 0, 0)))
        row = {"area": area}
        row.update(
            {f"customer_{k}": customer[k] for k in ("n", "mean", "sd", "low", "high")}
        )
        row.update({f"internal_{k}": v for k, v in internal.items()})
        row.update(stats.welch(internal, stats.describe_sums(*mine)))
        rows.append(row)
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=["area"])


def fisher_interval(r: float, n: int) -> tuple[float | None, float | None]:
    """tanh(atanh(r) ± z/√(n − 3)), z the 97.5th normal percentile (the
    1.96 of DESIGN.md, unrounded as scipy's pearsonr uses it)."""
    if r is None or n <= 3:
        return None, None
    if abs(r) >= 1:
        return r, r
    z = math.atanh(r)
    half = stats.Z95 / math.sqrt(n - 3)
    return math.tanh(z - half), math.tanh(z + half)


def derived_importance(
    area_p: pd.DataFrame, overall: Mapping[int, float], *, min_group_size: int
) -> pd.DataFrame:
    """Per area: Pearson r between customers' P area score and their overall
    rating, with its Fisher-z interval; shown only when n ≥ max(10, minimum
    group size) (else r, low, high are None and shown False). r is None when
    either side has no spread.

    `area_p`: response_id, area, score (P only); `overall`: {response_id:
    rating}, "don't know" left out. Out: area, n, r, low, high, shown."""
    columns = ["area", "n", "r", "low", "high", "shown"]
    needed = max(DERIVED_MIN_N, min_group_size)
    rows = []
    overall = {k: v for k, v in overall.items() if v is not None}
    for area, group in area_p.groupby("area", sort=False):
        group = group[group["response_id"].isin(overall)]
        x = group["score"].to_numpy(dtype=float)
        y = np.array([overall[pk] for pk in group["response_id"]], dtype=float)
        n = len(x)
        row = {"area": area, "n": n, "r": None, "low": None, "high": None}
        row["shown"] = n >= needed
        if row["shown"] and np.ptp(x) > 0 and np.ptp(y) > 0:
            r = float(np.corrcoef(x, y)[0, 1])
            row["r"] = r
            row["low"], row["high"] = fisher_interval(r, n)
        rows.append(row)
    return _frame(rows, columns)


def derived_importance_from_sums(
    sums: Mapping[str, Mapping], *, min_group_size: int
) -> pd.DataFrame:
    """`derived_importance` from sums per area over the customers with both
    an area score x and an overall rating y: n, x_total, x_sumsq, y_total,
    y_sumsq, xy_total. r = (nΣxy − ΣxΣy) / √((nΣx² − (Σx)²)(nΣy² − (Σy)²));
    a side whose spread is 0 (to rounding) has no r."""
    columns = ["area", "n", "r", "low", "high", "shown"]
    needed = max(DERIVED_MIN_N, min_group_size)
    rows = []
    for area, s in sums.items():
        n = int(s["n"])
        row = {"area": area, "n": n, "r": None, "low": None, "high": None}
        row["shown"] = n >= needed
        sxx = n * float(s["x_sumsq"]) - float(s["x_total"]) ** 2
        syy = n * float(s["y_sumsq"]) - float(s["y_total"]) ** 2
        sxy = n * float(s["xy_total"]) - float(s["x_total"]) * float(s["y_total"])
        spread = stats.ROUNDING * max(1.0, n * float(s["x_sumsq"]))
        spread_y = stats.ROUNDING * max(1.0, n * float(s["y_sumsq"]))
        if row["shown"] and sxx > spread and syy > spread_y:
            r = max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))
            row["r"] = r
            row["low"], row["high"] = fisher_interval(r, n)
        rows.append(row)
    return _frame(rows, columns)


def importance_shares(
    stated: Mapping[str, float | None] | None = None,
    derived: Mapping[str, float | None] | None = None,
) -> dict[str, float]:
    """Each area's importance share: mean points / 100 when stated
    importance was collected, else r / the sum of the positive r over the
    areas (a negative r counts as 0). Areas without a number are left out."""
    if stated:
        return {a: v / POINTS_TOTAL for a, v in stated.items() if v is not None}
    positive = {a: max(0.0, r) for a, r in (derived or {}).items() if r is not None}
    total = sum(positive.values())
    if not total:
        return {a: 0.0 for a in positive}
    return {a: v / total for a, v in positive.items()}


# --- priority matrix and where to act first -----------------------------------


def priority_matrix(rows: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Quadrants of the areas shown: x = importance, y = performance, the
    lines at the mean x and mean y of those areas. High is at or above the
    line. In: area, x, y (rows with a missing x or y are left out). Out: the
    rows with quadrant; and {"x": mean x, "y": mean y} (None when empty)."""
    shown = rows.dropna(subset=["x", "y"]).copy()
    if shown.empty:
        shown["quadrant"] = []
        return shown, {"x": None, "y": None}
    x_line, y_line = float(shown["x"].mean()), float(shown["y"].mean())
    shown["quadrant"] = [
        QUADRANTS[(x >= x_line, y >= y_line)]
        for x, y in zip(shown["x"], shown["y"], strict=True)
    ]
    return shown.reset_index(drop=True), {"x": x_line, "y": y_line}


def act_first(
    shares: Mapping[str, float],
    performance: Mapping[str, dict],
    *,
    mode: str,
) -> list[dict]:
    """Where to act first: priority = importance share × shortfall, ranked
    high to low.

    shortfall = max(0, −mean d) in the expectation and tolerance modes
    (`performance[area]` = {mean, low, high} of d), max(0, Δ) in the
    perception mode ({delta, ci_low, ci_high}). A row whose shortfall
    interval includes 0 is marked uncertain. Out: [{area, share, shortfall,
    shortfall_low, shortfall_high, priority, uncertain, rank}]."""
    rows = []
    for area, share in shares.items():
        found = performance.get(area)
        if not found:
            continue
        if mode == PERCEPTION:
            mean, low, high = (
                found.get("delta"),
                found.get("ci_low"),
                found.get("ci_high"),
            )
            bounds = (low, high)
        else:
            mean, low, high = found.get("mean"), found.get("low"), found.get("high")
            bounds = (None if high is None else -high, None if low is None else -low)
            mean = None if mean is None else -mean
        if mean is None:
            continue
        shortfall = max(0.0, mean)
        short_low = None if bounds[0] is None else max(0.0, bounds[0])
        short_high = None if bounds[1] is None else max(0.0, bounds[1])
        uncertain = short_low is None or short_low <= 0
        rows.append(
            {
                "area": area,
                "share": share,
                "shortfall": shortfall,
                "shortfall_low": short_low,
                "shortfall_high": short_high,
                "priority": share * shortfall,
                "uncertain": uncertain,
            }
        )
    rows.sort(key=lambda row: (-row["priority"], row["uncertain"], row["area"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


# --- segment influence --------------------------------------------------------


def segment_influence(
    segments: Sequence[Mapping],
    staff: Mapping,
    *,
    min_group_size: int,
) -> dict:
    """The segment-weighted customer mean and Δ, and each segment's
    contribution to the weighted Δ.

    segments: [{segment, weight, n, mean, sd, shown}] — a segment counts when
    its weight is > 0, n ≥ the minimum group size and it is shown (not hidden
    by suppression); the others are left out (and counted).
    staff: {n, mean, sd} of the staff side.

    x_w = Σ w_s·x̄_s / W; SE² = Σ a_s, a_s = (w_s/W)²·s_s²/n_s; the 95 %
    interval with t at the Welch–Satterthwaite df (Σ a_s)² / Σ a_s²/(n_s − 1).
    Weighted Δ = staff mean − x_w, SE² adding s²/n of the staff, df combined
    the same way. contribution_s = (w_s/W)·(staff mean − x̄_s), adding up to
    the weighted Δ.

    Out: {mean, se, df, low, high, delta, delta_se, delta_df, delta_low,
    delta_high, used, left_out, contributions: [{segment, weight, share,
    mean, n, contribution}] largest first}."""
    used = [
        s
        for s in segments
        if s.get("weight") is not None
        and float(s["weight"]) > 0
        and s.get("shown", True)
        and s["n"] >= min_group_size
        and s.get("mean") is not None
    ]
    out = {
        "mean": None,
        "se": None,
        "df": None,
        "low": None,
        "high": None,
        "delta": None,
        "delta_se": None,
        "delta_df": None,
        "delta_low": None,
        "delta_high": None,
        "used": len(used),
        "left_out": len(segments) - len(used),
        "contributions": [],
    }
    if not used:
        return out
    total = sum(float(s["weight"]) for s in used)
    shares = [float(s["weight"]) / total for s in used]
    out["mean"] = sum(w * s["mean"] for w, s in zip(shares, used, strict=True))
    parts = [
        (w * w * s["sd"] ** 2 / s["n"], s["n"] - 1)
        if s.get("sd") is not None and s["n"] >= 2
        else None
        for w, s in zip(shares, used, strict=True)
    ]
    if all(p is not None for p in parts):
        out["se"], out["df"], out["low"], out["high"] = _interval(out["mean"], parts)
    staff_mean = staff.get("mean")
    if staff_mean is None:
        return out
    out["delta"] = staff_mean - out["mean"]
    out["contributions"] = sorted(
        (
            {
                "segment": s["segment"],
                "weight": float(s["weight"]),
                "share": w,
                "mean": s["mean"],
                "n": s["n"],
                "contribution": w * (staff_mean - s["mean"]),
            }
            for w, s in zip(shares, used, strict=True)
        ),
        key=lambda row: -abs(row["contribution"]),
    )
    if out["se"] is not None and staff.get("sd") is not None and staff["n"] >= 2:
        staff_part = (staff["sd"] ** 2 / staff["n"], staff["n"] - 1)
        (
            out["delta_se"],
            out["delta_df"],
            out["delta_low"],
            out["delta_high"],
        ) = _interval(out["delta"], [*parts, staff_part])
    return out


def _interval(center: float, parts: list[tuple[float, int]]) -> tuple:
    """SE, Welch–Satterthwaite df and the 95 % t interval from variance
    parts a_i with their n_i − 1."""
    variance = sum(a for a, _ in parts)
    if variance <= 0:
        return 0.0, None, None, None
    denominator = sum(a * a / dof for a, dof in parts if dof > 0)
    if denominator <= 0:
        return math.sqrt(variance), None, None, None
    df = variance * variance / denominator
    half = scipy_stats.t.ppf(0.975, df) * math.sqrt(variance)
    return math.sqrt(variance), df, center - half, center + half
