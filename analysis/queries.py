"""SQL aggregates into DataFrames: the only analysis code that touches the ORM.

Answers are never pulled into Python one by one: every function here groups in
the database (GROUP BY) and returns aggregated rows. The largest frame is
respondent × gap (one row per response and gap: 22,000 responses × 5 gaps =
110,000 rows for a study of 20,000 customers and 2,000 staff).

Only submitted responses count, and "don't know" (a NULL value) is left out of
every mean. A `Cut` narrows the staff to one department and/or the customers to
one segment; the other audience is left whole, so a department can be compared
with all customers, or all staff with one segment.
"""

from dataclasses import dataclass
from datetime import date

import pandas as pd
from django.db import connection
from django.db.models import Count, F, Max, Q, Sum

from analysis import stats
from surveys.models import (
    Action,
    Answer,
    Audience,
    Department,
    Item,
    Membership,
    Response,
    Role,
    Segment,
    Study,
)

NO_DEPARTMENT = "No department"
NO_SEGMENT = "No segment"


@dataclass(frozen=True)
class Cut:
    """The dashboard filter: staff of one department, customers of one segment."""

    department_id: int | None = None
    segment_id: int | None = None


ALL = Cut()


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
]


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


def _tables() -> dict:
    return {
        "answer": Answer._meta.db_table,
        "response": Response._meta.db_table,
        "item": Item._meta.db_table,
        "study": Study._meta.db_table,
    }


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
    """.format(cut=cut_sql, **_tables())  # noqa: S608
    params = [study.pk, Response.Status.SUBMITTED, *cut_params, study.questionnaire_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _sums_frame(rows)


SCORE_SUM_COLUMNS = [
    "audience",
    "group_id",
    "gap",
    "m",
    "n",
    "total",
    "sumsq",
    "disappointed",
    "neutral",
    "delighted",
]
ITEM_SUM_COLUMNS = ["item_id", "audience", "complete", "n", "total", "sumsq"]


# study_sums: each respondent's totals (m = answered items, t = their sum)
# overall and per gap, then grouped by audience, group and m for each gap, then
# the item sums split by the respondent having answered the item's whole gap.
PER_RESPONSE_SQL = (
    "WITH per AS (SELECT r.id AS response_id, r.audience AS audience, "
    "CASE WHEN r.audience = %s THEN r.department_id ELSE r.segment_id END "
    "AS group_id, COUNT(*) AS m_all, SUM(a.value) AS t_all, {columns} "
    "FROM {answer} a JOIN {response} r ON a.response_id = r.id "
    "JOIN {item} i ON a.item_id = i.id WHERE {where} "
    "GROUP BY r.id, r.audience, r.department_id, r.segment_id) "
)
SCORE_BRANCH_SQL = (
    "SELECT %s, CAST(NULL AS BIGINT), audience, group_id, {m}, COUNT(*), "
    "SUM({t}), SUM({t} * {t}), {counts} FROM per WHERE {m} > 0 "
    "GROUP BY audience, group_id, {m}"
)
ITEM_BRANCH_SQL = (
    "SELECT NULL, a.item_id, r.audience, NULL, CASE i.gap {complete} ELSE 0 END, "
    "COUNT(*), SUM(a.value), SUM(a.value * a.value), 0, 0, 0 "
    "FROM {answer} a JOIN {response} r ON a.response_id = r.id "
    "JOIN {item} i ON a.item_id = i.id "
    "JOIN per p ON p.response_id = a.response_id "
    "WHERE {where} GROUP BY a.item_id, r.audience, 5"
)


def study_sums(
    study: Study, items: pd.DataFrame, cut: Cut = ALL, *, overall: str = "overall"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Everything the study's numbers need, as small integer sums, in one statement.

    Each submitted respondent's gap scores (total and count of the answered
    items per gap, one row per response) are formed inside the database and
    never leave it; what comes back is grouped:

    - score sums: one row per audience, group_id (department for staff,
      segment for customers; None for none), gap (or `overall`: all the
      respondent's answered items) and m (answered items in it): n (such
      respondents), total (Σ of their totals), sumsq (Σ of squared totals),
      and how many of them fall in the distribution categories disappointed,
      neutral, delighted (thresholds of `stats.classify`, compared exactly in
      integers: score < midpoint ⟺ 2·total < (min + max)·m). A respondent's
      score is total / m, so Σ score = Σ total / m and Σ score² = Σ sumsq / m²:
      exact means and SDs follow without a row per respondent.
    - item sums: one row per item, audience and complete (1 when the
      respondent answered every item of the item's gap, the listwise sample
      of Cronbach's alpha): n, total, sumsq of the answered values.

    `items` is `study_items(study)`. The per-respondent aggregate is computed
    once (a CTE used by both), so the answers are read twice in all rather
    than once per statistic.
    """
    if items.empty:
        return (
            pd.DataFrame(columns=SCORE_SUM_COLUMNS),
            pd.DataFrame(columns=ITEM_SUM_COLUMNS),
        )
    questionnaire = study.questionnaire
    scale_sum = questionnaire.scale_min + questionnaire.scale_max
    top = stats.delighted_from(questionnaire.scale_min, questionnaire.scale_max)
    sizes = items.groupby("gap", sort=False)["item_id"].count()
    gaps = list(sizes.index)
    cut_sql, cut_params = _cut_sql(cut)
    where = "r.study_id = %s AND r.status = %s AND a.value IS NOT NULL AND " + cut_sql
    where_params = [study.pk, Response.Status.SUBMITTED, *cut_params]

    per_columns, per_params = [], []
    for j, gap in enumerate(gaps):
        per_columns.append(
            f"SUM(CASE WHEN i.gap = %s THEN 1 ELSE 0 END) AS m{j}, "
            f"SUM(CASE WHEN i.gap = %s THEN a.value ELSE 0 END) AS t{j}"
        )
        per_params += [gap, gap]

    def categories(t: str, m: str) -> tuple[str, list]:
        return (
            f"SUM(CASE WHEN 2 * {t} < %s * {m} THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN 2 * {t} = %s * {m} THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN 2 * {t} > %s * {m} AND {t} >= %s * {m} "
            "THEN 1 ELSE 0 END)",
            [scale_sum, scale_sum, scale_sum, top],
        )

    # Table and column names come from model metadata and loop indexes; every
    # value is a parameter.
    branches, branch_params = [], []
    for j, gap in [*enumerate(gaps), (None, overall)]:
        t, m = ("t_all", "m_all") if j is None else (f"t{j}", f"m{j}")
        counts, count_params = categories(t, m)
        branches.append(
            SCORE_BRANCH_SQL.format(t=t, m=m, counts=counts)  # noqa: S608
        )
        branch_params += [gap, *count_params]
    complete = " ".join(
        f"WHEN %s THEN CASE WHEN p.m{j} = %s THEN 1 ELSE 0 END"
        for j in range(len(gaps))
    )
    complete_params = [x for gap in gaps for x in (gap, int(sizes[gap]))]
    branches.append(
        ITEM_BRANCH_SQL.format(complete=complete, where=where, **_tables())  # noqa: S608
    )
    branch_params += [*complete_params, *where_params]
    sql = PER_RESPONSE_SQL.format(
        columns=", ".join(per_columns), where=where, **_tables()
    ) + " UNION ALL ".join(branches)
    params = [Audience.INTERNAL, *per_params, *where_params, *branch_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    scores = [row[:1] + row[2:] for row in rows if row[1] is None]
    item_rows = [row[1:3] + row[4:8] for row in rows if row[1] is not None]
    # Sums come back as int, or Decimal on PostgreSQL (SUM of a bigint).
    score_frame = pd.DataFrame.from_records(
        [
            (audience, group_id, gap, *(int(x) for x in rest))
            for gap, audience, group_id, *rest in scores
        ],
        columns=SCORE_SUM_COLUMNS,
    )
    item_frame = pd.DataFrame.from_records(
        [
            (int(item_id), audience, *(int(x) for x in rest))
            for item_id, audience, *rest in item_rows
        ],
        columns=ITEM_SUM_COLUMNS,
    )
    return score_frame, item_frame


def study_items(study: Study) -> pd.DataFrame:
    """The questionnaire's items: item_id, gap, position, internal_text,
    customer_text, in questionnaire order."""
    rows = (
        Item.objects.filter(questionnaire_id=study.questionnaire_id)
        .order_by("position", "id")
        .values_list("id", "gap", "position", "internal_text", "customer_text")
    )
    return pd.DataFrame.from_records(
        list(rows),
        columns=["item_id", "gap", "position", "internal_text", "customer_text"],
    )


def comments(
    study: Study,
    cut: Cut,
    *,
    allowed: dict[str, list[int | None]],
    limit: int = 50,
) -> pd.DataFrame:
    """The latest free-text comments of the allowed groups only.

    `allowed` maps an audience to the group ids (department for staff, segment
    for customers; None for "no group") at or above the minimum size. Comments
    of any other group never leave the database. Columns: audience, group,
    comment; newest first, at most `limit` per audience.
    """
    frames = []
    for audience, field in (
        (Audience.INTERNAL, "department"),
        (Audience.CUSTOMER, "segment"),
    ):
        ids = allowed.get(audience, [])
        if not ids:
            continue
        in_group = Q(**{f"{field}_id__in": [i for i in ids if i is not None]})
        if None in ids:
            in_group |= Q(**{f"{field}_id__isnull": True})
        rows = (
            Response.objects.filter(
                _response_q(study, cut), in_group, audience=audience
            )
            .exclude(comment="")
            .order_by("-submitted_at", "-id")
            .values_list("audience", f"{field}__name", "comment")[:limit]
        )
        frame = pd.DataFrame.from_records(
            list(rows), columns=["audience", "group", "comment"]
        ).astype("object")
        frame["group"] = frame["group"].fillna(
            NO_DEPARTMENT if audience == Audience.INTERNAL else NO_SEGMENT
        )
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["audience", "group", "comment"])
    return pd.concat(frames, ignore_index=True)


