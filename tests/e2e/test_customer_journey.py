"""Customers, from a manager's CSV import to an answered survey and an opt-out."""

from playwright.sync_api import expect

from tests.e2e.helpers import (
    answer,
    assert_accessible,
    checked_values,
    link_in_mail,
    log_in,
)

MANAGER = "casey@customerjourney.example"
PASSWORD = "a-long-manager-passphrase"
ANN = "ann.archer@shoppers.example"
BEN = "ben.baker@shoppers.example"
CAT = "cat.cole@trade.example"
CONTACTS_CSV = f"""email,name,segment
{ANN},Ann Archer,Retail
{BEN},Ben Baker,Retail
{CAT},Cat Cole,Wholesale
""".encode()
SURVEY_LINK = r"/s/[^/]+/$"
OPT_OUT_LINK = r"/s/[^/]+/opt-out/$"


def test_customers_imported_from_csv_answer_their_mailed_link_and_can_opt_out(
    app, new_page
):
    seeded = app.seed(
        "organization_with_open_study",
        name="Bright Bakeries",
        manager=MANAGER,
        password=PASSWORD,
        study="Autumn wave",
    )
    items, study_id = seeded["items"], seeded["study_id"]
    values = [(3 + position) % 7 + 1 for position in range(len(items))]
    values[7] = None
    missing = 2

    # The manager imports the contacts: a preview first, then the import.
    manager = new_page()
    log_in(manager, app, MANAGER, PASSWORD)  # test_smoke checks the login page
    manager.goto(f"{app.url}/contacts/import/")
    manager.get_by_label("CSV file").set_input_files(
        files=[{"name": "contacts.csv", "mimeType": "text/csv", "buffer": CONTACTS_CSV}]
    )
    manager.get_by_role("button", name="Preview the import").click()
    expect(manager.get_by_test_id("import-summary")).to_contain_text("3 to create")
    preview = manager.get_by_role("table")
    expect(preview.get_by_role("row")).to_have_count(4)
    expect(preview.get_by_role("row", name=CAT)).to_contain_text("Wholesale")
    assert_accessible(manager, "the contacts import preview")
    manager.get_by_role("button", name="Import 3 new and 0 changed contacts").click()
    expect(manager.get_by_role("status")).to_contain_text(
        "Imported: 3 created, 0 updated, 0 unchanged."
    )

    # From the study's page, the manager invites the Retail segment only.
    manager.goto(f"{app.url}/studies/{study_id}/")
    assert_accessible(manager, "the study page")
    manager.get_by_role("link", name="Invitations").click()
    manager.get_by_label("Whom to invite").select_option(label="Retail")
    manager.get_by_role("button", name="Invite").click()
    expect(manager.get_by_role("status")).to_contain_text("Invited 2 contacts.")

    # The worker mails them, each with a personal link and an opt-out link.
    (ann_mail,) = app.smtp.wait_for(ANN)
    (ben_mail,) = app.smtp.wait_for(BEN)
    assert app.smtp.to(CAT) == []
    survey_link = link_in_mail(app, ann_mail, SURVEY_LINK)

    # Ann answers all but one question: the error is shown, the rest is kept.
    customer = new_page()
    customer.goto(survey_link)
    expect(
        customer.get_by_role("heading", name="Bright Bakeries survey")
    ).to_be_visible()
    assert_accessible(customer, "the customer form")
    others = [i for i in range(len(items)) if i != missing]
    answer(customer, [items[i] for i in others], [values[i] for i in others])
    comment = customer.get_by_label("Anything you would like to add? (optional)")
    comment.fill("Friendly staff <b>but</b> slow & late.")
    customer.get_by_role("button", name="Send my answers").click()
    summary = customer.get_by_role("alert")
    expect(summary).to_contain_text(
        "Your answers so far are saved; 1 question still needs an answer"
    )
    expect(summary.get_by_role("link")).to_have_text(
        "Question 3: Please choose an answer or “Don't know”."
    )
    expect(customer.locator(".answer-item-invalid")).to_have_count(1)
    kept = [*values]
    kept[missing] = "unanswered"
    assert checked_values(customer, items) == kept
    expect(comment).to_have_value("Friendly staff <b>but</b> slow & late.")
    assert_accessible(customer, "the customer form with an error")

    # Completed, it is received; a second visit says it was already answered.
    answer(customer, [items[missing]], [values[missing]])
    customer.get_by_role("button", name="Send my answers").click()
    expect(customer.get_by_test_id("thanks")).to_be_visible()
    customer.goto(survey_link)
    expect(customer.get_by_test_id("already-answered")).to_be_visible()

    # Ben opts out with the link in his mail.
    customer.goto(link_in_mail(app, ben_mail, OPT_OUT_LINK))
    customer.get_by_role("button", name="Yes, stop these emails").click()
    expect(customer.get_by_test_id("opted-out")).to_be_visible()

    # The manager sees both: Ann answered, Ben opted out.
    manager.reload()
    expect(manager.get_by_role("row", name=ANN)).to_contain_text("Answered")
    expect(manager.get_by_role("row", name=BEN)).to_contain_text("Opted out")
