"""What the dashboard shows of expectations, importance and priorities.

`priorities_context(study, published)` chains `priorities_queries` (the
published respondents' rows) → `priorities` (the statistics) →
`priority_charts` into one dict for templates/analysis/dashboard_priorities.html.

Anonymity: every figure is read from the published snapshot, each unit
(`surveys.services.snapshots.priority_units`) up to its own cutoff and only
when the snapshot shows that unit's total for the audience; a figure with
fewer respondents than the minimum group size is replaced by its note.
Segment influence reads the published gap scores per segment (the units the
segment heatmap uses) and leaves out every segment the snapshot hides.
"""

import math

import pandas as pd

from analysis import priorities, priorities_queries, priority_charts, stats
from analysis.cuts import ALL
from surveys.areas import AREA_LABELS
from surveys.models import Audience, Gap, MeasurementMode
from surveys.services import snapshots
from surveys.services.snapshots import Published

CUSTOMER, INTERNAL = Audience.CUSTOMER.value, Audience.INTERNAL.value
GAP_LABELS = dict(Gap.choices)
# The expectation-like rating the knowledge gap compares, per mode.
REFERENCE = {MeasurementMode.EXPECTATION: "E", MeasurementMode.TOLERANCE: "D"}


def _clean(value):
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value.item() if hasattr(value, "item") else value


# A figure nobody counts for.
_NONE = {"n": 0, "total": 0, "sumsq": 0}
# The sums of derived importance in the scores frame, by their names in
# `priorities.derived_importance_from_sums` (x the area score, y the overall
# rating, over the customers with both).
DERIVED_SUMS = {
    "o_n": "n",
    "ox_total": "x_total",
    "ox_sumsq": "x_sumsq",
    "o_total": "y_total",
    "o_sumsq": "y_sumsq",
    "oxy_total": "xy_total",
}


def _record(mapping: dict) -> dict:
    return {key: _clean(value) for key, value in mapping.items()}


class _Reader:
    """The published sums within a cut, and which of them each unit may
    count: a unit counts for an audience only when the snapshot shows its
    total (no filter) or the cut's group (a department for staff, a segment
    for customers), and only the snapshots up to its own cutoff."""

    def __init__(self, published: Published, cut, sums: dict) -> None:
        self.published = published
        self.cut = cut
        self.rows = sums

    def group(self, audience: str):
        """The cut's group of an audience (None: everyone)."""
        return self.cut.department_id if audience == INTERNAL else self.cut.segment_id

    def release(self, unit: str, audience: str):
        """The unit's release when it may be shown within the cut, else None."""
        release = self.published.release(unit, audience)
        group = self.group(audience)
        if group is None:
            return release if release.total else None
        return release if group in release.visible else None

    def of(self, name: str, **values) -> pd.DataFrame:
        """The rows of one of the frames for given column values, e.g.
        of("scores", area="reliability", kind="P", audience="customer"). Each
        frame is split once for all the cuts that share the sums (the worker
        computes every cut from one read)."""
        columns = tuple(values)
        split = self.rows.setdefault("_split", {})
        if (name, columns) not in split:
            frame = self.rows[name]
            split[(name, columns)] = {
                key: part for key, part in frame.groupby(list(columns), sort=False)
            }
        found = split[(name, columns)].get(tuple(values.values()))
        return self.rows[name].iloc[0:0] if found is None else found

    def sums(self, frame: pd.DataFrame, unit: str, audience: str, columns) -> dict:
        """The sums of a frame of sums per snapshot and group (one
        audience's rows), up to the unit's cutoff and within the cut; None
        when it may not be shown."""
        release = self.release(unit, audience)
        if release is None:
            return None
        # Plain arrays: called for every unit of every cut (pandas' own
        # indexing cost more than the sums).
        keep = frame["seq"].to_numpy() <= release.cutoff
        group = self.group(audience)
        if group is not None:
            keep &= frame["group_id"].to_numpy() == group
        return {column: frame[column].to_numpy()[keep].sum() for column in columns}

    def summed(self, name: str, unit: str, audience: str, columns, **values):
        """`sums` of one audience's rows of a frame for given column values,
        renamed to n, total, sumsq (the first three columns); None when the
        unit may not be shown."""
        found = self.sums(
            self.of(name, audience=audience, **values), unit, audience, columns
        )
        if found is None:
            return None
        return dict(zip(["n", "total", "sumsq"], found.values(), strict=False))


