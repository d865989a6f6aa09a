"""Issue 19.2 (and what people see of 19.1 and 19.3): the compact grid on a wide
screen, the stacked layout on a phone, a refused submit that keeps the answers,
"Save and finish later", and the organization's face on the customer pages."""

import io
import re

import pytest
from PIL import Image, ImageDraw, ImageFont
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.e2e.helpers import answer, assert_accessible, checked_values, log_in

MANAGER = "lee@layouts.example"
PASSWORD = "a-long-manager-passphrase"
STAFF = "sam@layouts.example"
STAFF_PASSWORD = "sam-chooses-a-long-passphrase"
WIDE, LATER, PHONE = "wide@c.example", "later@c.example", "phone@c.example"
TITLE = "How did we do this autumn?"
ORGANIZATION = "Northwind Opticians"


@pytest.fixture(scope="module")
def seeded(app):
    return app.seed(
        "customers_invited",
        name=ORGANIZATION,
        manager=MANAGER,
        password=PASSWORD,
        study="Probe wave 1",
        public_title=TITLE,
        emails=[WIDE, LATER, PHONE],
        staff={"email": STAFF, "password": STAFF_PASSWORD},
    )


def logo_png() -> bytes:
    """A small logo: a mark and the organization's name, on transparency."""
    image = Image.new("RGBA", (420, 96), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 12, 80, 84), fill=(20, 70, 110, 255))
    draw.polygon([(44, 22), (70, 72), (18, 72)], fill=(255, 255, 255, 255))
    font = ImageFont.load_default(size=34)
    draw.text((96, 28), ORGANIZATION, font=font, fill=(20, 70, 110, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def statements_in_view(page) -> int:
    """How many statements are wholly visible between the sticky scale header
    (or the top of the window) and the sticky bar."""
    return page.evaluate(
        """() => {
            const header = document.querySelector(".scale-header");
            const bar = document.querySelector(".answer-bar");
            const top = header && header.offsetParent !== null
                ? header.getBoundingClientRect().bottom : 0;
            const bottom = bar.getBoundingClientRect().top;
            return [...document.querySelectorAll("fieldset.answer-item")].filter(
                (el) => { const r = el.getBoundingClientRect();
                          return r.top >= top - 1 && r.bottom <= bottom + 1; }
            ).length;
        }"""
    )


def scroll_to_first_statement(page) -> None:
    page.evaluate(
        """() => { const first = document.querySelector("fieldset.answer-item");
                   const header = document.querySelector(".scale-header");
                   const offset = header && header.offsetParent !== null
                       ? header.offsetHeight : 0;
                   window.scrollTo({top: first.getBoundingClientRect().top
                       + window.scrollY - offset, behavior: "instant"}); }"""
    )


def test_a_manager_gives_the_customer_pages_the_organizations_face(
    app, new_page, seeded
):
    manager = new_page()
    log_in(manager, app, MANAGER, PASSWORD)
    manager.goto(f"{app.url}/organization/")
    manager.get_by_label("Department name").last.fill("Front desk")
    manager.get_by_role("button", name="Add the department").click()
    expect(manager.get_by_role("status")).to_contain_text("“Front desk” added.")
    manager.get_by_label("Segment name").last.fill("Walk-in")
    manager.get_by_role("button", name="Add the segment").click()
    expect(manager.get_by_role("status")).to_contain_text("Segment “Walk-in” added.")
    # Issue 19.7: every button of a row of fields lines up with the inputs.
    misaligned = manager.evaluate(
        """() => [...document.querySelectorAll(".btn-beside-field")].filter((b) => {
            const row = b.closest("[data-department], [data-segment]")
                || b.closest("form");
            const input = row.querySelector("input:not([type=hidden])");
            return Math.abs(b.getBoundingClientRect().top
                            - input.getBoundingClientRect().top) > 1.5;
        }).map((b) => b.textContent.trim())"""
    )
    assert misaligned == []
    assert manager.locator(".btn-beside-field").count() == 6
    manager.get_by_label("Logo (optional)").set_input_files(
        files=[{"name": "logo.png", "mimeType": "image/png", "buffer": logo_png()}]
    )
    manager.get_by_label("Accent colour (optional)").fill("#14466e")
    manager.get_by_role("button", name="Save the look").click()
    expect(manager.get_by_role("status")).to_contain_text("was saved")
    assert_accessible(manager, "the organization page")

    customer = new_page()
    customer.goto(f"{app.url}/s/{seeded['tokens'][WIDE]}/")
    expect(customer.get_by_role("heading", name=TITLE)).to_be_visible()
    logo = customer.get_by_role("img", name=ORGANIZATION)
    expect(logo).to_be_visible()
    assert customer.evaluate("(img) => img.naturalWidth", logo.element_handle()) > 0
    body = customer.locator("body").inner_text()
    assert "GapSurvey" not in body and "Probe wave" not in body
    assert "Probe wave" not in customer.title()


def test_wide_screens_get_the_compact_grid(app, new_page, seeded):
    items = seeded["items"]
    page = new_page(height=800)
    page.goto(f"{app.url}/s/{seeded['tokens'][WIDE]}/")
    header = page.locator(".scale-header")
    expect(header).to_be_visible()
    expect(header).to_contain_text("Strongly disagree")
    expect(header).to_contain_text("Don't know")
    assert_accessible(page, "the customer form as a grid")

    scroll_to_first_statement(page)
    assert statements_in_view(page) >= 8
    # Each statement is one row: its options side by side, "don't know" apart.
    first = items[0]["id"]
    boxes = [
        page.locator(f'input[name="item_{first}"][value="{v}"]').bounding_box()
        for v in ["1", "2", "7", "dk"]
    ]
    assert len({round(b["y"]) for b in boxes}) == 1
    step = boxes[1]["x"] - boxes[0]["x"]
    assert boxes[3]["x"] - boxes[2]["x"] > step * 1.3

    # Far down, the header and the bar are still in view.
    page.evaluate(
        "window.scrollTo({top: document.body.scrollHeight / 2, behavior: 'instant'})"
    )
    assert abs(header.bounding_box()["y"]) < 2
    bar = page.get_by_test_id("answer-bar")
    box = bar.bounding_box()
    assert box["y"] + box["height"] <= 801
    expect(bar.get_by_role("button", name="Send my answers")).to_be_visible()
    expect(bar.get_by_role("button", name="Save and finish later")).to_be_visible()
    expect(bar).to_contain_text("of 25 answered")

    # A refused submit keeps the answers; the link brings them back.
    values = [(i % 7) + 1 for i in range(10)]
    answer(page, items[:10], values)
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Your answers so far are saved; 15 questions still need an answer"
    )
    assert_accessible(page, "the grid after a refused submit")
    again = new_page(height=800)
    again.goto(f"{app.url}/s/{seeded['tokens'][WIDE]}/")
    expect(again.get_by_test_id("continue")).to_contain_text("Welcome back")
    assert checked_values(again, items) == values + ["unanswered"] * 15
    screenshot(again, "customer-form-wide", viewport=True)


def test_save_and_finish_later_returns_to_the_statement(app, new_page, seeded):
    items = seeded["items"]
    page = new_page(height=800)
    page.goto(f"{app.url}/s/{seeded['tokens'][LATER]}/")
    answer(page, items[:12], [3] * 12)
    page.locator(f'input[name="item_{items[11]["id"]}"]').first.focus()
    page.get_by_role("button", name="Save and finish later").click()
    page.wait_for_url(re.compile(rf"\?saved=1#fs_id_item_{items[11]['id']}$"))
    expect(page.get_by_test_id("saved-for-later")).to_be_visible()
    statement = page.locator(f"#fs_id_item_{items[11]['id']}")
    expect(statement).to_be_in_viewport()
    # The keyboard continues from there: the statement has the focus.
    focused = page.evaluate("document.activeElement.closest('fieldset')?.id")
    assert focused == f"fs_id_item_{items[11]['id']}"


def test_a_phone_keeps_the_stacked_layout(app, new_page, seeded):
    items = seeded["items"]
    page = new_page(phone=True)
    page.goto(f"{app.url}/s/{seeded['tokens'][PHONE]}/")
    expect(page.locator(".scale-header")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    first = items[0]["id"]
    one = page.locator(f'input[name="item_{first}"][value="1"]').bounding_box()
    two = page.locator(f'input[name="item_{first}"][value="2"]').bounding_box()
    assert two["y"] > one["y"] + 10  # one option per line
    expect(page.get_by_text("1 – Strongly disagree").first).to_be_visible()
    expect(page.get_by_test_id("answer-bar")).to_be_visible()
    assert_accessible(page, "the customer form on a phone")


def test_staff_get_the_grid_and_a_refused_submit_becomes_the_draft(
    app, new_page, seeded
):
    items = seeded["items"]
    page = new_page(height=800)
    log_in(page, app, STAFF, STAFF_PASSWORD)
    page.goto(f"{app.url}/assessments/{seeded['study_id']}/")
    expect(page.locator(".scale-header")).to_be_visible()
    assert_accessible(page, "the staff form as a grid")
    scroll_to_first_statement(page)
    assert statements_in_view(page) >= 8
    values = [[6, 5, 7, 6, 4, 5, 7][i % 7] for i in range(10)]
    answer(page, items[:10], values)
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Your answers so far are saved; 15 questions still need an answer"
    )
    page.goto(f"{app.url}/")
    page.goto(f"{app.url}/assessments/{seeded['study_id']}/")
    assert checked_values(page, items) == values + ["unanswered"] * 15
    expect(page.get_by_test_id("continue")).to_be_visible()
    page.get_by_test_id("continue").get_by_role("link").click()
    expect(page.locator(f"#fs_id_item_{items[10]['id']}")).to_be_in_viewport()
