"""The ORM and SQL reads of the expectations, importance and priorities
figures: the sibling of `analysis.queries` for `analysis.priorities_view`.

Everything read here is what the study's published snapshots hold (the
responses of `SnapshotEntry` rows up to the published seq, in the group
frozen there); `priorities_view` then keeps each unit to its own published
cutoff. As in `analysis.queries`, answers never come back one by one: the
database groups them into rows per respondent and area (area scores, area
gaps) or into sums per item and snapshot (n, Σ, Σ²), so a study of 20,000
customers returns about 100,000 small rows per read at most.
"""

import pandas as pd
from django.db import connection

from analysis.queries import analysis_cursor
from surveys.areas import area_of, by_dimension
from surveys.models import (
    Allocation,
    Answer,
    Item,
    MeasurementMode,
    Response,
    Segment,
    SnapshotEntry,
)
from surveys.services.snapshots import Published


def study_items(study) -> pd.DataFrame:
    """item_id, position, gap, dimension, area, customer_text, internal_text,
    in questionnaire order."""
    rows = list(
        Item.objects.filter(questionnaire_id=study.questionnaire_id)
        .order_by("position", "id")
        .values_list(
            "id", "position", "gap", "dimension", "customer_text", "internal_text"
        )
    )
    dimensions = by_dimension([(gap, dimension) for _, _, gap, dimension, *_ in rows])
    return pd.DataFrame.from_records(
        [
            (pk, position, gap, dimension, area_of((gap, dimension), dimensions), c, i)
            for pk, position, gap, dimension, c, i in rows
        ],
        columns=[
            "item_id",
            "position",
            "gap",
            "dimension",
            "area",
            "customer_text",
            "internal_text",
        ],
    )


def _tables() -> dict:
    return {
        "answer": connection.ops.quote_name(Answer._meta.db_table),
        "entry": connection.ops.quote_name(SnapshotEntry._meta.db_table),
        "item": connection.ops.quote_name(Item._meta.db_table),
    }


TEXT_COLUMNS = {"audience", "area", "kind"}


def _fetch(sql: str, params: list, columns: list[str]) -> pd.DataFrame:
    """Rows of a statement; every column but the text ones as numbers (sums
    come back as Decimal on PostgreSQL)."""
    with analysis_cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for column in columns:
        if column not in TEXT_COLUMNS and frame[column].dtype == object:
            frame[column] = frame[column].astype(float)
    return frame


# Area scores: each respondent's mean per area and rating kind ("don't know"
# left out). The area is a column of the item (dimension or gap), named by
# the code, never by input.
SCORES_SQL = (
    "SELECT a.response_id, e.audience, e.seq, i.{area}, a.kind, "
    "SUM(a.value), COUNT(*) "
    "FROM {answer} a JOIN {entry} e ON e.response_id = a.response_id "
    "JOIN {item} i ON i.id = a.item_id "
    "WHERE e.study_id = %s AND e.seq <= %s AND a.value IS NOT NULL "
    "GROUP BY a.response_id, e.audience, e.seq, i.{area}, a.kind"
)
# The customers' pairs: P with E (expectation mode) or with D and A
# (tolerance mode), per respondent and item, with whether A > D (inversion).
PAIRS_SQL = (
    "WITH pairs AS (SELECT p.response_id AS response_id, e.seq AS seq, "
    "p.item_id AS item_id, e.group_id AS group_id, i.{area} AS area, "
    "p.value - r.value AS d, "
    "p.value AS pv, r.value AS rv, {minimum} AS av, "
    "CASE WHEN {minimum} > r.value THEN 1 ELSE 0 END AS inverted "
    "FROM {answer} p JOIN {answer} r ON r.response_id = p.response_id "
    "AND r.item_id = p.item_id AND r.kind = %s {join_minimum}"
    "JOIN {entry} e ON e.response_id = p.response_id "
    "JOIN {item} i ON i.id = p.item_id "
    "WHERE e.study_id = %s AND e.seq <= %s AND e.audience = 'customer' "
    "AND p.kind = 'P' AND p.value IS NOT NULL AND r.value IS NOT NULL "
    "{where_minimum}) "
)
AREA_D_SQL = (
    "SELECT 0, response_id, seq, group_id, area, COUNT(*), SUM(d), "
    "0, 0, 0, 0, 0, 0, 0, 0 "
    "FROM pairs WHERE inverted = 0 GROUP BY response_id, seq, group_id, area"
)
ITEM_D_SQL = (
    "SELECT 1, item_id, seq, group_id, NULL, "
    "SUM(1 - inverted), SUM(CASE WHEN inverted = 0 THEN d ELSE 0 END), "
    "SUM(CASE WHEN inverted = 0 THEN d * d ELSE 0 END), SUM(inverted), "
    "SUM(CASE WHEN inverted = 0 AND av <= pv AND pv <= rv THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN inverted = 0 THEN pv - av ELSE 0 END), "
    "SUM(CASE WHEN inverted = 0 THEN (pv - av) * (pv - av) ELSE 0 END), "
    "SUM(CASE WHEN inverted = 0 THEN av ELSE 0 END), "
    "SUM(CASE WHEN inverted = 0 THEN rv ELSE 0 END), "
    "SUM(CASE WHEN inverted = 0 THEN pv ELSE 0 END) "
    "FROM pairs GROUP BY item_id, seq, group_id"
)
ITEM_SUMS_SQL = (
    "SELECT a.item_id, e.audience, e.seq, e.group_id, COUNT(*), SUM(a.value), "
    "SUM(a.value * a.value) "
    "FROM {answer} a JOIN {entry} e ON e.response_id = a.response_id "
    "WHERE e.study_id = %s AND e.seq <= %s AND a.kind = %s "
    "AND a.value IS NOT NULL GROUP BY a.item_id, e.audience, e.seq, e.group_id"
)
ITEM_D_COLUMNS = [
    "item_id",
    "seq",
    "group_id",
    "n",
    "total",
    "sumsq",
    "inversions",
    "inside",
    "msa_total",
    "msa_sumsq",
    "a_total",
    "d_total",
    "p_total",
]


