"""Plotly figures of expectations and priorities, in the style of
`analysis.charts` (its palette, fonts, layout and escaping): no database, no
arithmetic beyond layout.

- `priority_quadrants`: the priority matrix, importance across, performance
  up, the quadrant lines at the means and each quadrant named;
- `tolerance_band`: per item, the zone of tolerance from the mean minimum
  acceptable (A) to the mean desired (D) level, the mean perception (P)
  marked.
"""

from collections.abc import Mapping, Sequence
from html import escape

import pandas as pd

from analysis.charts import GAP_COLOURS, OKABE_ITO, Figure, _figure, _layout, _num

QUADRANT_COLOURS = {
    "concentrate here": OKABE_ITO["vermillion"],
    "keep up the good work": OKABE_ITO["green"],
    "low priority": OKABE_ITO["grey"],
    "possible overkill": OKABE_ITO["blue"],
}


def priority_quadrants(
    matrix: pd.DataFrame,
    lines: Mapping[str, float | None],
    *,
    x_title: str,
    y_title: str,
    title: str = "Priority matrix: importance and performance",
) -> Figure:
    """One marker per area (or statement), coloured by its quadrant, with
    the quadrant lines and names. In: label, x, y, quadrant, and optionally
    text (a statement's wording) and area_label (its area), shown on hover;
    lines {x, y}."""
    traces = []
    for quadrant, colour in QUADRANT_COLOURS.items():
        chosen = matrix[matrix["quadrant"] == quadrant]
        if chosen.empty:
            continue
        traces.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "name": quadrant.capitalize(),
                "x": list(chosen["x"]),
                "y": list(chosen["y"]),
                "text": [escape(str(label)) for label in chosen["label"]],
                "textposition": "top center",
                "marker": {"color": colour, "size": 14},
                "hovertext": [
                    f"{escape(str(row['label']))}"
                    + (f" {escape(str(row['text']))}" if row.get("text") else "")
                    + (
                        f"<br>Area: {escape(str(row['area_label']))}"
                        if row.get("area_label")
                        else ""
                    )
                    + f"<br>{escape(x_title)}: {_num(row['x'])}<br>"
                    f"{escape(y_title)}: {_num(row['y'])}<br>{quadrant}"
                    for row in chosen.to_dict("records")
                ],
                "hoverinfo": "text",
            }
        )
    shapes, annotations = [], []
    if lines.get("x") is not None:
        shapes.append(_line("x", lines["x"]))
    if lines.get("y") is not None:
        shapes.append(_line("y", lines["y"]))
    for text, x, y, xanchor, yanchor in (
        ("Concentrate here", 1, 0, "right", "bottom"),
        ("Keep up the good work", 1, 1, "right", "top"),
        ("Low priority", 0, 0, "left", "bottom"),
        ("Possible overkill", 0, 1, "left", "top"),
    ):
        annotations.append(
            {
                "text": text,
                "x": x,
                "y": y,
                "xref": "x domain",
                "yref": "y domain",
                "xanchor": xanchor,
                "yanchor": yanchor,
                "showarrow": False,
                "font": {"color": OKABE_ITO["black"], "size": 12},
            }
        )
    # Room around the areas, so that no marker or its name sits in a corner
    # under a quadrant's name.
    fig = _figure(
        *traces,
        shapes=shapes,
        annotations=annotations,
        xaxis={"range": _padded(matrix["x"])},
        yaxis={"range": _padded(matrix["y"])},
    )
    return _layout(fig, title, x_title, y_title)


def _padded(values) -> list[float]:
    low, high = float(min(values)), float(max(values))
    pad = 0.25 * (high - low) if high > low else 1.0
    return [low - pad, high + pad]


def _line(axis: str, value: float) -> dict:
    other = "y" if axis == "x" else "x"
    return {
        "type": "line",
        f"{axis}0": value,
        f"{axis}1": value,
        f"{axis}ref": axis,
        f"{other}0": 0,
        f"{other}1": 1,
        f"{other}ref": f"{other} domain",
        "line": {"color": OKABE_ITO["black"], "width": 1, "dash": "dot"},
    }


