"""Issue 17.7: an expectation-mode study in the browser. A customer answers
what an excellent company would do and what this one does, with the keyboard
on a phone-sized screen, and spreads 100 points; a staff member answers; the
manager reads the perception gaps, the priority matrix and "where to act
first" — numbers equal to those worked out here from the answers entered —
and adds an action from the top row."""

import shutil
from fractions import Fraction

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT, SCREENSHOTS, SCREENSHOTS_COPY
from tests.e2e.helpers import assert_accessible, log_in, shown

MANAGER = "eve@harbour.example"
PASSWORD = "a-long-manager-passphrase"
STAFF = "sol@harbour.example"
STAFF_PASSWORD = "sol-chooses-a-long-passphrase"
CUSTOMER = "browser@clients.example"
AREAS = ["tangibles", "reliability", "responsiveness", "assurance", "empathy"]
LABELS = {area: area.capitalize() for area in AREAS}


def person(e_level: list[int], p_level: list[int], shift: int) -> dict:
    """Per area (three statements each) an expectation and a perception
    level; the statements vary around them by the respondent's shift, and
    every other respondent perceives a point less on one statement."""
    e, p = [], []
    for area in range(5):
        for k in range(3):
            wobble = (shift + k) % 3 - 1
            lower = 1 if k == 0 and shift % 2 else 0
            e.append(max(1, min(7, e_level[area] + wobble)))
            p.append(max(1, min(7, p_level[area] - wobble - lower)))
    return {"e": e, "p": p}


# Customers expect much of reliability and get little; tangibles are
# over-delivered.
CUSTOMER_E = [4, 7, 6, 5, 5]
CUSTOMER_P = [6, 3, 5, 5, 5]
POINTS = [
    {
        "tangibles": 5,
        "reliability": 45,
        "responsiveness": 20,
        "assurance": 15,
        "empathy": 15,
    },
    {
        "tangibles": 10,
        "reliability": 40,
        "responsiveness": 20,
        "assurance": 20,
        "empathy": 10,
    },
    {
        "tangibles": 0,
        "reliability": 50,
        "responsiveness": 25,
        "assurance": 15,
        "empathy": 10,
    },
]
BROWSER_POINTS = {
    "tangibles": 10,
    "reliability": 35,
    "responsiveness": 25,
    "assurance": 20,
    "empathy": 10,
}


def _people():
    customers = [
        {
            "email": f"c{r}@clients.example",
            **person(CUSTOMER_E, CUSTOMER_P, r),
            "points": POINTS[r],
            "overall": 4,
        }
        for r in range(3)
    ]
    staff = [
        {
            "email": f"s{r}@harbour.example",
            **person([5, 5, 5, 5, 5], [6, 6, 6, 6, 6], r),
            "points": dict.fromkeys(AREAS, 20),
        }
        for r in range(2)
    ]
    staff.append({"email": STAFF, "password": STAFF_PASSWORD})
    return staff, customers, {"email": CUSTOMER, **person(CUSTOMER_E, CUSTOMER_P, 1)}


@pytest.fixture(scope="module")
def seeded(app):
    staff, customers, _ = _people()
    return app.seed(
        "expectations_study",
        name="Harbour Insurance",
        manager=MANAGER,
        password=PASSWORD,
        study="Expectations wave",
        min_group_size=3,
        staff=staff,
        customers=customers,
        pending=[CUSTOMER],
    )


def choose_with_keys(page, name: str, value: int) -> None:
    """Check `value` of a radio group with the keyboard: focus its first
    option, Space, then the down arrow (value − 1) times."""
    page.locator(f'input[name="{name}"][value="1"]').focus()
    page.keyboard.press("Space")
    for _ in range(value - 1):
        page.keyboard.press("ArrowDown")
    expect(page.locator(f'input[name="{name}"][value="{value}"]')).to_be_checked()


def _matrix_screenshot(page) -> None:
    """The README's picture: the priority matrix and the ranked list below
    it (var/screenshots, and $GAPSURVEY_SCREENSHOTS_DIR when set)."""
    chart = page.locator('[data-chart="priority_matrix"]').bounding_box()
    ranked = page.get_by_test_id("act-first").bounding_box()
    top = chart["y"] - 8
    clip = {
        "x": 0,
        "y": top,
        "width": page.viewport_size["width"],
        "height": ranked["y"] + ranked["height"] + 8 - top,
    }
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / "priority-matrix.png"
    page.screenshot(path=str(path), full_page=True, clip=clip, animations="disabled")
    if SCREENSHOTS_COPY:
        (ROOT / SCREENSHOTS_COPY).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, ROOT / SCREENSHOTS_COPY / path.name)