def _hidden(n: int, size: int) -> str:
    """Why a figure is not shown ("" when it is)."""
    if n == 0:
        return stats.NOT_ENOUGH
    return stats.fewer_than(size) if n < size else ""


def asks_more(questionnaire) -> bool:
    """Whether a questionnaire gives figures beyond the perception."""
    return (
        len(questionnaire.kinds) > 1
        or questionnaire.ask_importance
        or questionnaire.ask_overall
    )


def priorities_context(study, published: Published, cut=ALL, *, view=None) -> dict:
    """Everything the dashboard's "expectations and priorities" part shows of
    a snapshot within a cut, suppressed; {"shown": False} when the
    questionnaire asks nothing beyond the perception and no segment has a
    weight.

    The part is stored with the snapshot's view of the cut (`priorities_part`,
    computed by the worker with the rest); only segment influence is worked
    out here, from the stored per-segment figures and the weights as they are
    now (the Organization page changes them at any time: one query)."""
    if view is None:
        from analysis.dashboard import study_view

        view = study_view(study, cut, published)
    part = view["priorities"]
    weights = priorities_queries.segment_weights(study)
    weighted = any(w for _, w in weights.values())
    if not part["asks_more"] and not weighted:
        return {"shown": False}
    inputs = part["segment_inputs"]
    return {
        **part,
        "shown": True,
        "segments": segment_influence(inputs, weights, study.min_group_size)
        if weighted and inputs
        else None,
        "segments_filtered": weighted and inputs is None,
    }


def priorities_part(
    study,
    published: Published,
    cut=ALL,
    *,
    sums: dict | None,
    segment_inputs=None,
    item_means=None,
) -> dict:
    """The stored part of `priorities_context` for a cut: every figure of
    expectations, importance and priorities (when the questionnaire asks
    for them) and the per-segment figures segment influence is drawn from.
    `sums` are the priorities' frames of `priorities_queries.published_frames`
    (`analysis.dashboard.snapshot_sums`: read once for every cut; None when
    the questionnaire asks nothing beyond the perception); `item_means` {item id:
    the customers' published mean or None}, from the cut's item table (the
    perception mode's statements in the matrix per statement)."""
    questionnaire = study.questionnaire
    more = asks_more(questionnaire)
    part = {
        "asks_more": more,
        "mode": questionnaire.mode,
        "mode_label": questionnaire.get_mode_display(),
        "min_note": stats.fewer_than(study.min_group_size),
        "segment_inputs": segment_inputs,
        "figures": {},
        "trend_rows": [],
    }
    if more:
        part.update(_priorities(study, published, cut, sums, item_means or {}))
    return part


