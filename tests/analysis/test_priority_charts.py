"""The priority charts by their structure, and escaped person-made text."""

import pandas as pd

from analysis import priority_charts

XSS = "<script>alert('x')</script>"


def test_the_quadrant_chart_has_a_trace_per_quadrant_lines_and_names():
    matrix = pd.DataFrame(
        {
            "area": ["a", "b"],
            "label": ["Reliability", "Empathy"],
            "x": [30.0, 10.0],
            "y": [-1.0, 0.5],
            "quadrant": ["concentrate here", "possible overkill"],
        }
    )
    fig = priority_charts.priority_quadrants(
        matrix, {"x": 20.0, "y": -0.25}, x_title="Importance", y_title="Gap"
    )
    assert [t["name"] for t in fig["data"]] == ["Concentrate here", "Possible overkill"]
    assert len(fig["layout"]["shapes"]) == 2
    assert {a["text"] for a in fig["layout"]["annotations"]} == {
        "Concentrate here",
        "Keep up the good work",
        "Low priority",
        "Possible overkill",
    }
    assert fig["layout"]["xaxis"]["title"]["text"] == "Importance"


def test_the_tolerance_band_escapes_the_statements():
    rows = [
        {
            "position": 1,
            "text": XSS,
            "a_mean": 3.0,
            "d_mean": 6.0,
            "p_mean": 5.0,
            "n": 8,
            "inside_share": 0.5,
            "msa_mean": 2.0,
            "mss_mean": -1.0,
        }
    ]
    fig = priority_charts.tolerance_band(rows, scale=(1, 7))
    band, perceived = fig["data"]
    assert band["base"] == [3.0] and band["x"] == [3.0]
    assert perceived["x"] == [5.0]
    assert XSS not in band["hovertext"][0]
    assert "&lt;script&gt;" in band["hovertext"][0]
