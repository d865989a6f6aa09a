"""Chains queries → stats → charts into what the dashboard page shows.

The view checks access and renders; this module decides nothing about who may
see what except suppression, which happens in stats before anything is shown.
"""

from collections.abc import Sequence

import pandas as pd
from django.conf import settings
from django.core.cache import cache

from analysis import charts, queries, stats
from analysis.followup import closed_loop_panel
from surveys.models import GAP_EXPLANATIONS, Audience, Gap, Study
from surveys.selectors import invitation_counts
from surveys.services import snapshots
from surveys.services.snapshots import Published

GAPS = [gap.value for gap in Gap]
GAP_LABELS = dict(Gap.choices)
CHART_LABELS = {**GAP_LABELS, stats.OVERALL: "Overall"}
RANKING_SIZE = 10
# settings.DASHBOARD_CACHE_SECONDS = 0 turns the cache off (e.g. to benchmark
# the aggregation itself rather than a cache hit).
DEFAULT_CACHE_SECONDS = 24 * 3600


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


def _raw_sums(study: Study, published: Published, items: pd.DataFrame):
    key = _cache_key("sums", study.pk, published.seq, study.changed_at.isoformat())
    return _cached(
        key,
        lambda: queries.study_sums(study, items, published.seq, overall=stats.OVERALL),
    )


def _upto(frame: pd.DataFrame, published: Published, units: pd.Series) -> pd.Series:
    cutoffs = {
        (unit, audience): published.release(unit, audience).cutoff
        for unit in units.unique()
        for audience in stats.AUDIENCES
    }
    limit = [cutoffs[key] for key in zip(units, frame["audience"], strict=True)]
    return frame["seq"] <= pd.Series(limit, index=frame.index, dtype="int64")