def tolerance_band(rows: Sequence[Mapping], *, scale: tuple[int, int]) -> Figure:
    """Per item: a bar from mean A to mean D (the zone of tolerance) and a
    marker at mean P. In: [{position, text, a_mean, d_mean, p_mean, n,
    inside_share, msa_mean, mss_mean}]."""
    labels = [f"{row['position']}" for row in rows]
    hover = [
        f"{row['position']}. {escape(str(row['text']))}<br>minimum "
        f"{_num(row['a_mean'])}, desired {_num(row['d_mean'])}, perceived "
        f"{_num(row['p_mean'])}<br>MSA {_num(row['msa_mean'])}, MSS "
        f"{_num(row['mss_mean'])}<br>inside the zone: "
        f"{_num(100 * row['inside_share'], 0)}%<br>n = {row['n']}"
        for row in rows
    ]
    band = {
        "type": "bar",
        "name": "Zone of tolerance (minimum to desired)",
        "orientation": "h",
        "y": labels,
        "base": [row["a_mean"] for row in rows],
        "x": [row["d_mean"] - row["a_mean"] for row in rows],
        "marker": {"color": OKABE_ITO["sky_blue"]},
        "hovertext": hover,
        "hoverinfo": "text",
    }
    perceived = {
        "type": "scatter",
        "mode": "markers",
        "name": "Perceived",
        "y": labels,
        "x": [row["p_mean"] for row in rows],
        "marker": {"color": OKABE_ITO["vermillion"], "size": 12, "symbol": "diamond"},
        "hovertext": hover,
        "hoverinfo": "text",
    }
    fig = _figure(
        band,
        perceived,
        xaxis={"range": [scale[0] - 0.5, scale[1] + 0.5]},
        yaxis={"autorange": "reversed", "type": "category"},
    )
    return _layout(fig, "Zone of tolerance per statement", "Mean rating", "Statement")


TREND_MEASURES = {
    "score": "Gap-model score",
    "weighted": "Gap-model score, weighted",
}


def trend(rows: Sequence[Mapping]) -> Figure:
    """The new numbers across the studies of one measurement mode: the
    gap-model scores and each area's perception gap, one line each (or, when
    the studies measure no gap, each area's stated importance). In: [{name,
    date, measure, area, label, value, n, low, high}]."""
    gaps = [row for row in rows if row["measure"] != "importance"]
    chosen = gaps or rows
    lines: dict = {}
    for row in chosen:
        key = (row["measure"], row["area"])
        lines.setdefault(key, []).append(row)
    traces = []
    for index, ((measure, _area), points) in enumerate(lines.items()):
        name = TREND_MEASURES.get(measure, points[0]["label"])
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": escape(str(name)),
                "x": [str(point["date"]) for point in points],
                "y": [point["value"] for point in points],
                "line": {
                    "color": GAP_COLOURS[index % len(GAP_COLOURS)],
                    "dash": "solid" if measure in TREND_MEASURES else "dot",
                },
                "hovertext": [
                    f"{escape(str(point['name']))} ({point['date']})<br>"
                    f"{escape(str(name))}: {_num(point['value'])}"
                    + (
                        f"<br>95% CI [{_num(point['low'])}, {_num(point['high'])}]"
                        if point.get("low") is not None
                        else ""
                    )
                    + (f"<br>n = {point['n']}" if point.get("n") is not None else "")
                    for point in points
                ],
                "hoverinfo": "text",
            }
        )
    y_title = "Perception gap" if gaps else "Importance (mean points of 100)"
    fig = _figure(*traces, xaxis={"type": "date", "tickformat": "%-d %b %Y"})
    return _layout(
        fig, "Expectations and priorities across studies", "Study date", y_title
    )
