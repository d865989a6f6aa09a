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


TEXT_COLUMNS = {"tag", "audience", "area", "kind"}


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


# Everything is summed in one statement that reads the answers once.
#
# `pi`: one row per respondent and item, the ratings side by side: P, the
# expectation-like rating r (E, or D in the tolerance mode) and the minimum
# A (tolerance mode only). `ok` marks a usable pair: P and r given (and A,
# not above D, in the tolerance mode: an inverted zone is left out of d).
# `ra`: one row per respondent and area: how many items they rated P (mp)
# and r (mr) there and the totals, how many usable pairs (k) and the total
# of P − r over them (dt). A respondent's area score is tp / mp, their area
# gap dt / k; grouping the rows by mp (or k) gives exact n, Σ and Σ² of
# those means without a row per respondent leaving the database.
#
# The rows that come back (tag, audience, seq, group_id, area, item_id,
# kind, m, v0 … v8; the group is the one frozen in the snapshot entry):
# - S: area scores per audience, seq, group, area, kind (P, or the
#   reference) and m: n, Σt, Σt²; for P also, over the customers with an
#   overall rating o: n, Σt, Σt², Σo, Σo², Σt·o (derived importance);
# - D: customers' area gaps per seq, group, area and k: n, Σdt, Σdt²;
# - W: customers' importance-weighted gap scores (Σ_a points_a · d_a over
#   the areas with a gap / the points of those areas) per seq and group:
#   n, Σ, Σ²;
# - I: customers' pairs per item, seq and group (ITEM_D_COLUMNS);
# - E: the reference rating per item, audience, seq and group: n, Σ, Σ²;
# - A: allocated points per audience, seq, group and area: n, Σ, Σ²;
# - B: respondents with an allocation per audience, seq and group: n.
PIVOT_SQL = (
    "WITH pi AS (SELECT a.response_id AS response_id, "
    "MAX(e.audience) AS audience, MAX(e.seq) AS seq, MAX(e.group_id) AS group_id, "
    "MAX(i.{area}) AS area, a.item_id AS item_id, "
    "MAX(CASE WHEN a.kind = 'P' THEN a.value END) AS pv, "
    "MAX(CASE WHEN a.kind = %s THEN a.value END) AS rv, "
    "{minimum} AS av "
    "FROM {answer} a JOIN {entry} e ON e.response_id = a.response_id "
    "JOIN {item} i ON i.id = a.item_id "
    "WHERE e.study_id = %s AND e.seq <= %s "
    "GROUP BY a.response_id, a.item_id), "
    "pk AS (SELECT pi.*, CASE WHEN pv IS NOT NULL AND rv IS NOT NULL {usable} "
    "THEN 1 ELSE 0 END AS ok FROM pi), "
    "ra AS (SELECT response_id, MAX(audience) AS audience, MAX(seq) AS seq, "
    "MAX(group_id) AS group_id, area, "
    "SUM(CASE WHEN pv IS NOT NULL THEN 1 ELSE 0 END) AS mp, "
    "SUM(CASE WHEN pv IS NOT NULL THEN pv ELSE 0 END) AS tp, "
    "SUM(CASE WHEN rv IS NOT NULL THEN 1 ELSE 0 END) AS mr, "
    "SUM(CASE WHEN rv IS NOT NULL THEN rv ELSE 0 END) AS tr, "
    "SUM(ok) AS k, SUM(CASE WHEN ok = 1 THEN pv - rv ELSE 0 END) AS dt "
    "FROM pk GROUP BY response_id, area) "
)
_NO_TEXT, _NO_INT = "CAST(NULL AS VARCHAR(16))", "CAST(NULL AS INTEGER)"
SCORE_P_SQL = (
    "SELECT 'S', ra.audience, ra.seq, ra.group_id, ra.area, {no_int}, 'P', ra.mp, "
    "COUNT(*), SUM(ra.tp), SUM(ra.tp * ra.tp), "
    "SUM(CASE WHEN r.overall_rating IS NOT NULL THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN r.overall_rating IS NOT NULL THEN ra.tp ELSE 0 END), "
    "SUM(CASE WHEN r.overall_rating IS NOT NULL THEN ra.tp * ra.tp ELSE 0 END), "
    "SUM(CASE WHEN r.overall_rating IS NOT NULL THEN r.overall_rating ELSE 0 END), "
    "SUM(CASE WHEN r.overall_rating IS NOT NULL "
    "THEN r.overall_rating * r.overall_rating ELSE 0 END), "
    "SUM(CASE WHEN r.overall_rating IS NOT NULL "
    "THEN ra.tp * r.overall_rating ELSE 0 END) "
    "FROM ra JOIN {response} r ON r.id = ra.response_id WHERE ra.mp > 0 "
    "GROUP BY ra.audience, ra.seq, ra.group_id, ra.area, ra.mp"
)
SCORE_R_SQL = (
    "SELECT 'S', audience, seq, group_id, area, {no_int}, %s, mr, "
    "COUNT(*), SUM(tr), SUM(tr * tr), 0, 0, 0, 0, 0, 0 "
    "FROM ra WHERE mr > 0 GROUP BY audience, seq, group_id, area, mr"
)
AREA_D_SQL = (
    "SELECT 'D', audience, seq, group_id, area, {no_int}, {no_text}, k, "
    "COUNT(*), SUM(dt), SUM(dt * dt), 0, 0, 0, 0, 0, 0 "
    "FROM ra WHERE audience = 'customer' AND k > 0 "
    "GROUP BY audience, seq, group_id, area, k"
)
WEIGHTED_SQL = (
    "SELECT 'W', 'customer', seq, group_id, {no_text}, {no_int}, {no_text}, "
    "{no_int}, COUNT(*), SUM(s), SUM(s * s), 0, 0, 0, 0, 0, 0 FROM ("
    "SELECT MAX(ra.seq) AS seq, MAX(ra.group_id) AS group_id, "
    "SUM(l.points * CAST(ra.dt AS DOUBLE PRECISION) / ra.k) "
    "/ SUM(l.points) AS s "
    "FROM ra JOIN {allocation} l ON l.response_id = ra.response_id "
    "AND l.area = ra.area WHERE ra.audience = 'customer' AND ra.k > 0 "
    "GROUP BY ra.response_id HAVING SUM(l.points) > 0) w GROUP BY seq, group_id"
)
ITEM_D_SQL = (
    "SELECT 'I', audience, seq, group_id, {no_text}, item_id, {no_text}, "
    "{no_int}, SUM(ok), SUM(CASE WHEN ok = 1 THEN pv - rv ELSE 0 END), "
    "SUM(CASE WHEN ok = 1 THEN (pv - rv) * (pv - rv) ELSE 0 END), "
    "SUM(1 - ok), "
    "SUM(CASE WHEN ok = 1 AND av <= pv AND pv <= rv THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN ok = 1 THEN pv - av ELSE 0 END), "
    "SUM(CASE WHEN ok = 1 THEN (pv - av) * (pv - av) ELSE 0 END), "
    "SUM(CASE WHEN ok = 1 THEN av ELSE 0 END), "
    "SUM(CASE WHEN ok = 1 THEN rv ELSE 0 END) "
    "FROM pk WHERE audience = 'customer' AND pv IS NOT NULL AND rv IS NOT NULL "
    "{where_minimum} GROUP BY audience, seq, group_id, item_id"
)
ITEM_REFERENCE_SQL = (
    "SELECT 'E', audience, seq, group_id, {no_text}, item_id, {no_text}, "
    "{no_int}, COUNT(*), SUM(rv), SUM(rv * rv), 0, 0, 0, 0, 0, 0 "
    "FROM pk WHERE rv IS NOT NULL GROUP BY audience, seq, group_id, item_id"
)
POINTS_SQL = (
    "SELECT 'A', e.audience, e.seq, e.group_id, l.area, {no_int}, {no_text}, "
    "{no_int}, COUNT(*), SUM(l.points), SUM(l.points * l.points), "
    "0, 0, 0, 0, 0, 0 "
    "FROM {allocation} l JOIN {entry} e ON e.response_id = l.response_id "
    "WHERE e.study_id = %s AND e.seq <= %s "
    "GROUP BY e.audience, e.seq, e.group_id, l.area"
)
ALLOCATORS_SQL = (
    "SELECT 'B', e.audience, e.seq, e.group_id, {no_text}, {no_int}, {no_text}, "
    "{no_int}, COUNT(*), 0, 0, 0, 0, 0, 0, 0, 0 "
    "FROM {entry} e WHERE e.study_id = %s AND e.seq <= %s AND EXISTS "
    "(SELECT 1 FROM {allocation} l WHERE l.response_id = e.response_id) "
    "GROUP BY e.audience, e.seq, e.group_id"
)
SUM_COLUMNS = [
    "tag",
    "audience",
    "seq",
    "group_id",
    "area",
    "item_id",
    "kind",
    "m",
    *(f"v{j}" for j in range(9)),
]
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


