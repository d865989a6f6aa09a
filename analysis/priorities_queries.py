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

from analysis import queries, stats
from analysis.queries import analysis_cursor
from surveys.areas import area_of, by_dimension
from surveys.models import (
    Item,
    MeasurementMode,
    Segment,
)


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


TEXT_COLUMNS = {"tag", "audience", "area", "kind"}
CUSTOMER = "customer"


# Everything the dashboard needs of a questionnaire that asks more than the
# perception is summed in one statement that reads the answers once:
#
# `pa`: one row per respondent and item, the ratings side by side: P, the
# expectation-like rating r (E, or D in the tolerance mode) and the minimum
# A (tolerance mode only), grouped on (response, item) alone.
# `pi`: those rows with the item's gap and the integer codes of its gap (gq)
# and area (aq) (`SumsParts.item_codes`), and d = P − r on a usable pair:
# one with P and r (and A, not above D, in the tolerance mode: an inverted
# zone is left out of d); NULL otherwise.
# `per`: one row per respondent: what `analysis.queries.study_sums` groups
# (answered P items m<j> and their total t<j> per gap, m_all and t_all), and
# per area q how many items they rated P (mp<q>) and r (mr<q>) and the
# totals, how many usable pairs (k<q>) and the total of P − r over them
# (dt<q>); their overall rating and, with importance, their points per area.
# A respondent's area score is tp / mp, their area gap dt / k: grouping by mp
# (or k) gives exact n, Σ and Σ² of those means without a row per respondent
# leaving the database.
#
# The rows that come back: `study_sums`'s (its thirteen columns, then
# padding), and rows tagged in the first column (then item_id, audience,
# group_id, seq, m, v0 … v6, area, kind, v7 … v11; the group is the one
# frozen in the snapshot entry):
# - #S: area scores per audience, seq, group, area, kind (P or the reference)
#   and m: n, Σt, Σt²; for P also, over the customers with an overall rating
#   o: n, Σt, Σt², Σo, Σo², Σt·o (derived importance);
# - #D: customers' area gaps per seq, group, area and k: n, Σdt, Σdt²;
# - #W: customers' importance-weighted gap scores (Σ_a points_a · d_a over
#   the areas with a gap / the points of those areas) per seq and group:
#   n, Σ, Σ²;
# - #I: per item, audience, seq and group: the customers' usable pairs (n,
#   Σd, Σd², inversions, and the zone's sums) and the reference rating (n,
#   Σ, Σ²);
# - #A: allocated points per audience, seq, group and area: n, Σ, Σ²;
# - #B: respondents with an allocation per audience, seq and group: n.
PI_SQL = (
    "WITH pa AS (SELECT a.response_id AS response_id, a.item_id AS item_id, "
    "MAX(CASE WHEN a.kind = 'P' THEN a.value END) AS pv, "
    "MAX(CASE WHEN a.kind = %s THEN a.value END) AS rv, "
    "{minimum} AS av "
    "FROM {answer} a JOIN {entry} e ON e.response_id = a.response_id "
    "WHERE e.study_id = %s AND e.seq <= %s AND e.seq > %s "
    "GROUP BY a.response_id, a.item_id), "
    "pi AS (SELECT pa.response_id AS response_id, pa.item_id AS item_id, "
    "pa.pv AS pv, pa.rv AS rv, pa.av AS av, ix.gap AS gap, ix.gq AS gq, "
    "ix.aq AS aq, CASE WHEN {ok} THEN pa.pv - pa.rv END AS d "
    "FROM pa JOIN ({item_codes}) ix ON ix.item_id = pa.item_id), "
    "per AS (SELECT x.*, e.audience AS audience, e.group_id AS group_id, "
    "e.seq AS seq, r.overall_rating AS overall{points} FROM ("
    "SELECT response_id, COUNT(pv) AS m_all, COALESCE(SUM(pv), 0) AS t_all, "
    "{gap_columns}, {area_columns} FROM pi GROUP BY response_id) x "
    "JOIN {entry} e ON e.response_id = x.response_id "
    "JOIN {response} r ON r.id = x.response_id{points_join}) "
)
AREA_COLUMNS_SQL = (
    "COUNT(pv) FILTER (WHERE aq = {q}) AS mp{q}, "
    "COALESCE(SUM(pv) FILTER (WHERE aq = {q}), 0) AS tp{q}, "
    "COUNT(rv) FILTER (WHERE aq = {q}) AS mr{q}, "
    "COALESCE(SUM(rv) FILTER (WHERE aq = {q}), 0) AS tr{q}, "
    "COUNT(d) FILTER (WHERE aq = {q}) AS k{q}, "
    "COALESCE(SUM(d) FILTER (WHERE aq = {q}), 0) AS dt{q}"
)
POINTS_JOIN_SQL = (
    " LEFT JOIN (SELECT response_id, {columns} FROM {allocation} "
    "WHERE response_id IN (SELECT response_id FROM {entry} "
    "WHERE study_id = %s AND seq <= %s AND seq > %s) GROUP BY response_id) al "
    "ON al.response_id = x.response_id"
)
# `it`: the answers per item, audience, group, seq and the two "complete"
# flags of `analysis.queries.study_sums`'s item sums, in one pass over the
# pairs: the P ratings' sums (the plain item rows) and everything the #I
# rows add up over the flags.
ITEMS_CTE_SQL = (
    ", it (item_id, audience, group_id, seq, complete, complete_all, n, total, "
    "sumsq, c0, c1, c2, {pair_names}) AS (SELECT a.item_id, p.audience, "
    "p.group_id, p.seq, CASE a.gap {complete} ELSE 0 END, "
    "CASE WHEN p.m_all = %s THEN 1 ELSE 0 END, COUNT(a.pv), "
    "COALESCE(SUM(a.pv), 0), COALESCE(SUM(a.pv * a.pv), 0), {answer_counts}, "
    "{pair_sums} FROM pi a JOIN per p ON p.response_id = a.response_id "
    "GROUP BY a.item_id, p.audience, p.group_id, p.seq, 5, 6) "
)
ITEM_SQL = (
    "SELECT NULL, item_id, audience, group_id, seq, complete, n, total, sumsq, "
    "c0, c1, c2, complete_all{pad} FROM it WHERE n > 0"
)
_NO_TEXT, _NO_INT = "CAST(NULL AS VARCHAR(16))", "CAST(NULL AS INTEGER)"
PAD = f", {_NO_TEXT}, {_NO_TEXT}, 0, 0, 0, 0, 0"
# Per area (its columns q); the area's name is the first parameter.
SCORE_P_SQL = (
    "SELECT '#S', {no_int}, audience, group_id, seq, mp{q}, "
    "COUNT(*), SUM(tp{q}), SUM(tp{q} * tp{q}), "
    "SUM(CASE WHEN overall IS NOT NULL THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN overall IS NOT NULL THEN tp{q} ELSE 0 END), "
    "SUM(CASE WHEN overall IS NOT NULL THEN tp{q} * tp{q} ELSE 0 END), "
    "SUM(CASE WHEN overall IS NOT NULL THEN overall ELSE 0 END), %s, 'P', "
    "SUM(CASE WHEN overall IS NOT NULL THEN overall * overall ELSE 0 END), "
    "SUM(CASE WHEN overall IS NOT NULL THEN tp{q} * overall ELSE 0 END), "
    "0, 0, 0 FROM per WHERE mp{q} > 0 GROUP BY audience, group_id, seq, mp{q}"
)
SCORE_R_SQL = (
    "SELECT '#S', {no_int}, audience, group_id, seq, mr{q}, "
    "COUNT(*), SUM(tr{q}), SUM(tr{q} * tr{q}), 0, 0, 0, 0, %s, %s, 0, 0, 0, 0, 0 "
    "FROM per WHERE mr{q} > 0 GROUP BY audience, group_id, seq, mr{q}"
)
AREA_D_SQL = (
    "SELECT '#D', {no_int}, audience, group_id, seq, k{q}, "
    "COUNT(*), SUM(dt{q}), SUM(dt{q} * dt{q}), 0, 0, 0, 0, %s, {no_text}, "
    "0, 0, 0, 0, 0 FROM per WHERE audience = 'customer' AND k{q} > 0 "
    "GROUP BY audience, group_id, seq, k{q}"
)
WEIGHTED_SQL = (
    "SELECT '#W', {no_int}, 'customer', group_id, seq, {no_int}, "
    "COUNT(*), SUM(s), SUM(s * s), 0, 0, 0, 0, {no_text}, {no_text}, "
    "0, 0, 0, 0, 0 FROM (SELECT group_id, seq, ({weighted}) / ({points}) AS s "
    "FROM per WHERE audience = 'customer' AND ({points}) > 0) w "
    "GROUP BY group_id, seq"
)
# What `it` sums of the pairs per item: the customers' usable pairs (d is
# P − r on a usable pair: n, Σd, Σd², and Σr over them) and everyone's
# reference rating r (n, Σ, Σ²); in the tolerance mode also the zone's sums
# (inversions A > D, P inside [A, D], the MSA P − A: Σ, Σ², and ΣA), which
# are 0 in the expectation mode.
CUSTOMER_PAIR = "audience = 'customer' AND d IS NOT NULL"
PAIR_SUMS = (
    f"COUNT(d) FILTER (WHERE {CUSTOMER_PAIR})",
    f"COALESCE(SUM(d) FILTER (WHERE {CUSTOMER_PAIR}), 0)",
    f"COALESCE(SUM(d * d) FILTER (WHERE {CUSTOMER_PAIR}), 0)",
    "COUNT(*) FILTER (WHERE audience = 'customer' AND pv IS NOT NULL AND av > rv)",
    f"COUNT(*) FILTER (WHERE {CUSTOMER_PAIR} AND av <= pv AND pv <= rv)",
    f"COALESCE(SUM(pv - av) FILTER (WHERE {CUSTOMER_PAIR}), 0)",
    f"COALESCE(SUM((pv - av) * (pv - av)) FILTER (WHERE {CUSTOMER_PAIR}), 0)",
    f"COALESCE(SUM(av) FILTER (WHERE {CUSTOMER_PAIR}), 0)",
    f"COALESCE(SUM(rv) FILTER (WHERE {CUSTOMER_PAIR}), 0)",
    "COUNT(rv)",
    "COALESCE(SUM(rv), 0)",
    "COALESCE(SUM(rv * rv), 0)",
)
ZONE_SUMS = range(3, 8)
ITEM_PAIRS_SQL = (
    "SELECT '#I', item_id, audience, group_id, seq, {no_int}, "
    "SUM(s0), SUM(s1), SUM(s2), SUM(s3), SUM(s4), SUM(s5), SUM(s6), "
    "{no_text}, {no_text}, SUM(s7), SUM(s8), SUM(s9), SUM(s10), SUM(s11) "
    "FROM it GROUP BY item_id, audience, group_id, seq"
)
POINTS_SQL = (
    "SELECT '#A', {no_int}, e.audience, e.group_id, e.seq, {no_int}, "
    "COUNT(*), SUM(l.points), SUM(l.points * l.points), 0, 0, 0, 0, "
    "l.area, {no_text}, 0, 0, 0, 0, 0 "
    "FROM {allocation} l JOIN {entry} e ON e.response_id = l.response_id "
    "WHERE e.study_id = %s AND e.seq <= %s AND e.seq > %s "
    "GROUP BY e.audience, e.group_id, e.seq, l.area"
)
ALLOCATORS_SQL = (
    "SELECT '#B', {no_int}, e.audience, e.group_id, e.seq, {no_int}, "
    "COUNT(*), 0, 0, 0, 0, 0, 0, {no_text}, {no_text}, 0, 0, 0, 0, 0 "
    "FROM {entry} e WHERE e.study_id = %s AND e.seq <= %s AND e.seq > %s AND EXISTS "
    "(SELECT 1 FROM {allocation} l WHERE l.response_id = e.response_id) "
    "GROUP BY e.audience, e.group_id, e.seq"
)
SUM_COLUMNS = [
    "tag",
    "item_id",
    "audience",
    "group_id",
    "seq",
    "m",
    *(f"v{j}" for j in range(7)),
    "area",
    "kind",
    *(f"v{j}" for j in range(7, 12)),
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


def published_sums_rows(
    study, items: pd.DataFrame, upto: int, *, since: int = 0
) -> list:
    """The published respondents' sums, in one statement (see PI_SQL), over
    the snapshots after `since` up to `upto`, each row per snapshot (seq) and
    group so that every cut and every unit's cutoff can be taken from them
    (`published_frames` reads them). `items` is `study_items(study)`."""
    if items.empty or upto <= since:
        return []
    questionnaire = study.questionnaire
    tolerance = questionnaire.mode == MeasurementMode.TOLERANCE
    reference = "D" if tolerance else "E"
    areas = list(dict.fromkeys(items["area"]))
    names = {**queries.table_names(), "no_text": _NO_TEXT, "no_int": _NO_INT}
    ok = "pv IS NOT NULL AND rv IS NOT NULL"
    if tolerance:
        ok += " AND av IS NOT NULL AND av <= rv"
    # Table and column names come from model metadata, the code and loop
    # indexes; every value is a parameter.
    parts = queries.SumsParts(study, items, stats.OVERALL, pad=PAD)
    gap_columns = parts.per_columns("pv")
    area_columns = ", ".join(AREA_COLUMNS_SQL.format(q=q) for q in range(len(areas)))
    item_codes, code_params = parts.item_codes(items, areas)
    points, points_join, points_params = "", "", []
    if questionnaire.ask_importance:
        points = "".join(f", al.pts{q}" for q in range(len(areas)))
        points_join = POINTS_JOIN_SQL.format(
            columns=", ".join(
                f"SUM(CASE WHEN area = %s THEN points ELSE 0 END) AS pts{q}"
                for q in range(len(areas))
            ),
            **names,
        )
        points_params = [*areas, study.pk, upto, since]
    sql = PI_SQL.format(
        ok=ok,
        item_codes=item_codes,
        minimum="MAX(CASE WHEN a.kind = 'A' THEN a.value END)"
        if tolerance
        else _NO_INT,
        gap_columns=gap_columns,
        area_columns=area_columns,
        points=points,
        points_join=points_join,
        **names,
    )
    counts, count_params = parts.answer_counts("a.pv")
    sql += ITEMS_CTE_SQL.format(
        pair_names=", ".join(f"s{j}" for j in range(len(PAIR_SUMS))),
        complete=parts.complete,
        answer_counts=counts,
        pair_sums=", ".join(
            "0" if j in ZONE_SUMS and not tolerance else column
            for j, column in enumerate(PAIR_SUMS)
        ),
    )
    params = [reference, study.pk, upto, since, *code_params, *points_params]
    params += [*parts.complete_params, len(items), *count_params]
    branches = [*parts.score_branches, ITEM_SQL.format(pad=PAD)]
    params += parts.score_params
    for q, name in enumerate(areas):
        branches += [
            SCORE_P_SQL.format(q=q, **names),
            SCORE_R_SQL.format(q=q, **names),
            AREA_D_SQL.format(q=q, **names),
        ]
        params += [name, name, reference, name]
    branches.append(ITEM_PAIRS_SQL.format(**names))
    if questionnaire.ask_importance:
        with_gap = [f"k{q} > 0" for q in range(len(areas))]
        weighted = " + ".join(
            f"CASE WHEN {k} THEN COALESCE(pts{q}, 0) "
            f"* CAST(dt{q} AS DOUBLE PRECISION) / k{q} ELSE 0 END"
            for q, k in enumerate(with_gap)
        )
        total = " + ".join(
            f"CASE WHEN {k} THEN COALESCE(pts{q}, 0) ELSE 0 END"
            for q, k in enumerate(with_gap)
        )
        branches += [
            WEIGHTED_SQL.format(weighted=weighted, points=total, **names),
            POINTS_SQL.format(**names),
            ALLOCATORS_SQL.format(**names),
        ]
        params += [study.pk, upto, since, study.pk, upto, since]
    with analysis_cursor() as cursor:
        cursor.execute(sql + " UNION ALL ".join(branches), params)
        return cursor.fetchall()


def published_frames(rows: list) -> tuple[tuple[pd.DataFrame, pd.DataFrame], dict]:
    """`published_sums_rows`'s rows as frames.

    Out: `analysis.queries.study_sums`'s two frames (of the P ratings), and
    the priorities' frames, with seq and group_id: "scores" (audience, area,
    kind, m, n, and the sums of the respondents' area scores x: x_total,
    x_sumsq; for P the customers with an overall rating o: o_n, ox_total,
    ox_sumsq, o_total, o_sumsq, oxy_total); "area_d" (area, n, d_total,
    d_sumsq: the customers' area gaps); "weighted" (n, total, sumsq of the
    weighted gap scores); "item_d" (ITEM_D_COLUMNS: the customers' pairs per
    item, n, Σd, Σd² without inversions, and in the tolerance mode the
    zone's sums); "item_reference" (item_id, audience, n, total, sumsq of the
    expectation-like rating); "points" (audience, area, n, total, sumsq);
    "allocators" (audience, n).
    """
    tagged = [row for row in rows if row[0] is not None and row[0].startswith("#")]
    plain = [row for row in rows if row[0] is None or not row[0].startswith("#")]
    return queries.sums_frames(plain), _frames(tagged)


def _frames(rows: list) -> dict:
    """The tagged rows as the frames `published_frames` names."""
    rows = pd.DataFrame.from_records(rows, columns=SUM_COLUMNS)
    for column in SUM_COLUMNS:
        if column not in TEXT_COLUMNS and rows[column].dtype == object:
            rows[column] = rows[column].astype(float)
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
        "#S",
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
        "#D", {**where, "area": "area", "k": "m", "n": "v0", "t": "v1", "tt": "v2"}
    )
    k = area_d["k"].astype(float)
    area_d["d_total"] = area_d["t"] / k
    area_d["d_sumsq"] = area_d["tt"] / (k * k)
    items = part(
        "#I",
        {
            "item_id": "item_id",
            **where,
            "n": "v0",
            "total": "v1",
            "sumsq": "v2",
            "inversions": "v3",
            "inside": "v4",
            "msa_total": "v5",
            "msa_sumsq": "v6",
            "a_total": "v7",
            "d_total": "v8",
            "r_n": "v9",
            "r_total": "v10",
            "r_sumsq": "v11",
        },
    )
    # P's total over the pairs is Σd + the reference's total over them.
    items["p_total"] = items["total"] + items["d_total"]
    item_d = items[items["audience"] == CUSTOMER][ITEM_D_COLUMNS].reset_index(drop=True)
    reference = items.loc[
        items["r_n"] > 0,
        ["item_id", "audience", "seq", "group_id", "r_n", "r_total", "r_sumsq"],
    ].rename(columns={"r_n": "n", "r_total": "total", "r_sumsq": "sumsq"})
    return {
        "scores": scores,
        "area_d": area_d,
        "weighted": part("#W", {**where, "n": "v0", "total": "v1", "sumsq": "v2"}),
        "item_d": item_d,
        "item_reference": reference[
            ["item_id", "audience", "seq", "group_id", "n", "total", "sumsq"]
        ].reset_index(drop=True),
        "points": part(
            "#A", {**where, "area": "area", "n": "v0", "total": "v1", "sumsq": "v2"}
        ),
        "allocators": part("#B", {**where, "n": "v0"}),
    }


def segment_weights(study) -> dict[int, tuple[str, float | None]]:
    """{segment id: (name, weight or None)} of the study's organization."""
    return {
        pk: (name, None if weight is None else float(weight))
        for pk, name, weight in Segment.objects.filter(
            organization_id=study.organization_id
        ).values_list("id", "name", "weight")
    }
