"""A manager reads the gaps of a study whose answers the test chose: the charts
are drawn, the deltas are those of the answers, small groups are hidden and so
is the smallest group that would give them away, a filter on a small group is
refused, and the exports download and parse."""

import csv
import io

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.e2e.helpers import (
    answer,
    assert_accessible,
    audience_means,
    in_questionnaire_order,
    log_in,
    shown,
)

MANAGER = "mia@northgate.example"
PASSWORD = "a-long-manager-passphrase"
MIN_GROUP_SIZE = 5
GAPS = ["knowledge", "standards", "delivery", "communication", "perception"]
GAP_LABELS = dict(zip(GAPS, [g.capitalize() for g in GAPS], strict=True))
ITEMS_PER_GAP = 5  # the default questionnaire
# The level each audience answers around, per gap: staff rate themselves higher.
STAFF_LEVEL = dict(zip(GAPS, [6, 6, 5, 6, 6], strict=True))
CUSTOMER_LEVEL = dict(zip(GAPS, [4, 5, 4, 3, 4], strict=True))


def chosen(level: dict, shift: int, respondent: int) -> dict[str, list]:
    """One respondent's answers: per gap, each item a step below, at or above
    the level (moved by the group's shift), varying with the respondent."""
    return {
        gap: [
            min(7, max(1, level[gap] + shift + (respondent + k) % 3 - 1))
            for k in range(ITEMS_PER_GAP)
        ]
        for gap in GAPS
    }


def _people():
    """13 staff (6 Front desk, 5 Claims, 2 Billing) and 15 customers (7 Retail,
    one of whom answers in the browser, 6 Trade and 2 Wholesale): Billing and
    Wholesale are below the minimum group size, and Claims and Trade, the
    smallest of the others, are hidden with them so that the total minus the
    shown groups is never a group below it. (13 and 15 respondents: no mean
    lands exactly halfway between two shown decimals.)"""
    staff = [
        {
            "email": f"staff{r}@northgate.example",
            "department": "Front desk" if r < 6 else "Claims" if r < 11 else "Billing",
            "answers": chosen(STAFF_LEVEL, 0 if r < 11 else -1, r),
        }
        for r in range(13)
    ]
    customers = [
        {
            "email": f"customer{r}@clients.example",
            "segment": "Retail" if r < 7 else "Trade" if r < 13 else "Wholesale",
            "answers": chosen(CUSTOMER_LEVEL, 0 if r < 13 else -2, r),
        }
        for r in range(15)
        if r != 6
    ]
    staff[0]["answers"]["knowledge"][0] = None  # "don't know" counts for nothing
    customers[1]["answers"]["delivery"][2] = None
    in_browser = {
        "email": "customer6@clients.example",
        "segment": "Retail",
        "answers": chosen(CUSTOMER_LEVEL, 0, 6),
    }
    return staff, customers, in_browser


def _charts(page) -> dict:
    """Per chart on the page: whether plotly drew its SVG, how many traces it
    has, how many values they carry and how many marks were drawn."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll("[data-chart]")]
            .map((el) => {
                const traces = el.data || [];
                const values = traces.flatMap((t) =>
                    [t.x, t.y, t.z].flat(2).filter((v) => typeof v === "number"));
                const marks = el.querySelectorAll(
                    ".point path, .hm image, .heatmaplayer image, path.js-line");
                return [el.dataset.chart, {
                    svg: el.querySelector("svg.main-svg") !== null,
                    traces: traces.length,
                    values: values.length,
                    marks: marks.length,
                }];
            }))"""
    )


def _wait_for_charts(page) -> None:
    page.wait_for_function(
        """() => [...document.querySelectorAll("[data-chart]")]
            .every((el) => el.querySelector("svg.main-svg"))"""
    )


def _gap_row_cells(page, gap: str) -> list[str]:
    """Staff, customer and Δ cells of a gap's row (Δ without its "*" mark of
    q < 0.05)."""
    row = page.locator(f"tr#gap-{gap}")
    cells = [text.strip() for text in row.locator("td").all_inner_texts()[:3]]
    return [*cells[:2], cells[2].rstrip("*")]


def _download_csv(page, link_name: str) -> list[dict]:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    text = open(download.path(), encoding="utf-8-sig").read()  # noqa: SIM115
    return list(csv.DictReader(io.StringIO(text)))