def published_sums(study, published: Published, items: pd.DataFrame) -> dict:
    """The published respondents' figures, summed in the database in one
    statement (see PIVOT_SQL), each row per snapshot (seq) and group so that
    every cut and every unit's cutoff can be taken from them.

    Out, frames with seq and group_id: "scores" (audience, area, kind, n, and
    the sums of the respondents' area scores x: x_total, x_sumsq; for P the
    customers with an overall rating o: o_n, ox_total, ox_sumsq, o_total,
    o_sumsq, oxy_total); "area_d" (area, n, d_total, d_sumsq: the customers'
    area gaps); "weighted" (n, total, sumsq of the weighted gap scores);
    "item_d" (ITEM_D_COLUMNS: the customers' pairs per item, n, Σd, Σd²
    without inversions, and in the tolerance mode the zone's sums);
    "item_reference" (item_id, audience, n, total, sumsq of the
    expectation-like rating); "points" (audience, area, n, total, sumsq);
    "allocators" (audience, n).
    """
    questionnaire = study.questionnaire
    tolerance = questionnaire.mode == MeasurementMode.TOLERANCE
    reference = "D" if tolerance else "E"
    area = "dimension" if (items["area"] == items["dimension"]).all() else "gap"
    names = {
        **_tables(),
        "response": connection.ops.quote_name(Response._meta.db_table),
        "allocation": connection.ops.quote_name(Allocation._meta.db_table),
        "no_text": _NO_TEXT,
        "no_int": _NO_INT,
    }
    pivot = PIVOT_SQL.format(
        area=area,
        minimum="MAX(CASE WHEN a.kind = 'A' THEN a.value END)"
        if tolerance
        else _NO_INT,
        usable="AND av IS NOT NULL AND av <= rv" if tolerance else "",
        **names,
    )
    # Table and column names come from model metadata and the code; every
    # value is a parameter.
    branches = [
        (SCORE_P_SQL, []),
        (SCORE_R_SQL, [reference]),
        (AREA_D_SQL, []),
        (
            ITEM_D_SQL.replace(
                "{where_minimum}", "AND av IS NOT NULL" if tolerance else ""
            ),
            [],
        ),
        (ITEM_REFERENCE_SQL, []),
    ]
    if questionnaire.ask_importance:
        branches += [
            (WEIGHTED_SQL, []),
            (POINTS_SQL, [study.pk, published.seq]),
            (ALLOCATORS_SQL, [study.pk, published.seq]),
        ]
    sql = pivot + " UNION ALL ".join(branch.format(**names) for branch, _ in branches)
    params = [reference, study.pk, published.seq]
    params += [p for _, branch_params in branches for p in branch_params]
    return _frames(_fetch(sql, params, SUM_COLUMNS))


