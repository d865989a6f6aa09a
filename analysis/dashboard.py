"""Chains queries → stats → charts into what the dashboard page shows.

The view checks access and renders; this module decides nothing about who may
see what except suppression, which happens in stats before anything is shown.
"""

from collections.abc import Sequence

import pandas as pd
from django.conf import settings
from django.core.cache import cache

from analysis import charts, queries, stats
from surveys.models import GAP_EXPLANATIONS, Audience, Gap, Study
from surveys.selectors import invitation_counts

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


def study_results(study: Study, cut: queries.Cut = queries.ALL) -> dict:
    """The numbers of one study within a cut: gap and item tables, alpha.

    Shared by the dashboard and the gap-table export. Computed from sums
    aggregated in the database (`queries.study_sums`): no frame with a row
    per respondent is built.
    """
    questionnaire = study.questionnaire
    size = study.min_group_size
    items = queries.study_items(study)
    score_sums, item_sums = queries.study_sums(study, items, cut, overall=stats.OVERALL)
    sums = stats.ScoreSums(score_sums, names=queries.group_names(study))
    columns = ["item_id", "audience", "n", "total", "sumsq"]
    complete = item_sums.loc[item_sums["complete"] == 1, columns]
    every = (
        item_sums.groupby(["item_id", "audience"], as_index=False)[
            ["n", "total", "sumsq"]
        ].sum()
        if not item_sums.empty
        else item_sums[columns]
    )
    alpha = stats.cronbach_alpha_from_sums(sums, complete, items)
    gap_table = stats.gap_table_from_sums(
        sums, gaps=GAPS, min_group_size=size, alpha=alpha
    )
    item_table = stats.item_table(every, items, min_group_size=size)
    return {
        "sums": sums,
        "items": items,
        "gap_table": gap_table,
        "item_table": item_table,
        "midpoint": questionnaire.scale_midpoint,
    }


def study_numbers(study: Study, cut: queries.Cut = queries.ALL) -> dict:
    """Every suppressed number of one study within a cut (small frames only).

    Cached under the study's last change (`changed_at`, bumped by every
    submitted response), its minimum group size and the cut, so a dashboard
    of 22,000 responses aggregates once per change, not once per view. The
    respondent frame itself is never cached, only what is derived from it.
    """
    key = _cache_key(
        "study",
        study.pk,
        study.changed_at.isoformat(),
        study.min_group_size,
        study.questionnaire_id,
        cut.department_id,
        cut.segment_id,
    )
    return _cached(key, lambda: _study_numbers(study, cut))


def _study_numbers(study: Study, cut: queries.Cut) -> dict:
    size = study.min_group_size
    results = study_results(study, cut)
    sums = results["sums"]
    return {
        "gap_table": results["gap_table"],
        "item_table": results["item_table"],
        "headline": stats.headline_from_sums(sums, min_group_size=size),
        "distribution": stats.distribution_from_sums(
            sums, gaps=GAPS, min_group_size=size
        ),
        "departments": stats.group_matrix_from_sums(
            sums, audience=stats.INTERNAL, gaps=GAPS, min_group_size=size
        ),
        "segments": stats.group_matrix_from_sums(
            sums, audience=stats.CUSTOMER, gaps=GAPS, min_group_size=size
        ),
        "segment_deltas": stats.segment_deltas_from_sums(
            sums, gaps=GAPS, min_group_size=size
        ),
        "allowed": stats.allowed_groups(
            stats.group_sizes_from_sums(sums), min_group_size=size
        ),
        # This study's own line of the trend, so the trend query need not
        # read its answers a second time.
        "trend_rows": stats.trend_rows_from_sums(sums, gaps=GAPS),
    }


def trend_table(
    study: Study, cut: queries.Cut = queries.ALL, numbers: dict | None = None
) -> pd.DataFrame:
    """The organization's trend, cached under its studies' last change.

    The other studies' sums come from `queries.trend_sums`; this study's own
    from its numbers (`study_numbers`, passed in when already at hand).
    """
    signature = queries.studies_signature(study)
    key = _cache_key(
        "trend", study.organization_id, signature, cut.department_id, cut.segment_id
    )

    def compute() -> pd.DataFrame:
        mine = numbers if numbers is not None else study_numbers(study, cut)
        sums = queries.trend_sums(study, cut, exclude_study=True)
        rows = mine["trend_rows"]
        if rows and study.status in (Study.Status.OPEN, Study.Status.CLOSED):
            own = pd.DataFrame.from_records(rows)
            own.insert(0, "study_id", study.pk)
            own.insert(1, "name", study.name)
            own.insert(2, "date", queries.study_date(study))
            own.insert(3, "min_group_size", study.min_group_size)
            sums = pd.concat([sums, own], ignore_index=True) if len(sums) else own
            sums = sums.sort_values(
                ["date", "study_id", "audience", "gap"], ignore_index=True
            )
        return stats.trend(sums, gaps=GAPS)

    return _cached(key, compute)


def _cached(key: str, compute):
    seconds = getattr(settings, "DASHBOARD_CACHE_SECONDS", DEFAULT_CACHE_SECONDS)
    if not seconds:
        return compute()
    return cache.get_or_set(key, compute, seconds)


def _cache_key(*parts) -> str:
    return "gapsurvey:dashboard:v1:" + ":".join(str(part) for part in parts)


def dashboard_data(study: Study, cut: queries.Cut = queries.ALL) -> dict:
    """Everything the dashboard shows, suppressed, with its figures as JSON."""
    questionnaire = study.questionnaire
    numbers = study_numbers(study, cut)
    gap_table, item_table = numbers["gap_table"], numbers["item_table"]
    trend = trend_table(study, cut, numbers)
    actions = queries.organization_actions(study)
    trend_actions = stats.actions_in_trend(actions, trend)
    comments = queries.comments(study, cut, allowed=numbers["allowed"])
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
        "gap_labels": GAP_LABELS,
        "gaps": _gap_rows(gap_table, item_table, actions, study),
        "overall": _records(gap_table[gap_table["gap"] == stats.OVERALL])[0],
        "ranking": _records(stats.rank_items(item_table).head(RANKING_SIZE)),
        "headline": numbers["headline"],
        "distribution": _records(numbers["distribution"]),
        "departments": _pivot(numbers["departments"], GAPS),
        "segments": _pivot(numbers["segments"], GAPS),
        "segment_deltas": _pivot(numbers["segment_deltas"], GAPS),
        "trend": _records(trend),
        "comments": {
            audience.value: _records(comments[comments["audience"] == audience])
            for audience in (Audience.INTERNAL, Audience.CUSTOMER)
        },
        "comment_titles": [
            (Audience.INTERNAL.value, "Staff"),
            (Audience.CUSTOMER.value, "Customers"),
        ],
        "min_note": stats.fewer_than(study.min_group_size),
        "rates": invitation_counts(study),
        "staff_rate": queries.staff_rate(study),
        "figures": charts.to_json(figures),
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
