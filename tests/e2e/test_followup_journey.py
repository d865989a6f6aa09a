"""Closing the loop in the browser (issue 18): the manager sets the rules, a
customer answers low and agrees to be contacted on a phone, the owner gets the
mail through the real SMTP sink, opens the case from it, logs contact,
resolves, the customer gets the closing note, and the dashboard shows the
response times."""

import re

from playwright.sync_api import expect

from tests.e2e.helpers import answer, assert_accessible, link_in_mail, log_in
from tests.smtp_sink import body_text

MANAGER = "mona@loopshop.example"
PASSWORD = "a-long-manager-passphrase"
OWNER = "olive@loopshop.example"
OWNER_PASSWORD = "a-long-owner-passphrase"
CUSTOMER = "pat.low@shoppers.example"
OTHERS = ["quinn@shoppers.example", "rae@shoppers.example"]
CASE_LINK = r"/cases/\d+/$"


def test_a_low_answer_with_consent_is_followed_up_and_answered_back(app, new_page):
    seeded = app.seed(
        "followup_ready",
        name="Loop Shop",
        manager=MANAGER,
        password=PASSWORD,
        study="Winter wave",
        owner=OWNER,
        owner_password=OWNER_PASSWORD,
        customer=CUSTOMER,
        others=OTHERS,
    )
    study_id, items = seeded["study_id"], seeded["items"]

    # The manager gives the cases to Olive and lets resolved cases mail the
    # customer, on the open study's follow-up rules.
    manager = new_page()
    log_in(manager, app, MANAGER, PASSWORD)
    manager.goto(f"{app.url}/studies/{study_id}/")
    manager.get_by_role("link", name="Follow-up rules").click()
    assert_accessible(manager, "the follow-up rules")
    manager.get_by_label("Owner (when the segment has none of its own)").select_option(
        label="Olive Owner (staff)"
    )
    manager.get_by_label("Due within (hours)").fill("24")
    manager.get_by_label("A resolved case may mail the customer").check()
    manager.get_by_role("button", name="Save the rules").click()
    expect(manager.get_by_test_id("followup-summary")).to_contain_text(
        "due within 24 hours"
    )

    # The customer answers low on a phone and agrees to be contacted.
    customer = new_page(phone=True)
    customer.goto(f"{app.url}/s/{seeded['token']}/")
    consent = customer.get_by_test_id("consent")
    expect(consent).to_contain_text("May we contact you about your answers?")
    box = customer.get_by_label("Yes, you may contact me about my answers.")
    expect(box).not_to_be_checked()
    answer(customer, items, [2] * len(items))
    box.check()
    customer.get_by_label("Email", exact=True).check()
    assert customer.evaluate("document.documentElement.scrollWidth") <= 375
    assert_accessible(customer, "the customer form with the consent on a phone")
    customer.get_by_role("button", name="Send my answers").click()
    expect(customer.get_by_test_id("thanks")).to_be_visible()

    # Olive is mailed; the link takes her, once logged in, to the case.
    (assigned,) = app.smtp.wait_for(OWNER)
    assert CUSTOMER not in body_text(assigned)
    owner = new_page()
    owner.goto(link_in_mail(app, assigned, CASE_LINK))
    owner.get_by_label("Username").fill(OWNER)
    owner.get_by_label("Password").fill(OWNER_PASSWORD)
    owner.get_by_role("button", name="Log in").click()
    owner.wait_for_url(re.compile(CASE_LINK))
    expect(owner.get_by_test_id("case-contact")).to_contain_text(CUSTOMER)
    expect(owner.get_by_test_id("case-answers")).to_be_visible()
    assert_accessible(owner, "the case page")

    status = owner.get_by_test_id("status-form")
    status.get_by_label("What was done").fill("Called Pat; the courier was late.")
    status.get_by_role("button", name="Log contact").click()
    expect(owner.get_by_test_id("case-status")).to_have_text("Contacted")
    status = owner.get_by_test_id("status-form")
    status.get_by_label("What was done").fill("Changed the courier.")
    status.get_by_label("A short note to the customer").fill(
        "Thank you, Pat: we changed our courier after your answers."
    )
    status.get_by_role("button", name="Resolve").click()
    expect(owner.get_by_test_id("case-status")).to_have_text("Resolved")
    expect(owner.get_by_test_id("case-timeline")).to_contain_text("Olive Owner")

    # The customer gets the owner's note.
    closing = app.smtp.wait_for(CUSTOMER, count=2)[-1]
    assert "we changed our courier" in body_text(closing)

    # The dashboard shows the response times of the three cases.
    manager.goto(f"{app.url}/studies/{study_id}/dashboard/")
    panel = manager.get_by_test_id("closed-loop-table")
    row = panel.get_by_role("row", name=re.compile("^All cases"))
    expect(row).to_contain_text("3")
    expect(row).to_contain_text("100% (3 of 3)")
    assert_accessible(manager, "the dashboard with the closed-loop panel")