def empty_sums() -> dict:
    """`published_sums` of a study with nothing published."""
    return _frames(pd.DataFrame(columns=SUM_COLUMNS))


def _frames(rows: pd.DataFrame) -> dict:
    """The statement's rows as the frames `published_sums` names."""
    parts = {tag: part for tag, part in rows.groupby("tag", sort=False)}

    def part(tag: str, columns: dict) -> pd.DataFrame:
        found = parts.get(tag, rows.iloc[0:0])
        frame = pd.DataFrame(
            {new: found[old].to_numpy() for new, old in columns.items()},
            columns=list(columns),
        )
        if "group_id" in frame:
            frame["group_id"] = frame["group_id"].astype(object)
            frame.loc[frame["group_id"].isna(), "group_id"] = None
        return frame.reset_index(drop=True)

    where = {"audience": "audience", "seq": "seq", "group_id": "group_id"}
    scores = part(
        "S",
        {
            **where,
            "area": "area",
            "kind": "kind",
            "m": "m",
            "n": "v0",
            "t": "v1",
            "tt": "v2",
            "o_n": "v3",
            "ot": "v4",
            "ott": "v5",
            "o_total": "v6",
            "o_sumsq": "v7",
            "oty": "v8",
        },
    )
    m = scores["m"].astype(float)
    # A respondent's score is t / m: Σx = Σt / m, Σx² = Σt² / m², Σxy = Σty / m.
    scores["x_total"] = scores["t"] / m
    scores["x_sumsq"] = scores["tt"] / (m * m)
    scores["ox_total"] = scores["ot"] / m
    scores["ox_sumsq"] = scores["ott"] / (m * m)
    scores["oxy_total"] = scores["oty"] / m
    area_d = part(
        "D", {**where, "area": "area", "k": "m", "n": "v0", "t": "v1", "tt": "v2"}
    )
    k = area_d["k"].astype(float)
    area_d["d_total"] = area_d["t"] / k
    area_d["d_sumsq"] = area_d["tt"] / (k * k)
    item_d = part(
        "I",
        {
            "item_id": "item_id",
            "seq": "seq",
            "group_id": "group_id",
            "n": "v0",
            "total": "v1",
            "sumsq": "v2",
            "inversions": "v3",
            "inside": "v4",
            "msa_total": "v5",
            "msa_sumsq": "v6",
            "a_total": "v7",
            "d_total": "v8",
        },
    )
    # D's total in the zone is the reference's total over the pairs.
    item_d["p_total"] = item_d["total"] + item_d["d_total"]
    item_d = item_d[ITEM_D_COLUMNS]
    return {
        "scores": scores,
        "area_d": area_d,
        "weighted": part("W", {**where, "n": "v0", "total": "v1", "sumsq": "v2"}),
        "item_d": item_d,
        "item_reference": part(
            "E",
            {"item_id": "item_id", **where, "n": "v0", "total": "v1", "sumsq": "v2"},
        ),
        "points": part(
            "A", {**where, "area": "area", "n": "v0", "total": "v1", "sumsq": "v2"}
        ),
        "allocators": part("B", {**where, "n": "v0"}),
    }


def segment_weights(study) -> dict[int, tuple[str, float | None]]:
    """{segment id: (name, weight or None)} of the study's organization."""
    return {
        pk: (name, None if weight is None else float(weight))
        for pk, name, weight in Segment.objects.filter(
            organization_id=study.organization_id
        ).values_list("id", "name", "weight")
    }