def published_sums(
    study: Study, published: Published, cut: queries.Cut, items: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(score sums, item sums, complete item sums, all-complete item sums) of
    the published snapshot within a cut, each unit read up to its own cutoff:
    a gap's scores and its alpha up to the gap's, an item's answers up to the
    item's, alpha over all items up to the overall score's."""
    scores, answers = _raw_sums(study, published, items)
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
    study: Study, cut: queries.Cut = queries.ALL, published: Published | None = None
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
    items = queries.study_items(study)
    score_sums, every, complete, complete_all = published_sums(
        study, published, cut, items
    )
    sums = stats.ScoreSums(score_sums, names=queries.group_names(study))
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


def study_numbers(
    study: Study, cut: queries.Cut = queries.ALL, published: Published | None = None
) -> dict:
    """Every suppressed number of one study's published snapshot within a cut
    (small frames only).

    Cached under the snapshot, the study's last change, its minimum group
    size and the cut: a snapshot's numbers never change, so a dashboard of
    22,000 responses aggregates once per snapshot, not once per view.
    """
    published = published or snapshots.published(study)
    key = _cache_key(
        "study",
        study.pk,
        published.seq,
        study.changed_at.isoformat(),
        study.min_group_size,
        study.questionnaire_id,
        cut.department_id,
        cut.segment_id,
    )
    return _cached(key, lambda: _study_numbers(study, cut, published))


def _study_numbers(study: Study, cut: queries.Cut, published: Published) -> dict:
    size = study.min_group_size
    results = study_results(study, cut, published)
    sums = results["sums"]

    def visible(audience):
        return lambda gap, group: published.shown(_unit(gap), audience, group)

    def total(gap, audience):
        return shown(published, cut, _unit(gap), audience)

    return {
        "gap_table": results["gap_table"],
        "item_table": results["item_table"],
        "headline": stats.headline_from_sums(sums, min_group_size=size, shown=total),
        "distribution": stats.distribution_from_answers(
            results["answers"],
            results["items"],
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
) -> pd.DataFrame:
    """The organization's trend: each open or closed study's published
    snapshot, within the cut (this study's rows from its numbers)."""
    published = published or snapshots.published(study)
    mine = numbers if numbers is not None else study_numbers(study, cut, published)
    frames = []
    others = Study.objects.filter(
        organization_id=study.organization_id,
        status__in=[Study.Status.OPEN, Study.Status.CLOSED],
    ).select_related("questionnaire")
    for other in others:
        if other.pk == study.pk:
            rows = mine["trend_rows"]
        else:
            rows = study_numbers(other, cut, snapshots.published(other))["trend_rows"]
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


def _cached(key: str, compute):
    seconds = getattr(settings, "DASHBOARD_CACHE_SECONDS", DEFAULT_CACHE_SECONDS)
    if not seconds:
        return compute()
    return cache.get_or_set(key, compute, seconds)


def _cache_key(*parts) -> str:
    return "gapsurvey:dashboard:v3:" + ":".join(str(part) for part in parts)


def dashboard_data(
    study: Study, cut: queries.Cut = queries.ALL, published: Published | None = None
) -> dict:
    """Everything the dashboard shows of the published snapshot, suppressed,
    with its figures as JSON."""
    published = published or snapshots.published(study)
    questionnaire = study.questionnaire
    numbers = study_numbers(study, cut, published)
    gap_table, item_table = numbers["gap_table"], numbers["item_table"]
    trend = trend_table(study, cut, numbers, published)
    actions = queries.organization_actions(study)
    trend_actions = stats.actions_in_trend(actions, trend)
    comments = queries.comments(study, published, cut, allowed=numbers["allowed"])
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
        "trend": charts.trend(trend, trend_actions, labels=CHART_LABELS),
    }
    return {
        "closed_loop": closed_loop_panel(study),
        "gap_labels": GAP_LABELS,
        "gaps": _gap_rows(gap_table, item_table, actions, study),
        "overall": _records(gap_table[gap_table["gap"] == stats.OVERALL])[0],
        "ranking": _ranking(item_table),
        "ranking_titles": [
            ("over", "Where staff rate the service higher than customers"),
            ("under", "Where customers rate it higher than staff"),
        ],
        "headline": numbers["headline"],
        "extremes": {
            side: None if row is None else {**row, "label": GAP_LABELS[row["gap"]]}
            for side, row in stats.extreme_gaps(gap_table).items()
        },
        "distribution": _records(numbers["distribution"]),
        "departments": _pivot(numbers["departments"], GAPS),
        "segments": _pivot(numbers["segments"], GAPS),
        "segment_deltas": _pivot(numbers["segment_deltas"], GAPS),
        "trend": _records(trend),
        "trend_studies": trend["study_id"].nunique() if not trend.empty else 0,
        "comments": {
            audience.value: _records(comments[comments["audience"] == audience])
            for audience in (Audience.INTERNAL, Audience.CUSTOMER)
        },
        "comment_titles": [
            (Audience.INTERNAL.value, "Staff"),
            (Audience.CUSTOMER.value, "Customers"),
        ],
        "min_note": stats.fewer_than(study.min_group_size),
        "rates": invitation_counts(study, published),
        "staff_rate": queries.staff_rate(study, published),
        "published": published,
        "figures": charts.to_json(figures),
    }


def _ranking(item_table: pd.DataFrame) -> dict:
    """The items where staff most surely overrate, and most surely
    underrate, the service (`stats.rank_items`), up to RANKING_SIZE each."""
    ranked = _records(stats.rank_items(item_table))
    return {
        direction: [r for r in ranked if r["direction"] == direction][:RANKING_SIZE]
        for direction in ("over", "under")
    }


def _gap_rows(
    gap_table: pd.DataFrame,
    item_table: pd.DataFrame,
    actions: pd.DataFrame,
    study: Study,
) -> list[dict]:
    """Per gap: its row, its items and its actions (this study's, and any
    still-open action of the organization on that gap)."""
    open_statuses = {"planned", "in_progress"}
    items_by_gap: dict[str, list[dict]] = {}
    for item in _records(item_table):
        items_by_gap.setdefault(item["gap"], []).append(item)
    actions_by_gap: dict[str, list[dict]] = {}
    for action in _records(actions):
        if action["study_id"] == study.pk or action["status"] in open_statuses:
            actions_by_gap.setdefault(action["gap"], []).append(action)
    rows = []
    for row in _records(gap_table):
        gap = row["gap"]
        if gap == stats.OVERALL:
            continue
        rows.append(
            {
                **row,
                "label": GAP_LABELS[gap],
                "explanation": GAP_EXPLANATIONS[gap],
                "items": items_by_gap.get(gap, []),
                "actions": actions_by_gap.get(gap, []),
            }
        )
    return rows