def test_a_manager_reads_the_gaps_filters_by_segment_and_exports(app, new_page):
    staff, customers, in_browser = _people()
    seeded = app.seed(
        "study_with_answers",
        name="Northgate Utilities",
        manager=MANAGER,
        password=PASSWORD,
        study="Winter wave",
        min_group_size=MIN_GROUP_SIZE,
        staff=staff,
        customers=customers,
        pending=[{"email": in_browser["email"], "segment": "Retail"}],
    )
    items, study_id = seeded["items"], seeded["study_id"]

    # One Retail customer answers in the browser.
    customer = new_page()
    customer.goto(f"{app.url}/s/{seeded['tokens'][in_browser['email']]}/")
    answer(customer, items, in_questionnaire_order(in_browser["answers"], items))
    customer.get_by_role("button", name="Send my answers").click()
    expect(customer.get_by_test_id("thanks")).to_be_visible()

    internal = audience_means([s["answers"] for s in staff])
    external = audience_means([c["answers"] for c in [*customers, in_browser]])
    page = new_page()
    log_in(page, app, MANAGER, PASSWORD)
    page.goto(f"{app.url}/studies/{study_id}/dashboard/")

    # Every chart is drawn, none empty.
    _wait_for_charts(page)
    charts = _charts(page)
    assert set(charts) == {
        "paired",
        "deltas",
        "departments",
        "segments",
        "segment_deltas",
        "likert",
    }  # one study: the trend appears from the second wave
    expect(page.get_by_test_id("trend-waiting")).to_be_visible()
    for name, chart in charts.items():
        assert chart["svg"], f"{name}: plotly drew no SVG"
        assert chart["traces"] and chart["values"], f"{name}: an empty chart"
        assert chart["marks"], f"{name}: nothing drawn"

    # The deltas shown are those of the answers: staff mean − customer mean.
    for gap in GAPS:
        staff_mean, staff_n = internal[gap]
        customer_mean, customer_n = external[gap]
        assert (staff_n, customer_n) == (13, 15)
        assert _gap_row_cells(page, gap) == [
            f"{shown(staff_mean)} ({staff_n})",
            f"{shown(customer_mean)} ({customer_n})",
            shown(staff_mean - customer_mean, signed=True),
        ], gap
    overall = internal["overall"][0] - external["overall"][0]
    expect(page.get_by_test_id("overall-delta")).to_have_text(
        shown(overall, signed=True)
    )
    drawn = page.evaluate(
        "() => document.querySelector('[data-chart=deltas]').data[0].x"
    )
    expected = [internal[g][0] - external[g][0] for g in [*GAPS, "overall"]]
    assert all(abs(a - float(b)) < 1e-9 for a, b in zip(drawn, expected, strict=True))
    # Billing (2 staff) and Wholesale (2 customers) are too small to be shown;
    # Claims (5) is hidden with Billing, or the staff minus Front desk minus
    # Claims would be Billing.
    note = f"fewer than {MIN_GROUP_SIZE}"
    hidden = "hidden to protect a smaller group"
    page.get_by_text("Departments as a table").click()
    expect(page.get_by_role("row", name="Billing").get_by_role("cell")).to_have_text(
        [note] * len(GAPS)
    )
    expect(page.get_by_role("row", name="Claims").get_by_role("cell")).to_have_text(
        [hidden] * len(GAPS)
    )
    expect(page.get_by_role("row", name="Front desk")).not_to_contain_text(note)
    expect(page.get_by_role("row", name="Front desk")).not_to_contain_text(hidden)
    assert_accessible(page, "the dashboard")
    screenshot(page, "dashboard", height=1400)

    # A filter on Wholesale would isolate it: refused in plain words, and the
    # page stays on everyone; the export refuses it too.
    page.get_by_label("Customer segment", exact=True).select_option(label="Wholesale")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_test_id("filter-refused")).to_contain_text(
        "This segment is not shown on its own"
    )
    for gap in GAPS:
        assert _gap_row_cells(page, gap)[1] == f"{shown(external[gap][0])} (15)"
    refused = page.request.get(
        f"{app.url}/studies/{study_id}/export/gaps.csv?segment="
        + page.get_by_label("Customer segment", exact=True).input_value()
    )
    assert refused.status == 400
    assert "not shown on its own" in refused.text()

    # Unfiltered, the gap table exports the deltas of the answers, and the
    # anonymized answers leave out the small groups.
    page.goto(f"{app.url}/studies/{study_id}/dashboard/")
    exported = _download_csv(page, "Gap table (CSV)")
    gaps = {r["gap"]: r for r in exported if r["level"] in ("gap", "overall")}
    for gap in GAPS:
        delta = internal[gap][0] - external[gap][0]
        # Exported to 2 decimals.
        assert abs(float(gaps[GAP_LABELS[gap]]["delta"]) - float(delta)) <= 0.005
    assert abs(float(gaps["Overall"]["delta"]) - float(overall)) <= 0.005
    answers = _download_csv(page, "Answers (CSV)")
    respondents = {(r["respondent"], r["audience"]) for r in answers}
    assert len(respondents) == 6 + 7  # Front desk and Retail only
    assert {r["department"] for r in answers if r["audience"] == "internal"} == {
        "Front desk"
    }
    assert {r["segment"] for r in answers if r["audience"] == "customer"} == {"Retail"}