def _priorities(study, published: Published, cut, sums, item_means: dict) -> dict:
    questionnaire = study.questionnaire
    mode = questionnaire.mode
    multi = len(questionnaire.kinds) > 1
    context = {}
    items = priorities_queries.study_items(study)
    reader = _Reader(published, cut, sums)
    area_keys = list(dict.fromkeys(items["area"]))
    size = study.min_group_size

    areas = {
        key: {
            "area": key,
            "label": AREA_LABELS.get(key, key),
            "gap": _gap_of(items, key),
        }
        for key in area_keys
    }
    item_rows = {
        row["item_id"]: {
            "item_id": row["item_id"],
            "position": row["position"],
            "text": row["customer_text"],
            "area": row["area"],
        }
        for row in items.to_dict("records")
    }

    score_columns = ["n", "x_total", "x_sumsq"]
    if multi:
        item_d = reader.rows["item_d"]
        item_parts = dict(tuple(item_d.groupby("item_id"))) if len(item_d) else {}
        for key in area_keys:
            found = reader.summed(
                "area_d",
                snapshots.area_unit(key, snapshots.DIFFERENCE),
                CUSTOMER,
                ["n", "d_total", "d_sumsq"],
                area=key,
            )
            areas[key]["gap_d"] = _summary_from_sums(found or _NONE, size)
        for item_id, row in item_rows.items():
            found = reader.sums(
                item_parts.get(item_id, item_d.iloc[0:0]),
                snapshots.pair_unit(item_id),
                CUSTOMER,
                priorities_queries.ITEM_D_COLUMNS[3:],
            )
            row["pair_sums"] = found
            row["gap_d"] = _summary_from_sums(found, size)
        reference = REFERENCE[mode]
        for key in area_keys:
            unit = snapshots.area_unit(key, reference)
            areas[key]["knowledge"] = _knowledge_from_sums(
                {
                    audience: reader.summed(
                        "scores",
                        unit,
                        audience,
                        score_columns,
                        area=key,
                        kind=reference,
                    )
                    for audience in (INTERNAL, CUSTOMER)
                },
                size,
            )
        for item_id, row in item_rows.items():
            unit = snapshots.item_unit(item_id, reference)
            row["knowledge"] = _knowledge_from_sums(
                {
                    audience: reader.summed(
                        "item_reference",
                        unit,
                        audience,
                        ["n", "total", "sumsq"],
                        item_id=item_id,
                    )
                    for audience in (INTERNAL, CUSTOMER)
                },
                size,
            )
    else:
        for key in area_keys:
            unit = snapshots.area_unit(key, "P")
            areas[key]["perception"] = _knowledge_from_sums(
                {
                    audience: reader.summed(
                        "scores", unit, audience, score_columns, area=key, kind="P"
                    )
                    for audience in (INTERNAL, CUSTOMER)
                },
                size,
            )

    # The gap-model score.
    score = None
    if multi:
        means = {
            key: areas[key]["gap_d"]["mean"]
            for key in area_keys
            if areas[key]["gap_d"]["shown"]
        }
        score = {"unweighted": priorities.unweighted_score(means), "weighted": None}
        if questionnaire.ask_importance:
            found = reader.summed(
                "weighted", snapshots.WEIGHTED, CUSTOMER, ["n", "total", "sumsq"]
            )
            if found is not None:
                found = priorities.one_sample_from_sums(**found)
                found["shown"] = found["n"] >= size
                found["note"] = _hidden(found["n"], size)
                score["weighted"] = _record(found)

    # Zone of tolerance.
    zone = []
    if mode == MeasurementMode.TOLERANCE:
        for row in item_rows.values():
            found = row.get("pair_sums")
            if not found or found["n"] < size:
                zone.append({**row, "shown": False, "note": stats.fewer_than(size)})
                continue
            record = _record(
                priorities.zone_from_sums(
                    {
                        **found,
                        "mss_total": found["total"],
                        "mss_sumsq": found["sumsq"],
                    }
                )
            )
            inversions = record["inversions"]
            record["inversions_note"] = (
                stats.fewer_than(size) if 0 < inversions < size else ""
            )
            zone.append({**row, **record, "shown": True})

    for row in item_rows.values():
        row.pop("pair_sums", None)
    for row in zone:
        row.pop("pair_sums", None)

    # Importance.
    stated = None
    if questionnaire.ask_importance:
        counted, allocated = {}, {}
        for audience in (CUSTOMER, INTERNAL):
            found = reader.summed("allocators", snapshots.IMPORTANCE, audience, ["n"])
            counted[audience] = 0 if found is None else int(found["n"])
            allocated[audience] = {} if found is None else _points(reader, audience)
        if counted[CUSTOMER] >= size:
            staff = allocated[INTERNAL] if counted[INTERNAL] >= size else {}
            stated = priorities.stated_importance_from_sums(allocated[CUSTOMER], staff)
            for row in stated.to_dict("records"):
                if row["area"] in areas:
                    areas[row["area"]]["importance"] = _record(row)
    derived_any = False
    if questionnaire.ask_overall:
        for key in area_keys:
            found = reader.sums(
                reader.of("scores", audience=CUSTOMER, area=key, kind="P"),
                snapshots.derived_unit(key),
                CUSTOMER,
                ["n", *DERIVED_SUMS],
            )
            if found is None or not found["n"]:
                continue  # no area score to correlate
            found = priorities.derived_importance_from_sums(
                {key: {name: found[column] for column, name in DERIVED_SUMS.items()}},
                min_group_size=size,
            )
            areas[key]["derived"] = _record(found.iloc[0].to_dict())
            derived_any = derived_any or bool(found.iloc[0]["shown"])

    # The priority matrix and where to act first.
    matrix_rows, performance, stated_means, derived_r = [], {}, {}, {}
    for key, area in areas.items():
        if "importance" in area:
            stated_means[key] = area["importance"]["customer_mean"]
        derived = area.get("derived")
        if derived and derived["shown"]:
            derived_r[key] = derived["r"]
        if multi:
            found = area["gap_d"]
            if found["shown"]:
                performance[key] = found
            y = found["mean"] if found["shown"] else None
        else:
            found = area["perception"]
            if found["shown"]:
                performance[key] = found
            y = found["customer_mean"] if found["shown"] else None
        x = stated_means.get(key) if stated is not None else derived_r.get(key)
        matrix_rows.append({"area": key, "label": area["label"], "x": x, "y": y})
    matrix, lines = priorities.priority_matrix(
        pd.DataFrame(matrix_rows, columns=["area", "label", "x", "y"])
    )
    for row in matrix.to_dict("records"):
        areas[row["area"]]["quadrant"] = row["quadrant"]
    item_matrix, item_lines, items_left_out = _item_matrix(
        item_rows, {row["area"]: row["x"] for row in matrix_rows}, multi, item_means
    )
    shares = priorities.importance_shares(
        stated=stated_means if stated is not None else None,
        derived=derived_r if stated is None else None,
    )
    ranked = priorities.act_first(
        shares,
        performance,
        mode=priorities.PERCEPTION if not multi else mode,
    )
    for row in ranked:
        row["label"] = areas[row["area"]]["label"]
        row["gap"] = areas[row["area"]]["gap"]
    x_title = (
        "Importance (mean points of 100)"
        if stated is not None
        else "Derived importance (r with the overall rating)"
    )
    y_title = "Perception gap P − E" if multi else "Customer mean"
    if mode == MeasurementMode.TOLERANCE:
        y_title = "Perception gap P − D (MSS)"
    figures = {}
    if not matrix.empty:
        figures["priority_matrix"] = priority_charts.priority_quadrants(
            matrix, lines, x_title=x_title, y_title=y_title
        )
    if not item_matrix.empty:
        figures["priority_matrix_items"] = priority_charts.priority_quadrants(
            item_matrix,
            item_lines,
            x_title=x_title,
            y_title=y_title,
            title="Priority matrix per statement",
        )
    if zone and any(row["shown"] for row in zone):
        figures["tolerance"] = priority_charts.tolerance_band(
            [row for row in zone if row["shown"]],
            scale=(questionnaire.scale_min, questionnaire.scale_max),
        )
    context.update(
        {
            "multi": multi,
            "reference": REFERENCE.get(mode, "E"),
            "areas": [_record_nested(area) for area in areas.values()],
            "items": [_record_nested(row) for row in item_rows.values()],
            "score": score,
            "zone": zone,
            "stated": stated is not None,
            "derived": derived_any,
            "ask_overall": questionnaire.ask_overall,
            "lines": lines,
            "x_title": x_title,
            "y_title": y_title,
            "act_first": ranked,
            "item_matrix": [_record(row) for row in item_matrix.to_dict("records")],
            "item_lines": item_lines,
            "items_left_out": items_left_out,
            "figures": figures,
            "trend_rows": _trend_rows(areas, score),
        }
    )
    return context


