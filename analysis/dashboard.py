"""Chains queries → stats → charts into what the dashboard page shows.

The view checks access and renders; this module decides nothing about who may
see what except suppression, which happens in stats before anything is shown.
"""

import hashlib
from collections.abc import Sequence

import pandas as pd
from django.conf import settings
from django.core.cache import cache
from django.db.models import Max

from analysis import (
    charts,
    priorities_queries,
    priority_charts,
    queries,
    results,
    stats,
)
from analysis.followup import closed_loop_panel
from analysis.priorities_view import asks_more, priorities_part, segment_inputs
from surveys.models import GAP_EXPLANATIONS, Audience, Gap, Snapshot, Study
from surveys.selectors import invitation_counts
from surveys.services import snapshots
from surveys.services.snapshots import Published

GAPS = [gap.value for gap in Gap]
GAP_LABELS = dict(Gap.choices)
CHART_LABELS = {**GAP_LABELS, stats.OVERALL: "Overall"}
RANKING_SIZE = 10
# The trend is kept in the cache (at most TREND_SECONDS);
# settings.DASHBOARD_CACHE_SECONDS = 0 turns that off.
DEFAULT_CACHE_SECONDS = 24 * 3600
# How long a trend (rows and chart) is kept under what it is drawn from.
TREND_SECONDS = 300
# How old a big study's sending counts may be on its dashboard.
SENDING_COUNTS_SECONDS = 60


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with NaN turned into None, for templates."""
    return [
        {key: (None if _is_nan(value) else value) for key, value in row.items()}
        for row in frame.to_dict("records")
    ]


def _is_nan(value) -> bool:
    return isinstance(value, float) and value != value


def _pivot(matrix: pd.DataFrame, gaps: Sequence[str]) -> list[dict]:
    """Group × gap cells as rows for a table: [{group, cells: [cell, …]}]."""
    cells: dict = {}
    for row in _records(matrix):
        cells.setdefault(row["group"], {}).setdefault(row["gap"], row)
    return [
        {
            "group": group,
            "cells": [
                {key: value for key, value in by_gap[gap].items() if key != "gap"}
                for gap in gaps
            ],
        }
        for group, by_gap in cells.items()
    ]


def _unit(gap: str) -> str:
    return snapshots.OVERALL if gap == stats.OVERALL else snapshots.gap_unit(gap)


def _cut_group(cut: queries.Cut, audience: str):
    return cut.department_id if audience == stats.INTERNAL else cut.segment_id


def shown(published: Published, cut: queries.Cut, unit: str, audience: str) -> bool:
    """Whether a unit may be shown for an audience within a cut: its total, or
    the cut's group, is visible in the published snapshot."""
    group = _cut_group(cut, audience)
    if group is None:
        return published.shown(unit, audience)
    return published.shown(unit, audience, group)


def cut_problem(published: Published, cut: queries.Cut) -> str:
    """Why a filter is refused ("" when it is not): its group is not shown, so
    the rest of its parent would give it away."""
    for audience, noun in ((stats.INTERNAL, "department"), (stats.CUSTOMER, "segment")):
        group = _cut_group(cut, audience)
        if group is not None and not published.shown(
            snapshots.RESPONDENTS, audience, group
        ):
            return (
                f"This {noun} is not shown on its own: it has fewer respondents "
                "than the minimum group size, or showing it would give away a "
                "smaller group. The results below are for everyone."
            )
    return ""


def _in_cut(frame: pd.DataFrame, cut: queries.Cut) -> pd.DataFrame:
    keep = pd.Series(True, index=frame.index)
    for audience in stats.AUDIENCES:
        group = _cut_group(cut, audience)
        if group is not None:
            keep &= (frame["audience"] != audience) | (frame["group_id"] == group)
    return frame[keep]


def _upto(frame: pd.DataFrame, published: Published, units: pd.Series) -> pd.Series:
    cutoffs = {
        (unit, audience): published.release(unit, audience).cutoff
        for unit in units.unique()
        for audience in stats.AUDIENCES
    }
    limit = [cutoffs[key] for key in zip(units, frame["audience"], strict=True)]
    return frame["seq"] <= pd.Series(limit, index=frame.index, dtype="int64")


