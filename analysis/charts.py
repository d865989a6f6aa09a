"""Plotly figures for the gap dashboard: no database, no arithmetic beyond layout.

Figures are plain dicts in plotly's JSON schema ({"data": [traces], "layout":
{…}}), built directly: plotly's graph objects validate every property on
every assignment, which cost more than all the statistics of a dashboard.
The output is what `plotly.io.to_json` gave for the equivalent graph objects:
the same traces and layout, the plotly_white template and named colour scales
expanded once per process (by plotly itself) and reused.

Every figure is titled, its axes are labelled, its colours come from the
Okabe–Ito palette (safe for the common colour-vision deficiencies), and its
hover text carries n and the interval. Any text that came from a person (a
segment or department name, an item, an action) is HTML-escaped before it
reaches plotly, which renders hover and tick text as HTML-like markup.
"""

import datetime
import functools
import json
import math
from collections.abc import Mapping
from html import escape

import numpy as np
import pandas as pd

Figure = dict

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
    "grey": "#999999",
}
AUDIENCE_COLOURS = {"internal": OKABE_ITO["orange"], "customer": OKABE_ITO["blue"]}
AUDIENCE_LABELS = {"internal": "Staff", "customer": "Customers"}
GAP_COLOURS = [
    OKABE_ITO["blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["green"],
    OKABE_ITO["purple"],
    OKABE_ITO["vermillion"],
]
CATEGORY_COLOURS = {
    "disappointed": OKABE_ITO["vermillion"],
    "neutral": OKABE_ITO["grey"],
    "satisfied": OKABE_ITO["sky_blue"],
    "delighted": OKABE_ITO["blue"],
}
# Sequential cividis for means, blue–white–vermillion for deltas.
MEAN_SCALE = "Cividis"
DELTA_SCALE = [
    [0.0, OKABE_ITO["blue"]],
    [0.5, "#f7f7f7"],
    [1.0, OKABE_ITO["vermillion"]],
]
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', sans-serif", "size": 13}


def _num(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    return f"{value:.{digits}f}"


def _interval(low, high) -> str:
    if low is None or high is None:
        return "interval undefined"
    return f"95% CI [{_num(low)}, {_num(high)}]"


def _p(value) -> str:
    if value is None:
        return "p undefined"
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


@functools.cache
def _template() -> dict:
    """The plotly_white template as plotly writes it into a figure's JSON."""
    import plotly.graph_objects as go
    import plotly.io as pio

    figure = go.Figure(layout={"template": "plotly_white"})
    return json.loads(pio.to_json(figure))["layout"]["template"]


@functools.cache
def _colorscale(name: str) -> list:
    """A named plotly colour scale as the list of [position, colour] pairs
    plotly's validator turns it into."""
    import plotly.graph_objects as go

    return [list(pair) for pair in go.Heatmap(colorscale=name).colorscale]


# A chart title longer than this is broken onto lines (plotly does not wrap
# titles): on a 375 px phone a chart is about 340 px wide.
TITLE_LINE = 30


def _title_lines(title: str) -> str:
    """The escaped title, broken with <br> between words into lines of at
    most TITLE_LINE characters where it can be."""
    lines, line = [], ""
    for word in title.split():
        if line and len(line) + 1 + len(word) > TITLE_LINE:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "<br>".join(escape(part) for part in lines)


def _layout(fig: Figure, title: str, x_title: str, y_title: str) -> Figure:
    layout = fig["layout"]
    text = _title_lines(title)
    layout["title"] = {"text": text}
    layout.setdefault("xaxis", {})["title"] = {"text": x_title}
    layout.setdefault("yaxis", {})["title"] = {"text": y_title}
    layout["font"] = dict(FONT)
    layout["template"] = _template()
    # Room above the plot for each line of the title.
    layout["margin"] = {
        "l": 60,
        "r": 20,
        "t": 40 + 20 * text.count("<br>") + 20,
        "b": 60,
    }
    # At the foot of the whole figure, below the axis title: placed in the
    # plot's own coordinates it would cover long or slanted tick labels.
    layout["legend"] = {
        **layout.get("legend", {}),
        "orientation": "h",
        "yref": "container",
        "y": 0,
        "yanchor": "bottom",
    }
    layout["hoverlabel"] = {"align": "left"}
    return fig


def _figure(*traces: dict, **layout) -> Figure:
    return {"data": list(traces), "layout": layout}


def paired_bars(
    gaps: pd.DataFrame, *, labels: Mapping[str, str], scale: tuple[int, int]
) -> Figure:
    """Staff and customer means side by side, per gap.

    In: the gap table (gap, {internal,customer}_{n, mean, low, high, note}).
    """
    x = [labels.get(g, g) for g in gaps["gap"]]
    records = gaps.to_dict("records")
    traces = []
    for audience in ("internal", "customer"):
        hover = []
        for row in records:
            if row[f"{audience}_note"]:
                hover.append(
                    f"{AUDIENCE_LABELS[audience]}: {row[f'{audience}_note']} "
                    "(suppressed)"
                )
            else:
                hover.append(
                    f"{AUDIENCE_LABELS[audience]}: mean {_num(row[f'{audience}_mean'])}"
                    f"<br>n = {row[f'{audience}_n']}<br>"
                    + _interval(row[f"{audience}_low"], row[f"{audience}_high"])
                )
        traces.append(
            {
                "type": "bar",
                "name": AUDIENCE_LABELS[audience],
                "x": x,
                "y": list(gaps[f"{audience}_mean"]),
                "marker": {"color": AUDIENCE_COLOURS[audience]},
                "hovertext": hover,
                "hoverinfo": "text",
            }
        )
    fig = _figure(*traces, barmode="group", yaxis={"range": [scale[0], scale[1]]})
    return _layout(fig, "Staff and customers, per gap", "Gap", "Mean score")


def delta_bars(gaps: pd.DataFrame, *, labels: Mapping[str, str]) -> Figure:
    """Diverging bars of Δ (staff − customers) with their 95 % intervals.

    In: the gap table (gap, delta, ci_half, ci_low, ci_high, p, internal_n,
    customer_n). Positive bars (the organization rates itself higher) are
    vermillion, negative ones blue.
    """
    colours = [
        OKABE_ITO["vermillion"] if d is not None and d > 0 else OKABE_ITO["blue"]
        for d in gaps["delta"]
    ]
    hover = [
        (
            f"Δ {_num(row['delta'])}<br>{_interval(row['ci_low'], row['ci_high'])}"
            f"<br>{_p(row['p'])}<br>n staff = {row['internal_n']}, "
            f"n customers = {row['customer_n']}"
        )
        if row["delta"] is not None
        else "Δ not shown: a group is too small or empty"
        for row in gaps.to_dict("records")
    ]
    bar = {
        "type": "bar",
        "name": "Δ staff − customers",
        "orientation": "h",
        "y": [labels.get(g, g) for g in gaps["gap"]],
        "x": list(gaps["delta"]),
        "marker": {"color": colours},
        "error_x": {
            "type": "data",
            "array": list(gaps["ci_half"]),
            "visible": True,
            "color": OKABE_ITO["black"],
        },
        "hovertext": hover,
        "hoverinfo": "text",
    }
    zero = {
        "type": "line",
        "x0": 0,
        "x1": 0,
        "xref": "x",
        "y0": 0,
        "y1": 1,
        "yref": "y domain",
        "line": {"color": OKABE_ITO["black"], "width": 1},
    }
    fig = _figure(bar, shapes=[zero], yaxis={"autorange": "reversed"})
    return _layout(
        fig,
        "Gap Δ (staff − customers) with 95% intervals",
        "Δ (points on the scale)",
        "Gap",
    )


def heatmap(
    matrix: pd.DataFrame,
    *,
    labels: Mapping[str, str],
    title: str,
    group_title: str,
    value: str = "mean",
    diverging: bool = False,
) -> Figure:
    """Group × gap heatmap; suppressed cells are empty and annotated.

    In: group, gap, n, note and the `value` column (mean or delta; None when
    suppressed). Group names are escaped.
    """
    groups = list(dict.fromkeys(matrix["group"]))
    gaps = list(dict.fromkeys(matrix["gap"]))
    cells = {}
    for row in matrix.to_dict("records"):
        cells.setdefault((row["group"], row["gap"]), row)
    z, text, hover = [], [], []
    for group in groups:
        z_row, text_row, hover_row = [], [], []
        for gap in gaps:
            row = cells.get((group, gap), {"n": 0, "note": ""})
            number = row.get(value)
            if row.get("note") or number is None:
                z_row.append(None)
                text_row.append(escape(row.get("note") or "no answers"))
                hover_row.append(
                    f"{escape(str(group))} · {labels.get(gap, gap)}: "
                    f"{escape(row.get('note') or 'no answers')}"
                )
            else:
                z_row.append(number)
                text_row.append(_num(number))
                detail = (
                    f"<br>{_interval(row.get('ci_low'), row.get('ci_high'))}"
                    if "ci_low" in row
                    else ""
                )
                hover_row.append(
                    f"{escape(str(group))} · {labels.get(gap, gap)}: "
                    f"{value} {_num(number)}<br>n = {row['n']}{detail}"
                )
        z.append(z_row)
        text.append(text_row)
        hover.append(hover_row)
    trace = {
        "type": "heatmap",
        "z": z,
        "x": [labels.get(g, g) for g in gaps],
        "y": [escape(str(g)) for g in groups],
        "text": text,
        "texttemplate": "%{text}",
        "hovertext": hover,
        "hoverinfo": "text",
        "colorscale": DELTA_SCALE if diverging else _colorscale(MEAN_SCALE),
        "colorbar": {"title": {"text": "Δ" if diverging else "Mean"}},
        "xgap": 2,
        "ygap": 2,
    }
    if diverging:
        trace["zmid"] = 0
    fig = _figure(trace, yaxis={"autorange": "reversed"})
    return _layout(fig, title, "Gap", group_title)


def likert(distribution: pd.DataFrame, *, labels: Mapping[str, str]) -> Figure:
    """Stacked horizontal bars of the four categories per gap and audience.

    In: gap, audience, n, note, disappointed, neutral, satisfied, delighted
    (shares 0–1, None when suppressed).
    """
    rows = distribution.to_dict("records")
    y = [
        f"{labels.get(r['gap'], r['gap'])} · {AUDIENCE_LABELS[r['audience']]}"
        for r in rows
    ]
    traces = []
    for category in ("disappointed", "neutral", "satisfied", "delighted"):
        hover = [
            f"{label}: {r['note']} (suppressed)"
            if r["note"]
            else f"{label}: {category} {r[category]:.0%} (n = {r['n']})"
            for label, r in zip(y, rows, strict=True)
        ]
        traces.append(
            {
                "type": "bar",
                "name": category.capitalize(),
                "orientation": "h",
                "y": y,
                "x": [r[category] for r in rows],
                "marker": {"color": CATEGORY_COLOURS[category]},
                "hovertext": hover,
                "hoverinfo": "text",
            }
        )
    fig = _figure(
        *traces,
        barmode="stack",
        height=max(320, 28 * len(rows) + 140),
        legend={"traceorder": "normal"},
        xaxis={"tickformat": ".0%", "range": [0, 1]},
        yaxis={"autorange": "reversed"},
    )
    return _layout(
        fig, "How respondents feel, per gap", "Share of respondents", "Gap · audience"
    )


def trend(
    table: pd.DataFrame, actions: pd.DataFrame, *, labels: Mapping[str, str]
) -> Figure:
    """Δ per gap across the organization's studies, with actions as markers.

    In: the trend table (date, name, gap, delta, ci_half, ci_low, ci_high, p,
    internal_n, customer_n, note) and the actions (created_on, gap,
    description, owner, status_label), drawn on the zero line at their date.
    """
    traces = []
    gaps = list(dict.fromkeys(table["gap"])) if not table.empty else []
    for index, gap in enumerate(gaps):
        part = table[table["gap"] == gap]
        hover = [
            f"{escape(str(r['name']))} ({r['date']})<br>{labels.get(gap, gap)}: "
            + (
                f"{r['note']} (suppressed)"
                if r["note"]
                else f"Δ {_num(r['delta'])}<br>{_interval(r['ci_low'], r['ci_high'])}"
                f"<br>n staff = {r['internal_n']}, n customers = {r['customer_n']}"
            )
            for r in part.to_dict("records")
        ]
        traces.append(
            {
                "type": "scatter",
                "name": labels.get(gap, gap),
                "mode": "lines+markers",
                "x": [str(d) for d in part["date"]],
                "y": list(part["delta"]),
                "line": {"color": GAP_COLOURS[index % len(GAP_COLOURS)]},
                "error_y": {
                    "type": "data",
                    "array": list(part["ci_half"]),
                    "visible": True,
                },
                "hovertext": hover,
                "hoverinfo": "text",
            }
        )
    if not actions.empty:
        traces.append(
            {
                "type": "scatter",
                "name": "Action taken",
                "mode": "markers",
                "x": [str(d) for d in actions["created_on"]],
                "y": [0] * len(actions),
                "marker": {
                    "symbol": "triangle-up",
                    "size": 12,
                    "color": OKABE_ITO["black"],
                },
                "hovertext": [
                    f"Action on {labels.get(a['gap'], a['gap'])} ({a['created_on']}, "
                    f"{escape(str(a['status_label']))}): "
                    f"{escape(str(a['description']))}"
                    + (f"<br>Owner: {escape(str(a['owner']))}" if a["owner"] else "")
                    for a in actions.to_dict("records")
                ],
                "hoverinfo": "text",
            }
        )
    zero = {
        "type": "line",
        "x0": 0,
        "x1": 1,
        "xref": "x domain",
        "y0": 0,
        "y1": 0,
        "yref": "y",
        "line": {"color": OKABE_ITO["grey"], "width": 1},
    }
    xaxis = {"type": "date", "tickformat": "%-d %b %Y"}
    dates = sorted({str(d) for d in table["date"]}) if not table.empty else []
    if len(dates) == 1:
        # One wave: show a season around it rather than a millisecond.
        only = datetime.date.fromisoformat(dates[0])
        margin = datetime.timedelta(days=90)
        xaxis["range"] = [str(only - margin), str(only + margin)]
    fig = _figure(*traces, shapes=[zero], xaxis=xaxis)
    return _layout(fig, "Gap Δ across studies", "Study date", "Δ (staff − customers)")


def _plain(value):
    """A JSON value with no numpy, NaN or dates left (what plotly's encoder
    does to them: numbers, null, ISO strings)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def to_json(figures: Mapping[str, Figure]) -> dict:
    """Plain JSON-able dicts (no numpy) for `json_script`, keyed by chart name."""
    plain = {}
    for name, fig in figures.items():
        layout = dict(fig["layout"])
        template = layout.pop("template", None)  # plain JSON already
        plain[name] = _plain({**fig, "layout": layout})
        if template is not None:
            plain[name]["layout"]["template"] = template
    return plain
