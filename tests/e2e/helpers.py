"""Steps the browser journeys share: logging in and out, answering a
questionnaire, reading links out of mails, and the expected numbers computed
straight from the answers a test chose (the definitions of DESIGN.md)."""

import re
from fractions import Fraction

from tests.e2e.conftest import axe_violations
from tests.smtp_sink import body_text


def log_in(page, app, email: str, password: str) -> None:
    page.goto(f"{app.url}/accounts/login/")
    page.get_by_label("Username").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def log_out(page, shown_as: str) -> None:
    """Log out through the user menu (labelled with the person's name)."""
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("button", name=shown_as).click()
    nav.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")


def assert_accessible(page, what: str) -> None:
    """axe-core finds no serious or critical violation on the page."""
    violations = axe_violations(page)
    assert violations == [], f"accessibility violations on {what}: {violations}"


def radio(page, item: dict, value):
    """The radio of `item` (from seed's `items`) for `value` (None: don't know)."""
    choice = "dk" if value is None else str(value)
    return page.locator(f'input[name="item_{item["id"]}"][value="{choice}"]')


def answer(page, items: list[dict], values: list) -> None:
    """Click the answers `values[i]` for `items[i]`, on their labels as a person
    does (each option's whole box is its label's target)."""
    for item, value in zip(items, values, strict=True):
        choice = "dk" if value is None else str(value)
        page.locator(
            f'.scale-option:has(> input[name="item_{item["id"]}"][value="{choice}"])'
            " > label"
        ).click()
        assert radio(page, item, value).is_checked()


def checked_values(page, items: list[dict]) -> list:
    """The value checked for each item: an int, None for "don't know", or
    "unanswered"."""
    found = page.evaluate(
        """(names) => names.map((name) => {
            const el = document.querySelector(`input[name="${name}"]:checked`);
            return el ? el.value : "unanswered";
        })""",
        [f"item_{item['id']}" for item in items],
    )
    return [
        None if value == "dk" else value if value == "unanswered" else int(value)
        for value in found
    ]


def link_in_mail(app, message, pattern: str) -> str:
    """The app's link in the mail's plain text whose path matches `pattern`."""
    links = re.findall(rf"{re.escape(app.url)}/\S+", body_text(message))
    for link in links:
        if re.search(pattern, link):
            return link
    raise AssertionError(f"no link matching {pattern!r} in:\n{body_text(message)}")


# --- expected numbers, from the answers themselves ---------------------------------


def _mean(values) -> Fraction:
    values = list(values)
    return sum(values, Fraction(0)) / len(values)


def respondent_scores(answers: dict[str, list]) -> dict[str, Fraction]:
    """One respondent's gap scores and overall score from {gap: [values]}: the
    mean of the items they answered ("don't know", None, left out)."""
    scores = {
        gap: _mean(Fraction(v) for v in values if v is not None)
        for gap, values in answers.items()
        if any(v is not None for v in values)
    }
    scores["overall"] = _mean(
        Fraction(v) for values in answers.values() for v in values if v is not None
    )
    return scores


def audience_means(respondents: list[dict[str, list]]) -> dict:
    """{gap or "overall": (mean of the respondents' scores, n)}."""
    scores = [respondent_scores(answers) for answers in respondents]
    result = {}
    for key in dict.fromkeys(k for s in scores for k in s):
        values = [s[key] for s in scores if key in s]
        result[key] = (_mean(values), len(values))
    return result


def in_questionnaire_order(answers: dict[str, list], items: list[dict]) -> list:
    """{gap: [values]} as one value per item (seed's `items`), in order."""
    remaining = {gap: list(values) for gap, values in answers.items()}
    return [remaining[item["gap"]].pop(0) for item in items]


def shown(value: Fraction, signed: bool = False) -> str:
    """A number as the dashboard shows it (2 decimals, − for minus); refuses a
    value that lies exactly on a rounding boundary, where the test's data would
    make the comparison depend on float rounding."""
    assert (value * 100 - Fraction(1, 2)).denominator != 1, f"{value} is on a boundary"
    text = f"{float(value):+.2f}" if signed else f"{float(value):.2f}"
    return text.replace("-", "−")