def _item_matrix(
    item_rows: dict, area_x: dict, multi: bool, item_means: dict
) -> tuple[pd.DataFrame, dict, list[dict]]:
    """The priority matrix per statement: each item at its area's importance
    (the area matrix's x) and its own performance (its perception gap; in the
    perception mode its customers' mean as the item table publishes it). Out:
    the items shown with their quadrant (lines at the means of the items
    shown), the lines, and the items left out (no shown importance or
    performance)."""
    rows = []
    for row in item_rows.values():
        if multi:
            found = row["gap_d"]
            y = found["mean"] if found["shown"] else None
        else:
            y = item_means.get(row["item_id"])
        rows.append(
            {
                "item_id": row["item_id"],
                "label": f"q{row['position']}",
                "text": row["text"],
                "area": row["area"],
                "area_label": AREA_LABELS.get(row["area"], row["area"]),
                "x": area_x.get(row["area"]),
                "y": y,
            }
        )
    frame = pd.DataFrame(
        rows, columns=["item_id", "label", "text", "area", "area_label", "x", "y"]
    )
    matrix, lines = priorities.priority_matrix(frame)
    left_out = [
        {"label": row["label"], "text": row["text"]}
        for row in rows
        if row["x"] is None or row["y"] is None
    ]
    return matrix, lines, left_out


