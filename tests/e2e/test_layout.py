"""Layout a newcomer sees: the manager's menu on one row at 1280 px, and on a
375 px phone nothing wider than the screen and no chart title cut off."""

import pytest

from tests.e2e.helpers import log_in
from tests.e2e.test_manager_journey import CUSTOMER_LEVEL, STAFF_LEVEL, chosen

# Long names, as real organizations and people have them.
MANAGER = "lena.longname-smithers@northgate-utilities.example"
PASSWORD = "a-long-layout-passphrase"


@pytest.fixture(scope="module")
def study_id(app) -> int:
    seeded = app.seed(
        "study_with_answers",
        name="Northgate Utilities and Water Services",
        manager=MANAGER,
        password=PASSWORD,
        study="Layout wave",
        min_group_size=5,
        staff=[
            {
                "email": f"staff{r}@layout.example",
                "department": "Front desk",
                "answers": chosen(STAFF_LEVEL, 0, r),
            }
            for r in range(6)
        ],
        customers=[
            {
                "email": f"customer{r}@layout-clients.example",
                "segment": "Retail",
                "answers": chosen(CUSTOMER_LEVEL, 0, r),
            }
            for r in range(6)
        ],
        pending=[],
    )
    return seeded["study_id"]


def test_the_managers_menu_fits_on_one_row_at_1280_px(app, new_page, study_id):
    page = new_page()
    log_in(page, app, MANAGER, PASSWORD)
    for path in ("/studies/", f"/studies/{study_id}/dashboard/"):
        page.goto(f"{app.url}{path}")
        tops = page.evaluate(
            """() => [...document.querySelectorAll('nav[aria-label=Main] .nav-link')]
                .filter((el) => el.offsetParent !== null)
                .map((el) => Math.round(el.getBoundingClientRect().top))"""
        )
        assert len(tops) >= 8, tops
        assert max(tops) - min(tops) <= 4, f"{path}: the menu wraps: {tops}"


def test_nothing_is_clipped_on_a_phone(app, new_page, study_id):
    page = new_page(phone=True)
    log_in(page, app, MANAGER, PASSWORD)
    for path in (
        "/studies/",
        f"/studies/{study_id}/",
        f"/studies/{study_id}/dashboard/",
    ):
        page.goto(f"{app.url}{path}")
        if "dashboard" in path:
            page.wait_for_function(
                """() => [...document.querySelectorAll("[data-chart]")]
                    .every((el) => el.querySelector("svg.main-svg"))"""
            )
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, f"{path}: {overflow}px wider than the screen"
        titles = page.evaluate(
            """() => [...document.querySelectorAll("[data-chart] .gtitle")].map(
                (title) => {
                    const box = title.getBoundingClientRect();
                    const chart = title.closest("[data-chart]").getBoundingClientRect();
                    return [title.textContent, box.left - chart.left,
                            chart.right - box.right];
                })"""
        )
        for text, left, right in titles:
            assert left >= 0 and right >= 0, f"{path}: chart title cut off: {text}"