def group_sizes(study: Study, cut: Cut = ALL) -> pd.DataFrame:
    """Submitted responses with at least one answer, per audience and group.

    Columns: audience, group_id, n. For the exports, which need the sizes
    without the respondent frame.
    """
    rows = (
        Response.objects.filter(_response_q(study, cut), answers__value__isnull=False)
        .values_list("audience", "department_id", "segment_id")
        .annotate(n=Count("id", distinct=True))
        .order_by()
    )
    frame = pd.DataFrame.from_records(
        list(rows), columns=["audience", "department_id", "segment_id", "n"]
    ).astype({"department_id": "Int64", "segment_id": "Int64", "n": "int64"})
    internal = frame["audience"] == Audience.INTERNAL
    frame["group_id"] = frame["segment_id"].where(~internal, frame["department_id"])
    return frame[["audience", "group_id", "n"]]


def anonymized_answers(study: Study, cut: Cut, *, allowed: dict[str, list]):
    """Answer rows of the allowed groups, for the anonymized export only.

    Yields (response_id, audience, department, segment, item_position, gap,
    value) ordered by response, streamed from the database in chunks; value is
    None for "don't know". No names, emails, user or invitation ids. This is
    the one place rows leave the database one by one: an export of the raw
    answers has to.
    """
    in_group = Q(pk__in=[])
    for audience, field in (
        (Audience.INTERNAL, "department"),
        (Audience.CUSTOMER, "segment"),
    ):
        ids = allowed.get(audience, [])
        if not ids:
            continue
        q = Q(**{f"response__{field}_id__in": [i for i in ids if i is not None]})
        if None in ids:
            q |= Q(**{f"response__{field}_id__isnull": True})
        in_group |= Q(response__audience=audience) & q
    return (
        Answer.objects.filter(_response_q(study, cut, "response__"), in_group)
        .order_by("response_id", "item__position", "item_id")
        .values_list(
            "response_id",
            "response__audience",
            "response__department__name",
            "response__segment__name",
            "item__position",
            "item__gap",
            "value",
        )
        .iterator(chunk_size=5000)
    )


