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
    rows = []
    for group in dict.fromkeys(matrix["group"]):
        part = matrix[matrix["group"] == group].set_index("gap")
        cells = [
            {key: (None if _is_nan(v) else v) for key, v in part.loc[gap].items()}
            for gap in gaps
        ]
        rows.append({"group": group, "cells": cells})
    return rows


def study_results(study: Study, cut: queries.Cut = queries.ALL) -> dict:
    """The numbers of one study within a cut: gap and item tables, alpha.

    Shared by the dashboard and the gap-table export.
    """
    questionnaire = study.questionnaire
    scores = queries.respondent_gap_scores(study, cut)
    items = queries.study_items(study)
    alpha = stats.cronbach_alpha(scores, queries.complete_item_sums(study, cut), items)
    size = study.min_group_size
    gap_table = stats.gap_table(scores, gaps=GAPS, min_group_size=size, alpha=alpha)
    item_table = stats.item_table(
        queries.item_sums(study, cut), items, min_group_size=size
    )
    return {
        "scores": scores,
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
    questionnaire = study.questionnaire
    size = study.min_group_size
    results = study_results(study, cut)
    scores = results["scores"]
    return {
        "gap_table": results["gap_table"],
        "item_table": results["item_table"],
        "headline": stats.headline(
            scores, midpoint=results["midpoint"], min_group_size=size
        ),
        "distribution": stats.distribution(
            scores,
            gaps=GAPS,
            scale_min=questionnaire.scale_min,
            scale_max=questionnaire.scale_max,
            min_group_size=size,
        ),
        "departments": stats.group_matrix(
            scores, audience=stats.INTERNAL, gaps=GAPS, min_group_size=size
        ),
        "segments": stats.group_matrix(
            scores, audience=stats.CUSTOMER, gaps=GAPS, min_group_size=size
        ),
        "segment_deltas": stats.segment_deltas(scores, gaps=GAPS, min_group_size=size),
        "allowed": stats.allowed_groups(stats.group_sizes(scores), min_group_size=size),
    }


def trend_table(study: Study, cut: queries.Cut = queries.ALL) -> pd.DataFrame:
    """The organization's trend, cached under its studies' last change."""
    signature = queries.studies_signature(study)
    key = _cache_key(
        "trend", study.organization_id, signature, cut.department_id, cut.segment_id
    )
    return _cached(key, lambda: stats.trend(queries.trend_sums(study, cut), gaps=GAPS))


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
    trend = trend_table(study, cut)
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
    rows = []
    open_statuses = {"planned", "in_progress"}
    for row in _records(gap_table[gap_table["gap"] != stats.OVERALL]):
        gap = row["gap"]
        mine = actions[
            (actions["gap"] == gap)
            & (
                (actions["study_id"] == study.pk)
                | actions["status"].isin(open_statuses)
            )
        ]
        rows.append(
            {
                **row,
                "label": GAP_LABELS[gap],
                "explanation": GAP_EXPLANATIONS[gap],
                "items": _records(item_table[item_table["gap"] == gap]),
                "actions": _records(mine),
            }
        )
    return rows