def published_rows(study, published: Published, items: pd.DataFrame) -> dict:
    """The published respondents' figures, grouped in the database.

    Out: {"entries": response_id, audience, group_id, seq;
    "scores": response_id, audience, seq, area, kind, score (the area
    score); "area_d": response_id, seq, area, d (customers' area gaps);
    "item_d": ITEM_D_COLUMNS per item, snapshot and group (the customers' pairs:
    n, Σd, Σd² without inversions; in the tolerance mode also the zone's
    sums); "item_reference": item_id, audience, seq, group_id, n, total, sumsq of the
    expectation-like rating (E, or D in the tolerance mode);
    "points": response_id, area, points; "overall": response_id, overall}.
    """
    questionnaire = study.questionnaire
    upto = published.seq
    area = "dimension" if (items["area"] == items["dimension"]).all() else "gap"
    tables = _tables()
    entries = pd.DataFrame.from_records(
        list(
            SnapshotEntry.objects.filter(study=study, seq__lte=upto).values_list(
                "response_id", "audience", "group_id", "seq"
            )
        ),
        columns=["response_id", "audience", "group_id", "seq"],
    )
    scores = _fetch(
        SCORES_SQL.format(area=area, **tables),  # noqa: S608
        [study.pk, upto],
        ["response_id", "audience", "seq", "area", "kind", "total", "n"],
    )
    scores["score"] = scores["total"].astype(float) / scores["n"].astype(float)
    rows = {"entries": entries, "scores": scores}
    if len(questionnaire.kinds) > 1:
        tolerance = questionnaire.mode == MeasurementMode.TOLERANCE
        reference = "D" if tolerance else "E"
        pairs = PAIRS_SQL.format(
            area=area,
            minimum="m.value" if tolerance else "CAST(NULL AS INTEGER)",
            join_minimum="JOIN {answer} m ON m.response_id = p.response_id "
            "AND m.item_id = p.item_id AND m.kind = 'A' ".format(**tables)
            if tolerance
            else "",
            where_minimum="AND m.value IS NOT NULL" if tolerance else "",
            **tables,
        )
        params = [reference, study.pk, upto]
        # One statement, the pairs formed once: the area gaps' rows (tag 0)
        # and the items' sums (tag 1), in the same columns.
        both = _fetch(
            pairs + AREA_D_SQL + " UNION ALL " + ITEM_D_SQL,
            params,
            ["tag", *ITEM_D_COLUMNS[:3], "area", *ITEM_D_COLUMNS[3:]],
        )
        area_d = both[both["tag"] == 0].rename(columns={"item_id": "response_id"})
        area_d = area_d[["response_id", "seq", "area", "total", "n"]].copy()
        area_d["d"] = area_d["total"].astype(float) / area_d["n"].astype(float)
        rows["area_d"] = area_d.reset_index(drop=True)
        rows["item_d"] = both.loc[both["tag"] == 1, ITEM_D_COLUMNS].reset_index(
            drop=True
        )
        rows["item_reference"] = _fetch(
            ITEM_SUMS_SQL.format(**tables),  # noqa: S608
            [study.pk, upto, reference],
            ["item_id", "audience", "seq", "group_id", "n", "total", "sumsq"],
        )
    chosen = {
        "response__snapshot_entry__study": study,
        "response__snapshot_entry__seq__lte": upto,
    }
    rows["points"] = pd.DataFrame.from_records(
        list(
            Allocation.objects.filter(**chosen).values_list(
                "response_id", "area", "points"
            )
        ),
        columns=["response_id", "area", "points"],
    )
    rows["overall"] = pd.DataFrame.from_records(
        list(
            Response.objects.filter(
                snapshot_entry__study=study,
                snapshot_entry__seq__lte=upto,
                overall_rating__isnull=False,
            ).values_list("id", "overall_rating")
        ),
        columns=["response_id", "overall"],
    )
    return rows


def segment_weights(study) -> dict[int, tuple[str, float | None]]:
    """{segment id: (name, weight or None)} of the study's organization."""
    return {
        pk: (name, None if weight is None else float(weight))
        for pk, name, weight in Segment.objects.filter(
            organization_id=study.organization_id
        ).values_list("id", "name", "weight")
    }
