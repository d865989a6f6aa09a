"""SQL aggregates into DataFrames: the only analysis code that touches the ORM.

Answers are never pulled into Python one by one: every function here groups in
the database (GROUP BY) and returns aggregated rows. The largest frame is
respondent × gap (one row per response and gap: 22,000 responses × 5 gaps =
110,000 rows for a study of 20,000 customers and 2,000 staff).

Results count only the responses published in the study's snapshots
(`surveys.services.snapshots`), each in the group frozen there; "don't know" (a
NULL value) is left out of every mean. `respondent_gap_scores`, `item_sums` and
`complete_item_sums` read every submitted response: they are the independent
reference the tests check the published numbers against, never shown.

A `Cut` narrows the staff to one department and/or the customers to one
segment; the other audience is left whole, so a department can be compared
with all customers, or all staff with one segment.
"""

import random
from contextlib import contextmanager
from datetime import date

import pandas as pd
from django.db import connection, connections, router, transaction
from django.db.models import Q

from analysis import stats
from analysis.cuts import ALL, Cut  # noqa: F401 — re-exported
from surveys.models import (
    Action,
    Allocation,
    Answer,
    Audience,
    Department,
    Item,
    Membership,
    RatingKind,
    Response,
    Role,
    Segment,
    SnapshotEntry,
    Study,
)
from surveys.services import snapshots
from surveys.services.snapshots import Published

NO_DEPARTMENT = "No department"
NO_SEGMENT = "No segment"


def table_names() -> dict:
    """The quoted names of the tables the analysis statements read (here and
    in `analysis.priorities_queries`)."""
    quote = connection.ops.quote_name
    return {
        "answer": quote(Answer._meta.db_table),
        "entry": quote(SnapshotEntry._meta.db_table),
        "response": quote(Response._meta.db_table),
        "allocation": quote(Allocation._meta.db_table),
        "item": quote(Item._meta.db_table),
    }


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
SEQ_SCORE_COLUMNS = ["seq", *SCORE_SUM_COLUMNS]
SEQ_ITEM_COLUMNS = [
    "seq",
    "item_id",
    "audience",
    "group_id",
    *ITEM_SUM_COLUMNS[2:],
    "disappointed",
    "neutral",
    "delighted",
    "complete_all",
]


# study_sums: each published respondent's totals (m = answered items, t = their
# sum) overall and per gap, then grouped by snapshot, audience, group and m for
# each gap, then the item sums split by the respondent having answered the
# item's whole gap. The group is the one frozen in the snapshot entry.
PER_RESPONSE_SQL = (
    "WITH per AS (SELECT x.*, e.audience AS audience, e.group_id AS group_id, "
    "e.seq AS seq FROM (SELECT a.response_id AS response_id, COUNT(*) AS m_all, "
    "SUM(a.value) AS t_all, {columns} "
    "FROM {answer} a JOIN {entry} e ON e.response_id = a.response_id "
    "JOIN ({item_codes}) i ON a.item_id = i.item_id WHERE {where} "
    "GROUP BY a.response_id) x JOIN {entry} e ON e.response_id = x.response_id) "
)
SCORE_BRANCH_SQL = (
    "SELECT %s, CAST(NULL AS BIGINT), audience, group_id, seq, {m}, COUNT(*), "
    "SUM({t}), SUM({t} * {t}), {counts}, 0{pad} FROM per "
    "WHERE {m} > 0 AND 2 * {m} >= %s "
    "GROUP BY audience, group_id, seq, {m}"
)
ITEM_BRANCH_SQL = (
    "SELECT NULL, a.item_id, p.audience, p.group_id, p.seq, "
    "CASE i.gap {complete} ELSE 0 END, "
    "COUNT(*), SUM(a.value), SUM(a.value * a.value), {answer_counts}, "
    "CASE WHEN p.m_all = %s THEN 1 ELSE 0 END "
    "FROM {answer} a JOIN {entry} e ON e.response_id = a.response_id "
    "JOIN ({item_codes}) i ON a.item_id = i.item_id "
    "JOIN per p ON p.response_id = a.response_id "
    "WHERE {where} GROUP BY a.item_id, p.audience, p.group_id, p.seq, 6, 13"
)


# One item of SumsParts.item_codes.
ITEM_CODE_SQL = (
    "SELECT CAST(%s AS BIGINT) AS item_id, CAST(%s AS VARCHAR(32)) AS gap, "
    "CAST(%s AS INTEGER) AS gq, CAST(%s AS INTEGER) AS aq"
)