def expected(customers: list[dict]) -> dict:
    """Per area: the mean over customers of their area gap (mean of P − E
    over the area's three statements), and the mean points."""
    found = {}
    for index, area in enumerate(AREAS):
        gaps = [
            Fraction(
                sum(c["p"][j] - c["e"][j] for j in range(3 * index, 3 * index + 3)),
                3,
            )
            for c in customers
        ]
        points = [Fraction(c["points"][area]) for c in customers]
        found[area] = {
            "d": sum(gaps) / len(gaps),
            "points": sum(points) / len(points),
        }
    return found


def test_an_expectations_study_from_answers_to_an_action(app, new_page, seeded):
    _, customers, in_browser = _people()
    items = seeded["items"]

    # The customer, on a phone, with the keyboard.
    phone = new_page(phone=True)
    phone.goto(f"{app.url}/s/{seeded['tokens'][CUSTOMER]}/")
    expect(phone.locator("fieldset.rating").first).to_be_visible()
    first = phone.locator("fieldset.answer-item").first
    boxes = first.locator("fieldset.rating").all()
    # Stacked: the expectation above the perception, not beside it.
    assert boxes[0].bounding_box()["y"] < boxes[1].bounding_box()["y"]
    assert_accessible(phone, "the expectations form on a phone")
    for item, e, p in zip(items, in_browser["e"], in_browser["p"], strict=True):
        choose_with_keys(phone, f"item_{item['id']}_E", e)
        choose_with_keys(phone, f"item_{item['id']}", p)
    total = phone.locator("[data-importance-total]")
    for area, points in BROWSER_POINTS.items():
        phone.locator(f"#id_points_{area}").focus()
        phone.keyboard.type(str(points))
    expect(total).to_have_text("100")
    choose_with_keys(phone, "overall", 4)
    phone.get_by_role("button", name="Send my answers").focus()
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/thanks/")

    # The staff member, on a wide screen: side by side.
    desk = new_page()
    log_in(desk, app, STAFF, STAFF_PASSWORD)
    desk.goto(f"{app.url}/assessments/{seeded['study_id']}/")
    boxes = desk.locator("fieldset.answer-item").first.locator("fieldset.rating").all()
    assert boxes[0].bounding_box()["y"] == boxes[1].bounding_box()["y"]
    assert_accessible(desk, "the staff expectations form")
    for item in items:
        for name, value in ((f"item_{item['id']}_E", 5), (f"item_{item['id']}", 6)):
            desk.locator(
                f'.scale-option:has(> input[name="{name}"][value="{value}"]) > label'
            ).click()
    for area in AREAS:
        desk.locator(f"#id_points_{area}").fill("20")
    desk.get_by_role("button", name="Submit").click()
    expect(desk.get_by_text("your self-assessment is submitted")).to_be_visible()

    # The manager reads the priorities.
    manager = new_page(height=1000)
    log_in(manager, app, MANAGER, PASSWORD)
    # Cold: publishing the first snapshot and computing every figure, on a
    # machine the test shares.
    manager.goto(f"{app.url}/studies/{seeded['study_id']}/dashboard/", timeout=60_000)
    everyone = [*customers, {**in_browser, "points": BROWSER_POINTS}]
    numbers = expected(everyone)
    table = manager.get_by_test_id("priority-areas")
    for area in AREAS:
        cell = table.locator(f'tr[data-area="{area}"] [data-testid="gap-d"]')
        expect(cell).to_have_text(shown(numbers[area]["d"], signed=True))
    ranked = sorted(
        AREAS,
        key=lambda a: -(numbers[a]["points"] / 100 * max(0, -numbers[a]["d"])),
    )
    rows = manager.get_by_test_id("act-first").locator("tbody tr")
    expect(rows.first).to_have_attribute("data-area", ranked[0])
    top = numbers[ranked[0]]
    priority = top["points"] / 100 * -top["d"]
    expect(rows.first.locator('[data-testid="priority"]')).to_have_text(
        f"{float(priority):.3f}"
    )
    manager.wait_for_function(
        """() => document.querySelector(
            '[data-chart="priority_matrix"] svg.main-svg')"""
    )
    assert_accessible(manager, "the dashboard with priorities")
    _matrix_screenshot(manager)
    # The matrix per statement, on demand: drawn to its full width once
    # opened, each statement a point.
    details = manager.get_by_test_id("item-matrix")
    details.locator("summary").click()
    manager.wait_for_function(
        """() => {
            const svg = document.querySelector(
                '[data-chart="priority_matrix_items"] svg.main-svg');
            return svg && svg.getBoundingClientRect().width > 300;
        }"""
    )
    expect(details.locator("tbody tr")).to_have_count(len(items))
    assert_accessible(manager, "the dashboard with the matrix per statement open")

    # An action from the top row.
    rows.first.get_by_role("link", name=f"Add action for {LABELS[ranked[0]]}").click()
    description = manager.get_by_label("Description")
    expect(description).to_have_value(f"{LABELS[ranked[0]]}: ")
    description.fill(f"{LABELS[ranked[0]]}: call back every claim within a day.")
    manager.get_by_role("button", name="Add action").click()
    expect(manager.get_by_text("Action added.")).to_be_visible()