def published_sums(
    study: Study,
    published: Published,
    cut: queries.Cut,
    items: pd.DataFrame,
    *,
    raw: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(score sums, item sums, complete item sums, all-complete item sums) of
    the published snapshot within a cut, each unit read up to its own cutoff:
    a gap's scores and its alpha up to the gap's, an item's answers up to the
    item's, alpha over all items up to the overall score's."""
    scores, answers = raw or queries.study_sums(
        study, items, published.seq, overall=stats.OVERALL
    )
    scores = _in_cut(scores, cut)
    answers = _in_cut(answers, cut)
    sums = ["n", "total", "sumsq"]
    scores = scores[_upto(scores, published, scores["gap"].map(_unit))]
    scores = (
        scores.groupby(["audience", "group_id", "gap", "m"], dropna=False)[
            [*sums, "disappointed", "neutral", "delighted"]
        ]
        .sum()
        .reset_index()[queries.SCORE_SUM_COLUMNS]
    )
    gap_of = dict(zip(items["item_id"], items["gap"], strict=True))
    every = answers[
        _upto(answers, published, answers["item_id"].map(snapshots.item_unit))
    ]
    complete = answers[answers["complete"] == 1]
    complete = complete[
        _upto(
            complete,
            published,
            complete["item_id"].map(gap_of).map(snapshots.gap_unit),
        )
    ]
    complete_all = answers[answers["complete_all"] == 1]
    complete_all = complete_all[
        _upto(
            complete_all,
            published,
            pd.Series(snapshots.OVERALL, index=complete_all.index),
        )
    ]
    columns = ["item_id", "audience", *sums]

    def per_item(frame, extra=()):
        found = frame.groupby(["item_id", "audience"])[[*sums, *extra]].sum()
        return found.reset_index()[[*columns, *extra]]

    categories = ["disappointed", "neutral", "delighted"]
    return (
        scores,
        per_item(every, categories),
        per_item(complete),
        per_item(complete_all),
    )


def study_results(
    study: Study,
    cut: queries.Cut = queries.ALL,
    published: Published | None = None,
    *,
    raw: tuple[pd.DataFrame, tuple] | None = None,
    names: dict | None = None,
) -> dict:
    """The numbers of one study's published snapshot within a cut: gap and
    item tables, alpha.

    Shared by the dashboard and the gap-table export. Computed from sums
    aggregated in the database (`queries.study_sums`): no frame with a row
    per respondent is built. Everything a unit may not show is hidden.
    """
    published = published or snapshots.published(study)
    questionnaire = study.questionnaire
    size = study.min_group_size
    items, sums_read = raw or (queries.study_items(study), None)
    score_sums, every, complete, complete_all = published_sums(
        study, published, cut, items, raw=sums_read
    )
    if names is None:
        names = queries.group_names(study)
    sums = stats.ScoreSums(score_sums, names=names)
    alpha = stats.cronbach_alpha_from_sums(sums, complete, items, complete_all)
    gap_table = stats.gap_table_from_sums(
        sums, gaps=GAPS, min_group_size=size, alpha=alpha
    )
    item_table = stats.item_table(every, items, min_group_size=size)
    hide = stats.hidden_note()
    gap_table = stats.with_qvalues(
        stats.mask_sides(
            gap_table,
            lambda row, audience: shown(published, cut, _unit(row["gap"]), audience),
            note=hide,
        ),
        include=lambda row: row["gap"] != stats.OVERALL,
    )
    item_table = stats.with_qvalues(
        stats.mask_sides(
            item_table,
            lambda row, audience: shown(
                published, cut, snapshots.item_unit(row["item_id"]), audience
            ),
            note=hide,
        )
    )
    return {
        "sums": sums,
        "items": items,
        "answers": every,
        "gap_table": gap_table,
        "item_table": item_table,
        "midpoint": questionnaire.scale_midpoint,
    }


class ResultsPreparing(Exception):
    """A cut of a big snapshot whose results the worker has not stored yet
    (it has been asked to)."""


def study_numbers(
    study: Study,
    cut: queries.Cut = queries.ALL,
    published: Published | None = None,
    *,
    inline: bool = True,
) -> dict:
    """Every suppressed number of one study's published snapshot within a cut
    (small frames only), as stored for the snapshot (`analysis.results`);
    what the exports read. See `_stored`."""
    return _stored(study, cut, published, "numbers", inline=inline)


def study_view(
    study: Study,
    cut: queries.Cut = queries.ALL,
    published: Published | None = None,
    *,
    inline: bool = True,
) -> dict:
    """The part of the dashboard that depends only on the snapshot and the
    cut — tables as rows, the charts but the trend, which comments to show —
    as stored for the snapshot; what the page reads. See `_stored`."""
    return _stored(study, cut, published, "view", inline=inline)


def _stored(
    study: Study,
    cut: queries.Cut,
    published: Published | None,
    part: str,
    *,
    inline: bool,
) -> dict:
    """A stored part of a snapshot's results for a cut.

    The worker stores every cut right after a snapshot is published
    (`snapshot_results_build`). A cut asked for before that is computed here
    once and stored — unless `inline` is False and the snapshot holds more
    than settings.INLINE_MAX_RESPONDENTS respondents: then the worker
    is asked for it and ResultsPreparing is raised, so no page waits for a
    big computation. What is returned has always been through the store's
    encoding, so a first view and a later one see the same values.
    """
    published = published or snapshots.published(study)
    if published.snapshot is None:
        return results.roundtrip(_computed(study, cut, published)[part])
    found = results.read(study, published.snapshot.pk, cut, part)
    if found is None:
        if not inline and snapshots.is_big(published.snapshot):
            results_request(published, cut)
            raise ResultsPreparing()
        computed, seconds = results.timed(lambda: _computed(study, cut, published))
        results.store(study, published.snapshot.pk, cut, computed, seconds)
        found = results.roundtrip(computed[part])
    return found


def _computed(
    study: Study,
    cut: queries.Cut,
    published: Published,
    raw=None,
    candidates: list | None = None,
    names: dict | None = None,
    priority_sums: dict | None = None,
) -> dict:
    """{"numbers": …, "view": …} of a snapshot's cut, computed (from the
    sums `raw`, `priority_sums` when given: see `snapshot_sums`)."""
    if raw is None:
        raw, priority_sums = snapshot_sums(study, published)
    numbers = _study_numbers(study, cut, published, raw=raw, names=names)
    view = _snapshot_view(study, cut, published, numbers, candidates)
    view["priorities"] = priorities_part(
        study,
        published,
        cut,
        sums=priority_sums,
        segment_inputs=numbers["segment_inputs"],
        item_means=_item_means(numbers["item_table"]),
    )
    return {"numbers": numbers, "view": view}


def _item_means(item_table: pd.DataFrame) -> dict:
    """{item id: the customers' published mean, None where it is hidden}."""
    return {
        row["item_id"]: None if row["customer_suppressed"] else row["customer_mean"]
        for row in _records(item_table)
    }


def results_request(published: Published, cut: queries.Cut) -> None:
    """Ask the worker for a snapshot's results (once in a few minutes): all
    the cuts it computes anyway, and this one."""
    from analysis.tasks import ask, snapshot_results_build

    ask(snapshot_results_build, published.snapshot.pk, results.cut_key(cut))


def latest_with_results(study: Study, cut: queries.Cut) -> Published | None:
    """The newest published state whose results of the cut are stored."""
    seq = results.newest_seq(study, cut)
    return None if seq is None else snapshots.published_at(study, seq)


def result_cuts(published: Published) -> list[queries.Cut]:
    """The cuts the filters allow on a snapshot: everyone, each department and
    each segment it shows, and their pairs while there are at most
    settings.RESULTS_MAX_CUTS cuts in all."""
    shown = {
        audience: [
            group
            for group in published.release(snapshots.RESPONDENTS, audience).visible
            if group is not None
        ]
        for audience in stats.AUDIENCES
    }
    departments, segments = shown[stats.INTERNAL], shown[stats.CUSTOMER]
    cuts = [queries.ALL]
    cuts += [queries.Cut(department_id=d) for d in departments]
    cuts += [queries.Cut(segment_id=s) for s in segments]
    pairs = [queries.Cut(d, s) for d in departments for s in segments]
    if len(cuts) + len(pairs) <= settings.RESULTS_MAX_CUTS:
        cuts += pairs
    return cuts


def snapshot_sums(study: Study, published: Published) -> tuple[tuple, dict | None]:
    """Everything a snapshot's cuts are computed from: (the items,
    `queries.study_sums`) and the priorities' sums (None when the
    questionnaire asks nothing beyond the perception). A questionnaire that
    asks more has both read by one statement
    (`priorities_queries.published_sums_rows`). Each snapshot's sums are stored
    once read (`results.sums_rows`): only the snapshots not yet read touch the
    answers."""
    items = queries.study_items(study)
    upto = published.seq if published.snapshot is not None else 0
    if not asks_more(study.questionnaire):
        rows = results.sums_rows(
            study,
            upto,
            "perception",
            lambda since: queries.study_sums_rows(
                study, items, upto, overall=stats.OVERALL, since=since
            ),
        )
        return (items, queries.sums_frames(rows)), None
    more_items = priorities_queries.study_items(study)
    rows = results.sums_rows(
        study,
        upto,
        "priorities",
        lambda since: priorities_queries.published_sums_rows(
            study, more_items, upto, since=since
        ),
    )
    sums, priority_sums = priorities_queries.published_frames(rows)
    return (items, sums), priority_sums


def snapshot_results_build(
    study: Study, published: Published, also: queries.Cut | None = None
) -> int:
    """Compute and store the numbers of every cut the filters allow on a
    published snapshot (the worker's job after publishing), and `also` when
    a page asked for a cut beyond those; the database is read once for all
    of them. How many cuts were computed."""
    if published.snapshot is None:
        return 0
    snapshot_id = published.snapshot.pk
    cuts = result_cuts(published)
    if also is not None and also not in cuts:
        cuts.append(also)
    missing = [cut for cut in cuts if not results.exists(study, snapshot_id, cut)]
    if not missing:
        return 0
    raw, priority_sums = snapshot_sums(study, published)
    candidates = queries.comment_candidates(published)
    names = queries.group_names(study)
    done = 0
    for cut in missing:
        computed, seconds = results.timed(
            lambda cut=cut: _computed(
                study,
                cut,
                published,
                raw=raw,
                candidates=candidates,
                names=names,
                priority_sums=priority_sums,
            )
        )
        results.store(study, snapshot_id, cut, computed, seconds)
        done += 1
    return done


def _study_numbers(
    study: Study, cut: queries.Cut, published: Published, raw=None, names=None
) -> dict:
    size = study.min_group_size
    found = study_results(study, cut, published, raw=raw, names=names)
    sums = found["sums"]

    def visible(audience):
        return lambda gap, group: published.shown(_unit(gap), audience, group)

    def total(gap, audience):
        return shown(published, cut, _unit(gap), audience)

    return {
        "gap_table": found["gap_table"],
        "item_table": found["item_table"],
        "headline": stats.headline_from_sums(sums, min_group_size=size, shown=total),
        "distribution": stats.distribution_from_answers(
            found["answers"],
            found["items"],
            gaps=GAPS,
            min_group_size=size,
            shown=total,
        ),
        "departments": stats.group_matrix_from_sums(
            sums,
            audience=stats.INTERNAL,
            gaps=GAPS,
            min_group_size=size,
            shown=visible(stats.INTERNAL),
        ),
        "segments": stats.group_matrix_from_sums(
            sums,
            audience=stats.CUSTOMER,
            gaps=GAPS,
            min_group_size=size,
            shown=visible(stats.CUSTOMER),
        ),
        "segment_deltas": stats.with_qvalues(
            stats.segment_deltas_from_sums(
                sums,
                gaps=GAPS,
                min_group_size=size,
                shown=visible(stats.CUSTOMER),
                staff_shown=lambda gap: total(gap, stats.INTERNAL),
            )
        ),
        "allowed": {
            audience: [
                group
                for group in published.release(snapshots.RESPONDENTS, audience).visible
                if _cut_group(cut, audience) in (None, group)
            ]
            for audience in stats.AUDIENCES
        },
        # This study's own line of the trend.
        "trend_rows": _trend_rows(sums, published, cut),
        # What segment influence is drawn from (the weights are the page's).
        "segment_inputs": segment_inputs(published, cut, sums, total=total),
    }


def _trend_rows(sums: stats.ScoreSums, published: Published, cut) -> list[dict]:
    return [
        row
        for row in stats.trend_rows_from_sums(sums, gaps=GAPS)
        if shown(published, cut, _unit(row["gap"]), row["audience"])
    ]


def trend_table(
    study: Study,
    cut: queries.Cut = queries.ALL,
    numbers: dict | None = None,
    published: Published | None = None,
    others: list[Study] | None = None,
) -> pd.DataFrame:
    """The organization's trend: each open or closed study's published
    snapshot, within the cut (this study's rows from its stored view); only
    the studies of this study's measurement mode."""
    published = published or snapshots.published(study)
    mine = numbers if numbers is not None else study_view(study, cut, published)
    frames = []
    if others is None:
        others = trend_studies(study)
    for other, view in _trend_views(study, cut, mine, others):
        rows = view["trend_rows"]
        if not rows:
            continue
        frame = pd.DataFrame.from_records(rows)
        frame.insert(0, "study_id", other.pk)
        frame.insert(1, "name", other.name)
        frame.insert(2, "date", queries.study_date(other))
        frame.insert(3, "min_group_size", other.min_group_size)
        frames.append(frame)
    if not frames:
        return stats.trend(pd.DataFrame(columns=TREND_COLUMNS), gaps=GAPS)
    sums = pd.concat(frames, ignore_index=True).sort_values(
        ["date", "study_id", "audience", "gap"], ignore_index=True
    )
    return stats.trend(sums, gaps=GAPS)


def trend_studies(study: Study):
    """The studies a study's trend is drawn from: the organization's open and
    closed ones of the same measurement mode."""
    return Study.objects.filter(
        organization_id=study.organization_id,
        status__in=[Study.Status.OPEN, Study.Status.CLOSED],
        questionnaire__mode=study.questionnaire.mode,
    ).select_related("questionnaire")


def _trend_views(study: Study, cut: queries.Cut, view: dict, others) -> list:
    """(study, its view of the cut) of each study of the trend, `view` being
    this study's own; studies with nothing stored yet are left out."""
    found = []
    for other in others:
        other_view = view if other.pk == study.pk else _view_of(other, cut)
        if other_view is not None:
            found.append((other, other_view))
    return found


def _view_of(study: Study, cut: queries.Cut) -> dict | None:
    """Another study's view of a cut in the trend: its latest snapshot's, or
    while a big one is being prepared, the newest one stored (None before
    that)."""
    try:
        return study_view(study, cut, snapshots.published(study), inline=False)
    except ResultsPreparing:
        older = latest_with_results(study, cut)
        return None if older is None else study_view(study, cut, older)


def priority_trend(
    study: Study, cut: queries.Cut, view: dict, others: list[Study]
) -> dict:
    """The trend of the expectations and priorities numbers (the gap-model
    scores, each area's perception gap and stated importance) across the
    studies of this study's measurement mode, from their stored views: rows
    (study, name, date, measure, area, label, value, n, low, high) and the
    chart when at least two studies have a point."""
    rows = []
    for other, other_view in _trend_views(study, cut, view, others):
        for point in other_view.get("priorities", {}).get("trend_rows", []):
            rows.append(
                {
                    "study_id": other.pk,
                    "name": other.name,
                    "date": queries.study_date(other),
                    **point,
                }
            )
    rows.sort(key=lambda row: (row["date"], row["study_id"]))
    studies = len({row["study_id"] for row in rows})
    figure = {}
    if studies >= 2:
        figure = charts.to_json({"priority_trend": priority_charts.trend(rows)})
    return {"rows": rows, "studies": studies, "figure": figure}


TREND_COLUMNS = [
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


def _cached(key: str, compute, most: int | None = None):
    seconds = getattr(settings, "DASHBOARD_CACHE_SECONDS", DEFAULT_CACHE_SECONDS)
    if most is not None:
        seconds = min(seconds, most)
    if not seconds:
        return compute()
    return cache.get_or_set(key, compute, seconds)


def _cache_key(*parts) -> str:
    return "gapsurvey:dashboard:v4:" + ":".join(str(part) for part in parts)


def _trend(
    study: Study,
    cut: queries.Cut,
    view: dict,
    published: Published,
    actions: pd.DataFrame,
) -> dict:
    """The trend's rows, how many studies it spans, and its chart: kept for
    TREND_SECONDS under everything they are drawn from (the studies, their
    latest snapshots, this one's, the cut, the actions)."""
    others = list(trend_studies(study))
    latest = sorted(
        Snapshot.objects.filter(study__in=others)
        .values("study_id")
        .annotate(last=Max("id"))
        .values_list("study_id", "last")
    )
    basis = repr(
        (
            latest,
            [(o.pk, o.name, o.changed_at, o.min_group_size) for o in others],
            actions.to_csv(),
        )
    )
    key = _cache_key(
        "trend",
        study.pk,
        results.cut_key(cut),
        published.snapshot.pk if published.snapshot else 0,
        hashlib.sha256(basis.encode()).hexdigest(),
    )

    def compute():
        trend = trend_table(study, cut, view, published, others=others)
        chart = charts.trend(
            trend, stats.actions_in_trend(actions, trend), labels=CHART_LABELS
        )
        return {
            "records": _records(trend),
            "studies": trend["study_id"].nunique() if not trend.empty else 0,
            "figure": charts.to_json({"trend": chart}),
            "priorities": priority_trend(study, cut, view, others)
            if view.get("priorities", {}).get("trend_rows")
            else {"rows": [], "studies": 0, "figure": {}},
        }

    return _cached(key, compute, most=TREND_SECONDS)


def _snapshot_view(
    study: Study,
    cut: queries.Cut,
    published: Published,
    numbers: dict,
    candidates: list | None = None,
) -> dict:
    """What the page shows of a snapshot's cut that nothing else moves: the
    tables as rows, every chart but the trend (which other studies move), and
    which comments to show (ids; the text is read with the page)."""
    questionnaire = study.questionnaire
    gap_table, item_table = numbers["gap_table"], numbers["item_table"]
    scale = (questionnaire.scale_min, questionnaire.scale_max)
    figures = {
        "paired": charts.paired_bars(gap_table, labels=CHART_LABELS, scale=scale),
        "deltas": charts.delta_bars(gap_table, labels=CHART_LABELS),
        "departments": charts.heatmap(
            numbers["departments"],
            labels=CHART_LABELS,
            title="Staff by department: mean per gap",
            group_title="Department",
        ),
        "segments": charts.heatmap(
            numbers["segments"],
            labels=CHART_LABELS,
            title="Customers by segment: mean per gap",
            group_title="Segment",
        ),
        "segment_deltas": charts.heatmap(
            numbers["segment_deltas"],
            labels=CHART_LABELS,
            title="Δ of staff against each customer segment",
            group_title="Segment",
            value="delta",
            diverging=True,
        ),
        "likert": charts.likert(numbers["distribution"], labels=CHART_LABELS),
    }
    return {
        "gaps": _gap_rows(gap_table, item_table),
        "overall": _records(gap_table[gap_table["gap"] == stats.OVERALL])[0],
        "ranking": _ranking(item_table),
        "headline": numbers["headline"],
        "extremes": {
            side: None if row is None else {**row, "label": GAP_LABELS[row["gap"]]}
            for side, row in stats.extreme_gaps(gap_table).items()
        },
        "distribution": _records(numbers["distribution"]),
        "departments": _pivot(numbers["departments"], GAPS),
        "segments": _pivot(numbers["segments"], GAPS),
        "segment_deltas": _pivot(numbers["segment_deltas"], GAPS),
        "trend_rows": numbers["trend_rows"],
        "comment_choice": queries.comment_choice(
            published, cut, allowed=numbers["allowed"], candidates=candidates
        ),
        "figures": charts.to_json(figures),
    }


def dashboard_data(
    study: Study,
    cut: queries.Cut = queries.ALL,
    published: Published | None = None,
    *,
    inline: bool = True,
) -> dict:
    """Everything the dashboard shows of the published snapshot, suppressed,
    with its figures as JSON: the stored view of the snapshot's cut, and what
    moves without it (the trend, actions, comments' text, sending counts).
    Raises ResultsPreparing (see `_stored`) when `inline` is False and a big
    snapshot's results are not stored yet."""
    published = published or snapshots.published(study)
    view = study_view(study, cut, published, inline=inline)
    actions = queries.organization_actions(study)
    trend = _trend(study, cut, view, published, actions)
    comments = queries.comment_texts(view["comment_choice"])
    figures = {
        **view["figures"],
        **trend["figure"],
        **trend["priorities"]["figure"],
    }
    return {
        **view,
        "closed_loop": closed_loop_panel(study),
        "gap_labels": GAP_LABELS,
        "gaps": _with_actions(view["gaps"], actions, study),
        "ranking_titles": [
            ("over", "Where staff rate the service higher than customers"),
            ("under", "Where customers rate it higher than staff"),
        ],
        "trend": trend["records"],
        "trend_studies": trend["studies"],
        "priority_trend": trend["priorities"],
        "comments": {
            audience.value: _records(comments[comments["audience"] == audience])
            for audience in (Audience.INTERNAL, Audience.CUSTOMER)
        },
        "comment_titles": [
            (Audience.INTERNAL.value, "Staff"),
            (Audience.CUSTOMER.value, "Customers"),
        ],
        "min_note": stats.fewer_than(study.min_group_size),
        "rates": invitation_counts(
            study,
            published,
            max_age=SENDING_COUNTS_SECONDS
            if snapshots.is_big(published.snapshot)
            else 0,
        ),
        "staff_rate": queries.staff_rate(study, published),
        "published": published,
        "figures": figures,
    }


def _ranking(item_table: pd.DataFrame) -> dict:
    """The items where staff most surely overrate, and most surely
    underrate, the service (`stats.rank_items`), up to RANKING_SIZE each."""
    ranked = _records(stats.rank_items(item_table))
    return {
        direction: [r for r in ranked if r["direction"] == direction][:RANKING_SIZE]
        for direction in ("over", "under")
    }


def _gap_rows(gap_table: pd.DataFrame, item_table: pd.DataFrame) -> list[dict]:
    """Per gap: its row and its items."""
    items_by_gap: dict[str, list[dict]] = {}
    for item in _records(item_table):
        items_by_gap.setdefault(item["gap"], []).append(item)
    return [
        {
            **row,
            "label": GAP_LABELS[row["gap"]],
            "explanation": GAP_EXPLANATIONS[row["gap"]],
            "items": items_by_gap.get(row["gap"], []),
        }
        for row in _records(gap_table)
        if row["gap"] != stats.OVERALL
    ]


def _with_actions(rows: list[dict], actions: pd.DataFrame, study: Study) -> list[dict]:
    """The gap rows with their actions: this study's, and any still-open
    action of the organization on that gap."""
    open_statuses = {"planned", "in_progress"}
    actions_by_gap: dict[str, list[dict]] = {}
    for action in _records(actions):
        if action["study_id"] == study.pk or action["status"] in open_statuses:
            actions_by_gap.setdefault(action["gap"], []).append(action)
    return [{**row, "actions": actions_by_gap.get(row["gap"], [])} for row in rows]