def staff_rate(study: Study) -> dict:
    """Staff members of the organization and their submitted self-assessments.

    Out: {"members", "submitted", "rate" (0–1 or None)}; one query.
    """
    counts = Membership.objects.filter(organization_id=study.organization_id).aggregate(
        members=Count("id", filter=Q(role=Role.STAFF), distinct=True),
        submitted=Count(
            "user__responses",
            distinct=True,
            filter=Q(
                role=Role.STAFF,
                user__responses__study=study,
                user__responses__status=Response.Status.SUBMITTED,
            ),
        ),
    )
    members, submitted = counts["members"], counts["submitted"]
    return {
        "members": members,
        "submitted": submitted,
        "rate": submitted / members if members else None,
    }


def organization_groups(study: Study) -> tuple[list[tuple], list[tuple]]:
    """(departments, segments) of the study's organization as (id, name)."""
    departments = list(
        Department.objects.filter(organization_id=study.organization_id).values_list(
            "id", "name"
        )
    )
    segments = list(
        Segment.objects.filter(organization_id=study.organization_id).values_list(
            "id", "name"
        )
    )
    return departments, segments


def _study_date(row) -> date:
    if row["opens_on"] is not None:
        return row["opens_on"]
    moment = row["opened_at"] or row["created_at"]
    return moment.date()


def study_date(study: Study) -> date:
    """The date a study stands at in the trend: opens_on, else opened_at,
    else created_at."""
    return _study_date(
        {
            "opens_on": study.opens_on,
            "opened_at": study.opened_at,
            "created_at": study.created_at,
        }
    )


