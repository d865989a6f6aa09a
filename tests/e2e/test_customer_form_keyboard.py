"""The customer form answered with the keyboard alone: Tab from question to
question, Space and the arrow keys to choose, Enter to send; on a desktop and on
a phone (375×800)."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.e2e.helpers import assert_accessible, checked_values, radio

DESKTOP = "desk@keyboard.example"
PHONE = "phone@keyboard.example"
MAX_TABS = 40


@pytest.fixture(scope="module")
def invited(app):
    return app.seed(
        "customers_invited",
        name="Riverside Clinics",
        manager="kim@keyboard.example",
        password="a-long-manager-passphrase",
        study="Patient survey, autumn",
        emails=[DESKTOP, PHONE],
    )


def _focused(page) -> dict:
    return page.evaluate(
        """() => { const el = document.activeElement;
            return {tag: el.tagName, id: el.id, name: el.name || "",
                    text: (el.textContent || "").trim()}; }"""
    )


def _tab_until(page, wanted) -> dict:
    """Press Tab until the focused element satisfies `wanted` (bounded)."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = _focused(page)
        if wanted(focused):
            return focused
    raise AssertionError(f"not reached with {MAX_TABS} presses of Tab")


def _choose(page, item: dict, value) -> None:
    """With the focus on the item's first option: Space picks it, each
    ArrowRight moves to (and picks) the next one; "don't know" is the last."""
    assert _focused(page)["name"] == f"item_{item['id']}"
    page.keyboard.press("Space")
    for _ in range(7 if value is None else value - 1):
        page.keyboard.press("ArrowRight")
    assert radio(page, item, value).is_checked()


def _answer(page, items, values, skip=None) -> None:
    """From the focused question on, answer each in turn and Tab to the next;
    the question at index `skip` is passed over."""
    for index, (item, value) in enumerate(zip(items, values, strict=True)):
        if index != skip:
            _choose(page, item, value)
        page.keyboard.press("Tab")


def _send(page) -> None:
    _tab_until(page, lambda f: f["text"] == "Send my answers")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _values(items) -> list:
    values = [(index * 3) % 7 + 1 for index in range(len(items))]
    values[10] = None
    return values


def test_the_customer_form_can_be_completed_with_the_keyboard_alone(
    app, new_page, invited
):
    items, values, skipped = invited["items"], _values(invited["items"]), 4
    page = new_page()
    page.goto(f"{app.url}/s/{invited['tokens'][DESKTOP]}/")
    _tab_until(page, lambda f: f["name"] == f"item_{items[0]['id']}")
    _answer(page, items, values, skip=skipped)
    assert _focused(page)["name"] == "comment"
    page.keyboard.type("Typed with the keyboard.")
    _send(page)

    # The refusal puts the focus on the summary; its link leads to the question.
    assert _focused(page)["id"] == "error-summary"
    kept = [*values]
    kept[skipped] = "unanswered"
    assert checked_values(page, items) == kept
    link = _tab_until(page, lambda f: f["tag"] == "A")
    assert link["text"].startswith("Question 5:")
    page.keyboard.press("Enter")
    _choose(page, items[skipped], values[skipped])
    expect(page.get_by_label("Anything you would like to add?")).to_have_value(
        "Typed with the keyboard."
    )
    _send(page)
    expect(page.get_by_test_id("thanks")).to_be_visible()


def test_the_customer_form_works_with_the_keyboard_on_a_phone(app, new_page, invited):
    items, values = invited["items"], _values(invited["items"])
    page = new_page(phone=True)
    page.goto(f"{app.url}/s/{invited['tokens'][PHONE]}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert_accessible(page, "the customer form on a phone")
    _tab_until(page, lambda f: f["name"] == f"item_{items[0]['id']}")
    _answer(page, items[:2], values[:2])
    page.evaluate("window.scrollTo(0, 0)")  # the focus stays where it is
    screenshot(page, "customer-form-phone", height=800)
    _answer(page, items[2:], values[2:])
    assert _focused(page)["name"] == "comment"
    _send(page)
    expect(page.get_by_test_id("thanks")).to_be_visible()