@contextmanager
def analysis_cursor():
    """A cursor for the big analysis statements (the answers summed in the
    database). Raw SQL follows the database router like the ORM does (a
    replica inside gapsurvey.replica.replica_reads, else the primary). On
    PostgreSQL the statement runs in a transaction with JIT off (SET LOCAL):
    compiling these statements cost more than it saved — 0.8 s of a 6.4 s
    build at 20,000 respondents (BENCHMARKS.md)."""
    alias = router.db_for_read(Answer)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        yield cursor


def study_sums(
    study: Study, items: pd.DataFrame, upto: int, *, overall: str = "overall"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`study_sums_rows` as frames (see there)."""
    return sums_frames(study_sums_rows(study, items, upto, overall=overall))


def study_sums_rows(
    study: Study,
    items: pd.DataFrame,
    upto: int,
    *,
    overall: str = "overall",
    since: int = 0,
) -> list:
    """Everything the study's numbers need, as small integer sums, in one statement.

    Reads the respondents published in the study's snapshots 1 … `upto`
    (`SnapshotEntry`), with the group frozen there. Each respondent's gap
    scores (total and count of the answered items per gap, one row per
    response) are formed inside the database and never leave it; what comes
    back is grouped:

    A respondent has a gap score only when they answered at least half of
    the gap's items (rounded up: 2·m ≥ k), and an overall score only when they
    answered at least half of all items; otherwise it is missing there.

    - score sums: one row per snapshot (seq), audience, group_id (department
      for staff, segment for customers; None for none), gap (or `overall`: all
      the respondent's answered items) and m (answered items in it): n (such
      respondents), total (Σ of their totals), sumsq (Σ of squared totals),
      and how many of them fall in the distribution categories disappointed,
      neutral, delighted (thresholds of `stats.classify`, compared exactly in
      integers: score < midpoint ⟺ 2·total < (min + max)·m). A respondent's
      score is total / m, so Σ score = Σ total / m and Σ score² = Σ sumsq / m²:
      exact means and SDs follow without a row per respondent.
    - item sums: one row per snapshot, item, audience, group, complete (1
      when the respondent answered every item of the item's gap, the listwise
      sample of Cronbach's alpha) and complete_all (every item of the
      questionnaire, for alpha over all items): n, total, sumsq of the
      answered values, and how many answers fall in each distribution
      category (disappointed, neutral, delighted).

    Grouping by snapshot lets each unit (an item, a gap) be read up to its own
    published cutoff (`analysis.dashboard.published_sums`); grouping by group
    lets every cut be taken from the same rows. `items` is
    `study_items(study)`. Only the snapshots after `since` are read (the
    stored sums hold the others: `analysis.results.sums_rows`); the rows are
    `sums_frames`'s input.
    """
    if items.empty or upto <= since:
        return []
    parts = SumsParts(study, items, overall)
    where = "e.study_id = %s AND e.seq <= %s AND e.seq > %s AND a.value IS NOT NULL"
    where_params = [study.pk, upto, since]
    if len(study.questionnaire.kinds) > 1:
        # Perception ratings only: the other kinds have their own reads
        # (analysis.priorities_queries). A perception questionnaire's answers
        # are all P (its mode is frozen with its answers): no filter to pay.
        where += " AND a.kind = %s"
        where_params.append(RatingKind.PERCEPTION.value)
    item_codes, code_params = parts.item_codes(items)
    counts, count_params = parts.answer_counts("a.value")
    item_branch = ITEM_BRANCH_SQL.format(  # noqa: S608
        complete=parts.complete,
        answer_counts=counts,
        where=where,
        item_codes=item_codes,
        **table_names(),
    )
    sql = PER_RESPONSE_SQL.format(
        columns=parts.per_columns("a.value"),
        where=where,
        item_codes=item_codes,
        **table_names(),
    ) + " UNION ALL ".join([*parts.score_branches, item_branch])
    params = [
        *code_params,
        *where_params,
        *parts.score_params,
        *parts.complete_params,
        *count_params,
        len(items),
        *code_params,
        *where_params,
    ]
    with analysis_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class SumsParts:
    """The pieces of `study_sums`'s statement that depend on the
    questionnaire, for a statement that forms the per-respondent CTE `per`
    its own way (`analysis.priorities_queries` reads every rating kind in
    one pass): `per` must have response_id, audience, group_id, seq, m_all,
    t_all and m<j>, t<j> per gap j (`per_columns`); `score_branches` read it
    (`pad` is appended to their columns); an item branch groups the answers
    by `complete` (CASE on the gap; p is `per`) and counts them in
    `answer_counts`."""

    def __init__(self, study, items: pd.DataFrame, overall: str, pad: str = "") -> None:
        questionnaire = study.questionnaire
        self.scale_sum = questionnaire.scale_min + questionnaire.scale_max
        self.top = stats.delighted_from(
            questionnaire.scale_min, questionnaire.scale_max
        )
        sizes = items.groupby("gap", sort=False)["item_id"].count()
        self.gaps = list(sizes.index)
        # Table and column names come from model metadata and loop indexes;
        # every value is a parameter.
        self.score_branches, self.score_params = [], []
        for j, gap in [*enumerate(self.gaps), (None, overall)]:
            t, m = ("t_all", "m_all") if j is None else (f"t{j}", f"m{j}")
            counts, count_params = self.categories(t, m)
            self.score_branches.append(
                SCORE_BRANCH_SQL.format(t=t, m=m, counts=counts, pad=pad)  # noqa: S608
            )
            # A score counts when at least half of its items were answered.
            k = len(items) if j is None else int(sizes[gap])
            self.score_params += [gap, *count_params, k]
        self.complete = " ".join(
            f"WHEN %s THEN CASE WHEN p.m{j} = %s THEN 1 ELSE 0 END"
            for j in range(len(self.gaps))
        )
        self.complete_params = [x for gap in self.gaps for x in (gap, int(sizes[gap]))]

    def categories(self, t: str, m: str) -> tuple[str, list]:
        """How many of the rows fall in each distribution category
        (disappointed, neutral, delighted), compared exactly in integers."""
        return (
            f"SUM(CASE WHEN 2 * {t} < %s * {m} THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN 2 * {t} = %s * {m} THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN 2 * {t} > %s * {m} AND {t} >= %s * {m} "
            "THEN 1 ELSE 0 END)",
            [self.scale_sum, self.scale_sum, self.scale_sum, self.top],
        )

    def answer_counts(self, value: str) -> tuple[str, list]:
        """The categories of each answer (the distribution on item answers)."""
        return self.categories(value, "1")

    def per_columns(self, value: str) -> str:
        """`per`'s m<j> (answered items) and t<j> (their total) per gap, from
        rows with the answer's `value` (NULL when not answered) and its gap's
        index gq (`item_codes`)."""
        return ", ".join(
            f"COUNT({value}) FILTER (WHERE gq = {j}) AS m{j}, "
            f"COALESCE(SUM({value}) FILTER (WHERE gq = {j}), 0) AS t{j}"
            for j in range(len(self.gaps))
        )

    def item_codes(self, items: pd.DataFrame, areas: list | None = None):
        """A subquery of the questionnaire's items with each one's gap (gap),
        the gap's index (gq) and, given the areas in order, the area's index
        (aq; else 0): the sums compare small integers, not names. Its SQL and
        parameters."""
        area = items["area"] if areas else [None] * len(items)
        params = [
            value
            for pk, gap, name in zip(items["item_id"], items["gap"], area, strict=True)
            for value in (
                pk,
                gap,
                self.gaps.index(gap),
                areas.index(name) if areas else 0,
            )
        ]
        return " UNION ALL ".join([ITEM_CODE_SQL] * len(items)), params


def sums_frames(rows) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`study_sums`'s frames from its statement's rows (columns beyond the
    thirteenth are ignored)."""
    # Sums come back as int, or Decimal on PostgreSQL (SUM of a bigint).
    score_frame = pd.DataFrame.from_records(
        [
            (
                int(seq),
                audience,
                _int_or_none(group_id),
                gap,
                *(int(x) for x in rest[:7]),
            )
            for gap, item_id, audience, group_id, seq, *rest in rows
            if item_id is None
        ],
        columns=SEQ_SCORE_COLUMNS,
    )
    item_frame = pd.DataFrame.from_records(
        [
            (int(seq), int(item_id), audience, _int_or_none(group_id))
            + tuple(int(x) for x in rest[:8])
            for _, item_id, audience, group_id, seq, *rest in rows
            if item_id is not None
        ],
        columns=SEQ_ITEM_COLUMNS,
    )
    return score_frame, item_frame


def _int_or_none(value):
    return None if value is None else int(value)


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


def _shuffled(ids: list[int], seed: str, salt: str) -> list[int]:
    """The ids in the snapshot's own random order (its secret seed): the same
    on every read of one snapshot, unrelated to the order of submission."""
    ordered = sorted(ids)
    random.Random(f"{seed}:{salt}").shuffle(ordered)
    return ordered


def _allowed_in_cut(cut: Cut, allowed: dict, audience: str) -> list:
    """The allowed group ids of an audience (None = no group) within the cut."""
    ids = allowed.get(audience, [])
    chosen = cut.department_id if audience == Audience.INTERNAL else cut.segment_id
    return ids if chosen is None else [i for i in ids if i == chosen]


def _published_entries(published: Published, cut: Cut, allowed: dict):
    """The published entries of the allowed groups within the cut."""
    in_group = Q(pk__in=[])
    for audience in (Audience.INTERNAL, Audience.CUSTOMER):
        ids = _allowed_in_cut(cut, allowed, audience)
        if not ids:
            continue
        in_group |= Q(audience=audience) & snapshots.group_q("group_id", ids)
    return SnapshotEntry.objects.filter(
        in_group, study=published.study, seq__lte=published.seq
    )


def _group_label(audience: str, name: str) -> str:
    return name or (NO_DEPARTMENT if audience == Audience.INTERNAL else NO_SEGMENT)


COMMENT_LIMIT = 50
COMMENT_COLUMNS = ["audience", "group", "comment"]


def comment_candidates(published: Published) -> list[tuple]:
    """(response id, audience, group id, group name) of every published entry
    with a comment, up to the snapshot: read once when every cut's comments
    are chosen together (no comment text is read)."""
    if published.snapshot is None:
        return []
    return list(
        SnapshotEntry.objects.filter(study=published.study, seq__lte=published.seq)
        .exclude(response__comment="")
        .values_list("response_id", "audience", "group_id", "group_name")
    )


def comment_choice(
    published: Published,
    cut: Cut,
    *,
    allowed: dict[str, list[int | None]],
    limit: int = COMMENT_LIMIT,
    candidates: list[tuple] | None = None,
) -> list[list]:
    """Which comments the page shows: [audience, response id, group label],
    of the published snapshot's allowed groups only, in the snapshot's own
    random order (never newest first, which would point at the latest
    respondent), at most `limit` per audience.

    `allowed` maps an audience to the group ids (department for staff, segment
    for customers; None for "no group") that the snapshot shows. Ids only:
    the text is read by `comment_texts`, so comments of any other group never
    leave the database. `candidates` (from `comment_candidates`) saves the
    query when many cuts are chosen at once.
    """
    if published.snapshot is None:
        return []
    if candidates is None:
        candidates = (
            _published_entries(published, cut, allowed)
            .exclude(response__comment="")
            .values_list("response_id", "audience", "group_id", "group_name")
        )
    wanted = {
        audience: set(_allowed_in_cut(cut, allowed, audience))
        for audience in (Audience.INTERNAL, Audience.CUSTOMER)
    }
    names: dict[str, dict[int, str]] = {audience: {} for audience in wanted}
    for response_id, audience, group_id, group_name in candidates:
        if group_id in wanted.get(audience, ()):
            names[audience][response_id] = group_name
    choice = []
    for audience, groups in names.items():
        chosen = _shuffled(list(groups), published.snapshot.seed, audience)[:limit]
        choice += [[audience, pk, _group_label(audience, groups[pk])] for pk in chosen]
    return choice


def comment_texts(choice: list[list]) -> pd.DataFrame:
    """The chosen comments' text, in the chosen order (audience, group,
    comment); one erased since the choice is left out."""
    found = dict(
        Response.objects.filter(pk__in=[pk for _, pk, _ in choice])
        .exclude(comment="")
        .values_list("pk", "comment")
    )
    rows = [
        (audience, label, found[pk]) for audience, pk, label in choice if pk in found
    ]
    return pd.DataFrame.from_records(rows, columns=COMMENT_COLUMNS).astype("object")


def comments(
    study: Study,
    published: Published,
    cut: Cut,
    *,
    allowed: dict[str, list[int | None]],
    limit: int = COMMENT_LIMIT,
) -> pd.DataFrame:
    """Free-text comments of the published snapshot's allowed groups only
    (`comment_choice`, then `comment_texts`)."""
    return comment_texts(comment_choice(published, cut, allowed=allowed, limit=limit))


def anonymized_answers(
    study: Study,
    published: Published,
    cut: Cut,
    *,
    allowed: dict,
    shown,
):
    """Answer rows of the published snapshot's allowed groups, for the
    anonymized export only.

    Yields (respondent number, audience, department, segment, item_position,
    gap, value): respondents numbered 1, 2, 3 … in the snapshot's own random
    order (its secret seed), never by submission; value None for "don't
    know" and for an answer the snapshot does not show (an item whose new
    answers wait to reach the minimum group size, or a group hidden for that
    item: `shown(item_id, audience, group_id, seq)` is False). No names,
    emails, user, invitation or response ids, no times. Answers are fetched
    500 respondents at a time. (The perception only: a questionnaire that
    asks more is exported one row per respondent, `anonymized_respondents`.)
    """
    if published.snapshot is None:
        return
    entries, order = _numbered(published, cut, allowed)
    items = {
        pk: (position, gap)
        for pk, position, gap in Item.objects.filter(
            questionnaire_id=study.questionnaire_id
        ).values_list("pk", "position", "gap")
    }
    for start in range(0, len(order), 500):
        chunk = order[start : start + 500]
        answers: dict[int, list] = {pk: [] for pk in chunk}
        for response_id, item_id, value in Answer.objects.filter(
            response_id__in=chunk
        ).values_list("response_id", "item_id", "value"):
            answers[response_id].append((items[item_id][0], item_id, value))
        for number, pk in enumerate(chunk, start=start + 1):
            audience, group_id, name, seq = entries[pk]
            label = _group_label(audience, name)
            internal = audience == Audience.INTERNAL
            for position, item_id, value in sorted(
                answers[pk], key=lambda answer: answer[:2]
            ):
                if value is not None and not shown(item_id, audience, group_id, seq):
                    value = None
                row = (
                    number,
                    audience,
                    label if internal else None,
                    None if internal else label,
                    position,
                    items[item_id][1],
                    value,
                )
                yield row


def _numbered(published: Published, cut: Cut, allowed: dict) -> tuple[dict, list]:
    """The published respondents of the allowed groups within the cut
    ({response id: (audience, group id, group name, seq)}) and their ids in
    the snapshot's own random order: respondent 1, 2, 3 … of the exports."""
    entries = {
        pk: (audience, group_id, name, seq)
        for pk, audience, group_id, name, seq in _published_entries(
            published, cut, allowed
        ).values_list("response_id", "audience", "group_id", "group_name", "seq")
    }
    return entries, _shuffled(list(entries), published.snapshot.seed, "answers")


def anonymized_respondents(
    published: Published, cut: Cut, *, allowed: dict, kinds: tuple[str, ...]
):
    """The published respondents of the allowed groups, one at a time, for
    the anonymized export of a questionnaire that asks more than the
    perception: (respondent number, audience, group id, group label, seq,
    {(item id, kind): value or None}, {area: points}, overall rating or None),
    numbered as `anonymized_answers` numbers them. Nothing is hidden here:
    the export decides per cell what the snapshot shows. Read 500
    respondents at a time."""
    if published.snapshot is None:
        return
    entries, order = _numbered(published, cut, allowed)
    for start in range(0, len(order), 500):
        chunk = order[start : start + 500]
        ratings: dict[int, dict] = {pk: {} for pk in chunk}
        for response_id, item_id, kind, value in Answer.objects.filter(
            response_id__in=chunk, kind__in=kinds
        ).values_list("response_id", "item_id", "kind", "value"):
            ratings[response_id][(item_id, kind)] = value
        points: dict[int, dict] = {pk: {} for pk in chunk}
        for response_id, area, n in Allocation.objects.filter(
            response_id__in=chunk
        ).values_list("response_id", "area", "points"):
            points[response_id][area] = n
        overall = dict(
            Response.objects.filter(
                pk__in=chunk, overall_rating__isnull=False
            ).values_list("pk", "overall_rating")
        )
        for number, pk in enumerate(chunk, start=start + 1):
            audience, group_id, name, seq = entries[pk]
            yield (
                number,
                audience,
                group_id,
                _group_label(audience, name),
                seq,
                ratings[pk],
                points[pk],
                overall.get(pk),
            )


def staff_rate(study: Study, published: Published) -> dict:
    """Staff members of the organization and their published self-assessments.

    Out: {"members", "submitted" (None when fewer than the minimum group size
    are published), "rate" (0–1 or None)}. The count moves with the
    snapshots, in steps of at least the minimum group size.
    """
    members = Membership.objects.filter(
        organization_id=study.organization_id, role=Role.STAFF
    ).count()
    submitted = None
    if published.shown(snapshots.RESPONDENTS, Audience.INTERNAL):
        submitted = sum(published.counts(Audience.INTERNAL).values())
    return {
        "members": members,
        "submitted": submitted,
        "rate": submitted / members if members and submitted is not None else None,
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
    frozen = (
        SnapshotEntry.objects.filter(study=study)
        .exclude(group_id__isnull=True)
        .values_list("audience", "group_id", "group_name")
        .distinct()
    )
    names.update({(audience, pk): name for audience, pk, name in frozen})
    names.update({(Audience.INTERNAL, pk): name for pk, name in departments})
    names.update({(Audience.CUSTOMER, pk): name for pk, name in segments})
    return names


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
