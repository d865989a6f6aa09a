"""A staff member, from being added by a manager to a submitted self-assessment."""

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.e2e.helpers import (
    answer,
    assert_accessible,
    checked_values,
    link_in_mail,
    log_in,
    log_out,
)

MANAGER = "morgan@staffjourney.example"
STAFF = "dana.diaz@staffjourney.example"
PASSWORD = "a-long-manager-passphrase"
STAFF_PASSWORD = "dana-chooses-this-passphrase"


def test_a_new_staff_member_sets_a_password_saves_a_draft_resumes_and_submits(
    app, new_page
):
    seeded = app.seed(
        "organization_with_open_study",
        name="Harbour Logistics",
        manager=MANAGER,
        password=PASSWORD,
        study="Spring wave",
    )
    items = seeded["items"]
    half = len(items) // 2
    values = [[6, 5, 7, 6, 4, 5, 7][index % 7] for index in range(len(items))]
    values[3] = None  # "don't know" is an answer too

    # The manager adds the staff member.
    manager = new_page()
    log_in(manager, app, MANAGER, PASSWORD)
    manager.goto(f"{app.url}/staff/add/")
    manager.get_by_label("Email address").fill(STAFF)
    manager.get_by_label("Name").fill("Dana Diaz")
    manager.get_by_label("…or a new department").fill("Support")
    manager.get_by_role("button", name="Add and send the invitation").click()
    expect(manager.get_by_role("status")).to_contain_text(
        f"{STAFF} was invited: they have been sent an email to join."
    )

    # The link in the mail lets them choose a password.
    (mail,) = app.smtp.wait_for(STAFF)
    page = new_page()
    page.goto(link_in_mail(app, mail, r"/accounts/reset/"))
    page.get_by_label("New password*", exact=True).fill(STAFF_PASSWORD)
    page.get_by_label("New password confirmation").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    page.wait_for_url("**/accounts/reset/done/")

    # They log in, see the open study, answer half and save a draft.
    log_in(page, app, STAFF, STAFF_PASSWORD)
    expect(page.get_by_role("heading", name="My self-assessments")).to_be_visible()
    assert_accessible(page, "the staff home")
    page.get_by_role("link", name="Start Spring wave").click()
    expect(page.get_by_text("0 of 25 answered")).to_be_visible()
    assert_accessible(page, "the staff form")
    answer(page, items[:half], values[:half])
    expect(page.get_by_text(f"{half} of 25 answered")).to_be_visible()
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Draft saved: {half} of 25 answered."
    )
    # Back where they were: the last statement answered, in the compact grid.
    expect(page.locator(f"#fs_id_item_{items[half - 1]['id']}")).to_be_in_viewport()
    screenshot(page, "staff-form", viewport=True)

    # Logged out and back in, the draft is there with every answer kept.
    log_out(page, "Dana Diaz")
    log_in(page, app, STAFF, STAFF_PASSWORD)
    row = page.get_by_role("row", name="Spring wave")
    expect(row).to_contain_text(f"Draft saved {half} of 25 answered")
    row.get_by_role("link", name="Continue Spring wave").click()
    expect(page.get_by_text(f"{half} of 25 answered")).to_be_visible()
    assert checked_values(page, items) == values[:half] + ["unanswered"] * (
        len(items) - half
    )

    # Completed and submitted, it is confirmed and can no longer change.
    answer(page, items[half:], values[half:])
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Thank you: your self-assessment is submitted."
    )
    expect(page.get_by_role("button", name="Submit")).to_have_count(0)
    page.get_by_role("link", name="My self-assessments").first.click()
    expect(page.get_by_role("row", name="Spring wave")).to_contain_text("Submitted")