def group_names(study: Study) -> dict:
    """{(audience, group id): name} of the organization's departments (staff)
    and segments (customers), None standing for "no group"."""
    departments, segments = organization_groups(study)
    names = {
        (Audience.INTERNAL, None): NO_DEPARTMENT,
        (Audience.CUSTOMER, None): NO_SEGMENT,
    }
    names.update({(Audience.INTERNAL, pk): name for pk, name in departments})
    names.update({(Audience.CUSTOMER, pk): name for pk, name in segments})
    return names


def studies_signature(study: Study) -> str:
    """What the organization's trend depends on, in one small aggregate: the
    number of open/closed studies, their last change and minimum group sizes."""
    found = Study.objects.filter(
        organization_id=study.organization_id,
        status__in=[Study.Status.OPEN, Study.Status.CLOSED],
    ).aggregate(
        count=Count("id"),
        changed=Max("changed_at"),
        sizes=Sum("min_group_size"),
        dates=Count("opens_on"),
    )
    changed = found["changed"].isoformat() if found["changed"] else "-"
    return f"{found['count']}-{changed}-{found['sizes']}-{found['dates']}"


def trend_sums(
    study: Study, cut: Cut = ALL, *, exclude_study: bool = False
) -> pd.DataFrame:
    """Per study of the organization (open or closed), audience and gap: the n,
    sum and sum of squares of respondent gap scores, in one nested GROUP BY.

    Columns: study_id, name, date (opens_on, else opened_at, else created_at),
    min_group_size, audience, gap, n, total, sumsq; studies without submitted
    answers are absent; ordered by date. `exclude_study` leaves `study` itself
    out (the dashboard has its sums already).
    """
    cut_sql, cut_params = _cut_sql(cut)
    params = [
        study.organization_id,
        Study.Status.OPEN,
        Study.Status.CLOSED,
        Response.Status.SUBMITTED,
        *cut_params,
    ]
    if exclude_study:
        cut_sql += " AND st.id <> %s"
        params.append(study.pk)
    # Table names come from model metadata, values are parameters.
    sql = """
        SELECT s.study_id, s.audience, s.gap, COUNT(*), SUM(s.score),
               SUM(s.score * s.score)
        FROM (
            SELECT r.study_id AS study_id, r.audience AS audience, i.gap AS gap,
                   r.id AS response_id,
                   AVG(CAST(a.value AS DOUBLE PRECISION)) AS score
            FROM {answer} a
            JOIN {response} r ON a.response_id = r.id
            JOIN {item} i ON a.item_id = i.id
            JOIN {study} st ON r.study_id = st.id
            WHERE st.organization_id = %s AND st.status IN (%s, %s)
              AND r.status = %s AND a.value IS NOT NULL AND {cut}
            GROUP BY r.study_id, r.audience, i.gap, r.id
        ) s
        GROUP BY s.study_id, s.audience, s.gap
    """.format(cut=cut_sql, **_tables())  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    sums = pd.DataFrame.from_records(
        rows, columns=["study_id", "audience", "gap", "n", "total", "sumsq"]
    ).astype(
        {"study_id": "int64", "n": "int64", "total": "float64", "sumsq": "float64"}
    )
    studies = pd.DataFrame.from_records(
        list(
            Study.objects.filter(pk__in=sums["study_id"].unique().tolist()).values(
                "id", "name", "opens_on", "opened_at", "created_at", "min_group_size"
            )
        ),
        columns=["id", "name", "opens_on", "opened_at", "created_at", "min_group_size"],
    )
    if studies.empty:
        return pd.DataFrame(
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
            ]
        )
    studies["date"] = [_study_date(row) for _, row in studies.iterrows()]
    studies = studies.rename(columns={"id": "study_id"})[
        ["study_id", "name", "date", "min_group_size"]
    ]
    frame = studies.merge(sums, on="study_id")
    return frame.sort_values(["date", "study_id", "audience", "gap"], ignore_index=True)


def organization_actions(study: Study) -> pd.DataFrame:
    """The organization's actions: id, study_id, gap, description, owner, due_on,
    status, status_label, created_at (date), closed_at."""
    labels = dict(Action.Status.choices)
    rows = Action.objects.filter(organization_id=study.organization_id).values_list(
        "id",
        "study_id",
        "gap",
        "description",
        "owner",
        "due_on",
        "status",
        "created_at",
        "closed_at",
    )
    frame = pd.DataFrame.from_records(
        list(rows),
        columns=[
            "id",
            "study_id",
            "gap",
            "description",
            "owner",
            "due_on",
            "status",
            "created_at",
            "closed_at",
        ],
    ).astype("object")
    frame["status_label"] = frame["status"].map(labels)
    frame["created_on"] = [moment.date() for moment in frame["created_at"]]
    return frame