def _trend_rows(areas: dict, score: dict | None) -> list[dict]:
    """This snapshot's points of the trend of the new numbers (between
    studies of the same mode): the gap-model scores and each area's
    perception gap and stated importance, where shown."""
    rows = []
    if score is not None:
        if score["unweighted"] is not None:
            rows.append(_point("score", "", "Gap-model score", score["unweighted"]))
        weighted = score["weighted"]
        if weighted and weighted["shown"]:
            rows.append(
                _point(
                    "weighted",
                    "",
                    "Gap-model score, weighted",
                    weighted["mean"],
                    n=weighted["n"],
                    low=weighted["low"],
                    high=weighted["high"],
                )
            )
    for key, area in areas.items():
        found = area.get("gap_d")
        if found and found["shown"]:
            rows.append(
                _point(
                    "gap_d",
                    key,
                    area["label"],
                    found["mean"],
                    n=found["n"],
                    low=found["low"],
                    high=found["high"],
                )
            )
        found = area.get("importance")
        if found and found.get("customer_mean") is not None:
            rows.append(
                _point(
                    "importance",
                    key,
                    area["label"],
                    found["customer_mean"],
                    n=found.get("customer_n"),
                    low=found.get("customer_low"),
                    high=found.get("customer_high"),
                )
            )
    return rows


def _point(measure, area, label, value, *, n=None, low=None, high=None) -> dict:
    return _record(
        {
            "measure": measure,
            "area": area,
            "label": label,
            "value": value,
            "n": n,
            "low": low,
            "high": high,
        }
    )


def _record_nested(row: dict) -> dict:
    return {
        key: _record(value) if isinstance(value, dict) else _clean(value)
        for key, value in row.items()
    }


def _gap_of(items: pd.DataFrame, area: str) -> str:
    """The gap an action on this area belongs to: the area itself when areas
    are gaps, else the commonest gap of the area's items."""
    chosen = items[items["area"] == area]
    if area in GAP_LABELS:
        return area
    return chosen["gap"].mode().iloc[0]


def _summary_from_sums(found: dict | None, size: int) -> dict:
    if found is None:
        return _record({"n": 0, "shown": False, "note": stats.NOT_ENOUGH})
    result = priorities.one_sample_from_sums(
        int(found["n"]), found["total"], found["sumsq"]
    )
    note = _hidden(result["n"], size)
    if note:
        result = {**dict.fromkeys(result), "n": result["n"]}
    return _record({**result, "shown": not note, "note": note})


def _knowledge_from_sums(sides: dict, size: int) -> dict:
    """Staff against customers on one item from each side's (n, Σ, Σ²) up to
    the unit's cutoff; a side not shown or below the minimum size hides the
    comparison."""
    empty = {"n": 0, "total": 0, "sumsq": 0}
    staff, customers = (sides[a] or empty for a in (INTERNAL, CUSTOMER))
    row = priorities.knowledge_gap_from_sums(
        (int(staff["n"]), staff["total"], staff["sumsq"]),
        (int(customers["n"]), customers["total"], customers["sumsq"]),
    )
    return _hide_sides(row, size)


