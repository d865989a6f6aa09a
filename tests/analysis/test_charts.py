"""The figures by their structure: traces, titles, axes, suppression, escaping."""

import json

import pandas as pd
import pytest

from analysis import charts
from tests import reference

LABELS = {"knowledge": "Knowledge", "standards": "Standards", "overall": "Overall"}


@pytest.fixture
def scores() -> pd.DataFrame:
    rows = [(i, "internal", 1, "Desk", "knowledge", 12, 2) for i in range(4)]
    rows += [(10 + i, "customer", 2, "Retail", "knowledge", 6 + i, 2) for i in range(5)]
    rows += [(20, "customer", 3, "<b>Tiny</b>", "knowledge", 2, 2)]
    frame = pd.DataFrame(
        rows,
        columns=[
            "response_id",
            "audience",
            "group_id",
            "group",
            "gap",
            "total",
            "n_items",
        ],
    )
    frame["score"] = frame["total"] / frame["n_items"]
    return frame


@pytest.fixture
def gap_table(scores):
    return reference.gap_table(
        scores, gaps=["knowledge", "standards"], min_group_size=3
    )


def test_paired_bars_have_one_trace_per_audience(gap_table):
    fig = charts.paired_bars(gap_table, labels=LABELS, scale=(1, 7))
    assert [t["name"] for t in fig["data"]] == ["Staff", "Customers"]
    assert list(fig["data"][0]["x"]) == ["Knowledge", "Standards", "Overall"]
    layout = fig["layout"]
    assert layout["title"]["text"] and layout["xaxis"]["title"]["text"]
    assert layout["yaxis"]["title"]["text"] == "Mean score"
    assert "n = 4" in fig["data"][0]["hovertext"][0]
    assert "95% CI" in fig["data"][0]["hovertext"][0]


def test_suppressed_bars_are_empty_and_say_so(gap_table):
    fig = charts.paired_bars(gap_table, labels=LABELS, scale=(1, 7))
    assert fig["data"][0]["y"][1] is None
    assert "not enough answers" in fig["data"][0]["hovertext"][1]


def test_delta_bars_carry_the_interval_as_error_bars(gap_table):
    fig = charts.delta_bars(gap_table, labels=LABELS)
    bar = fig["data"][0]
    knowledge = gap_table.iloc[0]
    assert bar["orientation"] == "h"
    assert bar["x"][0] == pytest.approx(knowledge["delta"])
    assert bar["error_x"]["array"][0] == pytest.approx(knowledge["ci_half"])
    assert "95% CI" in bar["hovertext"][0]


def test_heatmap_leaves_suppressed_cells_empty_and_escapes_names(scores):
    matrix = reference.group_matrix(
        scores, audience="customer", gaps=["knowledge"], min_group_size=3
    )
    fig = charts.heatmap(matrix, labels=LABELS, title="Segments", group_title="Segment")
    heat = fig["data"][0]
    assert list(heat["y"]) == ["&lt;b&gt;Tiny&lt;/b&gt;", "Retail"]
    assert heat["z"][0][0] is None
    assert heat["text"][0][0] == "fewer than 3"
    assert heat["z"][1][0] == pytest.approx(4.0)
    assert "<b>Tiny" not in json.dumps(charts.to_json({"h": fig}))


def test_likert_stacks_four_categories(scores):
    dist = reference.distribution(
        scores, gaps=["knowledge"], scale_min=1, scale_max=7, min_group_size=3
    )
    fig = charts.likert(dist, labels=LABELS)
    assert [t["name"] for t in fig["data"]] == [
        "Disappointed",
        "Neutral",
        "Satisfied",
        "Delighted",
    ]
    assert fig["layout"]["barmode"] == "stack"
    colours = {t["marker"]["color"] for t in fig["data"]}
    assert colours <= set(charts.OKABE_ITO.values())


def trend_input(name: str, action: str, owner: str):
    """One study's knowledge Δ, and one action taken after it."""
    table = pd.DataFrame(
        [
            {
                "study_id": 1,
                "name": name,
                "date": "2025-01-01",
                "gap": "knowledge",
                "internal_n": 5,
                "customer_n": 9,
                "delta": 1.2,
                "ci_low": 0.5,
                "ci_high": 1.9,
                "ci_half": 0.7,
                "p": 0.01,
                "note": "",
            }
        ]
    )
    actions = pd.DataFrame(
        [
            {
                "created_on": "2025-03-01",
                "gap": "knowledge",
                "description": action,
                "owner": owner,
                "status_label": "Planned",
            }
        ]
    )
    return table, actions


def test_trend_has_a_line_per_gap_and_action_markers():
    table, actions = trend_input("Wave <1>", "<script>alert(1)</script>", "Ops")
    fig = charts.trend(table, actions, labels=LABELS)
    assert [t["name"] for t in fig["data"]] == ["Knowledge", "Action taken"]
    assert "&lt;script&gt;" in fig["data"][1]["hovertext"][0]
    assert "Wave &lt;1&gt;" in fig["data"][0]["hovertext"][0]
    assert fig["layout"]["xaxis"]["title"]["text"] == "Study date"


def test_to_json_gives_plain_data_and_layout(gap_table):
    figures = charts.to_json(
        {"paired": charts.paired_bars(gap_table, labels=LABELS, scale=(1, 7))}
    )
    assert set(figures["paired"]) >= {"data", "layout"}
    json.dumps(figures)  # no numpy left


def test_every_figure_is_what_plotly_itself_makes_of_it(scores, gap_table):
    """The figures are built as plain dicts; plotly's own validation accepts
    each one and writes exactly the same JSON (template and colour scales
    included)."""
    import plotly.graph_objects as go
    import plotly.io as pio

    matrix = reference.group_matrix(
        scores, audience="customer", gaps=["knowledge"], min_group_size=3
    )
    deltas = reference.segment_deltas(scores, gaps=["knowledge"], min_group_size=3)
    dist = reference.distribution(
        scores, gaps=["knowledge"], scale_min=1, scale_max=7, min_group_size=3
    )
    trend, actions = trend_input("Wave 1", "Train", "")
    figures = {
        "paired": charts.paired_bars(gap_table, labels=LABELS, scale=(1, 7)),
        "deltas": charts.delta_bars(gap_table, labels=LABELS),
        "heat": charts.heatmap(matrix, labels=LABELS, title="T", group_title="G"),
        "diverging": charts.heatmap(
            deltas,
            labels=LABELS,
            title="T",
            group_title="G",
            value="delta",
            diverging=True,
        ),
        "likert": charts.likert(dist, labels=LABELS),
        "trend": charts.trend(trend, actions, labels=LABELS),
    }
    plain = charts.to_json(figures)
    for name, fig in plain.items():
        assert json.loads(pio.to_json(go.Figure(fig))) == fig, name