def _hide_sides(row: dict, size: int) -> dict:
    notes = {
        audience: _hidden(row[f"{audience}_n"], size)
        for audience in (INTERNAL, CUSTOMER)
    }
    for audience, note in notes.items():
        if note:
            row[f"{audience}_mean"] = row[f"{audience}_sd"] = None
    if any(notes.values()):
        for key in stats.COMPARISON_KEYS:
            row[key] = None
    row["internal_note"], row["customer_note"] = notes[INTERNAL], notes[CUSTOMER]
    row["shown"] = not notes[CUSTOMER]
    return _record(row)


def _points(reader: _Reader, audience: str) -> dict:
    """{area: (n, Σ points, Σ points²)} of an audience's allocations within
    the cut (integers: exact)."""
    out = {}
    for area in dict.fromkeys(reader.rows["points"]["area"]):
        found = reader.summed(
            "points",
            snapshots.IMPORTANCE,
            audience,
            ["n", "total", "sumsq"],
            area=area,
        )
        if found and found["n"]:
            out[area] = tuple(int(found[k]) for k in ("n", "total", "sumsq"))
    return out


def segment_inputs(published: Published, cut, sums, *, total) -> dict | None:
    """What segment influence is drawn from, per gap and overall, without the
    weights: the staff's and all customers' (n, mean, sd) when shown within
    the cut (`total(gap, audience)`), and each customer group's with whether
    the snapshot shows it. None under a segment filter (one segment: nothing
    to weigh)."""
    if cut.segment_id is not None:
        return None
    hidden = {"n": 0, "mean": None, "sd": None}
    rows = []
    for gap in [*GAP_LABELS, stats.OVERALL]:
        unit = snapshots.OVERALL if gap == stats.OVERALL else snapshots.gap_unit(gap)
        rows.append(
            {
                "gap": gap,
                "staff": _record(sums.describe(gap, INTERNAL))
                if total(gap, INTERNAL)
                else hidden,
                "customers": _record(sums.describe(gap, CUSTOMER))
                if total(gap, CUSTOMER)
                else hidden,
                "segments": [
                    {
                        "group": group,
                        "shown": published.shown(unit, CUSTOMER, group),
                        **_record(sums.describe(gap, CUSTOMER, group)),
                    }
                    for group in sums.groups(CUSTOMER)
                ],
            }
        )
    return {"gaps": rows}


def segment_influence(inputs: dict, weights: dict, size: int) -> dict:
    """Per gap and overall: the respondent-weighted and the segment-weighted
    customer mean and Δ; the segments' contributions to the overall Δ.
    `weights` {segment id: (name, weight or None)}."""
    rows = []
    contributions, left_out = [], 0
    for found_gap in inputs["gaps"]:
        gap = found_gap["gap"]
        segments = []
        for segment in found_gap["segments"]:
            name, weight = weights.get(segment["group"], (None, None))
            segments.append(
                {
                    **{k: v for k, v in segment.items() if k != "group"},
                    "segment": name or "No segment",
                    "weight": weight,
                }
            )
        staff = found_gap["staff"]
        if staff["n"] < size:
            staff = {"n": staff["n"], "mean": None, "sd": None}
        plain = found_gap["customers"]
        found = priorities.segment_influence(segments, staff, min_group_size=size)
        plain_delta = (
            None
            if plain["mean"] is None or staff["mean"] is None or plain["n"] < size
            else staff["mean"] - plain["mean"]
        )
        rows.append(
            {
                "gap": gap,
                "label": GAP_LABELS.get(gap, "Overall"),
                "customer_mean": plain["mean"] if plain["n"] >= size else None,
                "plain_delta": plain_delta,
                "weighted_mean": found["mean"],
                "low": found["low"],
                "high": found["high"],
                "weighted_delta": found["delta"],
                "delta_low": found["delta_low"],
                "delta_high": found["delta_high"],
                "used": found["used"],
                "left_out": found["left_out"],
            }
        )
        if gap == stats.OVERALL:
            contributions, left_out = found["contributions"], found["left_out"]
    return {
        "rows": [_record(row) for row in rows],
        "contributions": [_record(row) for row in contributions],
        "left_out": left_out,
    }
