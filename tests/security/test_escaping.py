"""XSS, header and formula payloads in everything people type come out inert:
escaped in pages and HTML mail, escaped inside the charts' JSON, kept out of
mail headers, and neutralized in spreadsheet exports.

Earlier tests cover single cases (tests/surveys/test_contacts.py::
test_names_are_escaped, tests/analysis/test_dashboard.py::
test_comments_of_large_groups_are_shown_escaped, tests/surveys/test_tasks.py::
test_a_name_with_line_breaks_cannot_inject_headers, …); these sweep the payloads
over every place each kind of text appears.
"""

import csv
import io
import json
import re
from email import message_from_bytes
from email import policy as email_policy

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape
from openpyxl import load_workbook

from surveys.models import Audience, Membership, Role
from surveys.services.invitations import invitations_create
from surveys.tasks import invitations_send
from tests import factories
from tests.analysis.conftest import submit

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
]
NEWLINES = "Eve\r\nBcc: victim@evil.example\nX-Injected: 1"


def assert_inert(html: str, payload: str) -> None:
    assert payload not in html, f"raw payload in the page: {payload}"
    assert escape(payload) in html, f"the escaped payload is not shown: {payload}"


# --- pages ---------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_staff_names_and_departments_are_escaped_on_the_staff_list(
    alice_client, org_a, payload
):
    department = factories.make_department(org_a, f"Dept {payload}")
    user = factories.make_user(first_name=f"Name {payload}")
    Membership.objects.create(
        user=user, organization=org_a, role=Role.STAFF, department=department
    )
    html = alice_client.get(reverse("staff_list")).content.decode()
    assert_inert(html, f"Name {payload}")
    assert_inert(html, f"Dept {payload}")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_contact_names_and_segments_are_escaped_on_the_contacts_list(
    alice_client, org_a, payload
):
    segment = factories.make_segment(org_a, f"Seg {payload}")
    factories.make_contact(org_a, name=f"Pat {payload}", segment=segment)
    html = alice_client.get(reverse("contact_list")).content.decode()
    assert_inert(html, f"Pat {payload}")
    assert_inert(html, f"Seg {payload}")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_csv_cells_are_escaped_in_both_import_previews(alice_client, payload):
    cell = payload.replace('"', '""')
    text = f'email,name,segment\npat@example.com,"Pat {cell}","Seg {cell}"\n'
    upload = SimpleUploadedFile("c.csv", text.encode(), content_type="text/csv")
    html = alice_client.post(reverse("contact_import"), {"file": upload})
    assert_inert(html.content.decode(), f"Pat {payload}")
    assert_inert(html.content.decode(), f"Seg {payload}")
    text = f'email,name,department\nivy@example.com,"Ivy {cell}","Dept {cell}"\n'
    upload = SimpleUploadedFile("s.csv", text.encode(), content_type="text/csv")
    html = alice_client.post(reverse("staff_import"), {"file": upload})
    assert_inert(html.content.decode(), f"Ivy {payload}")
    assert_inert(html.content.decode(), f"Dept {payload}")


@pytest.fixture
def hostile_study(org_a):
    """An open study on a questionnaire whose item texts are payloads, answered
    by groups of three named with payloads, with payload comments."""
    study = factories.make_study(
        org_a,
        name=f"Wave {PAYLOADS[1]}",
        min_group_size=3,
        questionnaire=factories.make_questionnaire(items_per_gap=1),
    )
    items = list(study.questionnaire.items.order_by("position"))
    for n, item in enumerate(items):
        item.customer_text = f"Customer item {n} {PAYLOADS[n % len(PAYLOADS)]}"
        item.internal_text = f"Staff item {n} {PAYLOADS[n % len(PAYLOADS)]}"
        item.save()
    department = factories.make_department(org_a, f"Dept {PAYLOADS[0]}")
    segment = factories.make_segment(org_a, f"Seg {PAYLOADS[1]}")
    for value in (2, 3, 4):
        submit(
            study,
            Audience.INTERNAL,
            dict.fromkeys(items, value + 3),
            department=department,
            comment=f"Staff says {PAYLOADS[2]}",
        )
        submit(
            study,
            Audience.CUSTOMER,
            dict.fromkeys(items, value),
            segment=segment,
            comment=f"Customer says {PAYLOADS[0]}",
        )
    cache.clear()
    return study, items


def _charts(html: str) -> tuple[str, dict]:
    raw = re.search(
        r'<script id="charts" type="application/json">(.*?)</script>', html, re.S
    ).group(1)
    return raw, json.loads(raw)


def test_the_dashboard_escapes_names_items_and_comments(alice_client, hostile_study):
    study, items = hostile_study
    html = alice_client.get(reverse("dashboard", args=[study.pk])).content.decode()
    assert_inert(html, f"Dept {PAYLOADS[0]}")
    assert_inert(html, f"Seg {PAYLOADS[1]}")
    assert_inert(html, f"Customer says {PAYLOADS[0]}")
    assert_inert(html, items[0].customer_text)
    # The only <script> elements are the page's own.
    for tag in re.findall(r"<script[^>]*>", html):
        assert tag.startswith(("<script src=", '<script id="charts"')), tag


def test_chart_json_escapes_the_markup_and_plotly_shows_the_literal_name(
    alice_client, hostile_study
):
    study, _ = hostile_study
    html = alice_client.get(reverse("dashboard", args=[study.pk])).content.decode()
    raw, figures = _charts(html)
    # json_script: no "<" can close the script element early.
    assert "<" not in raw and "\\u003C" in raw
    # Names reach plotly HTML-escaped: plotly renders entities as the literal
    # characters, and never the name as markup (hover text is pseudo-HTML).
    departments = figures["departments"]["data"][0]
    segments = figures["segments"]["data"][0]
    assert departments["y"] == [escape(f"Dept {PAYLOADS[0]}")]
    assert segments["y"] == [escape(f"Seg {PAYLOADS[1]}")]
    hover = json.dumps(departments["hovertext"]) + json.dumps(segments["hovertext"])
    assert "<script" not in hover and "<img" not in hover
    assert escape(f"Dept {PAYLOADS[0]}") in hover


# --- exports ---------------------------------------------------------------------


FORMULAS = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("formula", FORMULAS)
def test_group_names_that_look_like_formulas_are_neutralized_in_exports(
    alice_client, org_a, formula
):
    study = factories.make_study(
        org_a, min_group_size=3, questionnaire=factories.make_questionnaire(1)
    )
    items = list(study.questionnaire.items.all())
    department = factories.make_department(org_a, formula)
    segment = factories.make_segment(org_a, formula + " seg")
    for _ in range(3):
        submit(study, Audience.INTERNAL, dict.fromkeys(items, 5), department=department)
        submit(study, Audience.CUSTOMER, dict.fromkeys(items, 3), segment=segment)
    cache.clear()
    url = reverse("export", args=[study.pk, "answers", "csv"])
    response = alice_client.get(url)
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    # In CSV a formula start after a tab or line break is neutralized too: a
    # spreadsheet splitting on tabs would otherwise start a cell at "=1".
    expected = "'" + formula.replace("\t=", "\t'=").replace("\r=", "\r'=")
    assert {r["department"] for r in rows if r["department"]} == {expected}
    assert {r["segment"] for r in rows if r["segment"]} == {expected + " seg"}
    xlsx = alice_client.get(reverse("export", args=[study.pk, "answers", "xlsx"]))
    header, *cells = load_workbook(
        io.BytesIO(b"".join(xlsx.streaming_content))
    ).active.values
    names = {
        value
        for row in cells
        for column, value in zip(header, row, strict=True)
        if column in ("department", "segment") and value
    }
    # (XML turns the \r of one payload into \n; the apostrophe stays in front.)
    assert len(names) == 2 and all(name.startswith("'") for name in names)


# --- mail ------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_invitation_html_escapes_every_name(mail_sink, org_a, payload):
    org_a.name = f"Acme {payload}"
    org_a.save()
    study = factories.make_study(org_a, name=f"Wave {payload}")
    study.introduction = f"Intro {payload}"
    study.save()
    contact = factories.make_contact(org_a, name=f"Pat {payload}")
    invitations_create(study=study, actor=None)
    assert invitations_send.call(study.pk)["sent"] == 1
    [message] = mail_sink.to(contact.email)
    html = message.get_body(("html",)).get_content()
    assert_inert(html, f"Intro {payload}")
    assert payload not in html
    assert "<script>" not in html and "<img" not in html and "<svg" not in html


def test_newlines_in_organization_study_and_contact_names_stay_out_of_headers(
    mail_sink, org_a
):
    org_a.name = f"Acme {NEWLINES}"
    org_a.save()
    study = factories.make_study(org_a, name=f"Wave {NEWLINES}")
    contact = factories.make_contact(org_a, name=NEWLINES)
    invitations_create(study=study, actor=None)
    assert invitations_send.call(study.pk)["sent"] == 1
    [message] = mail_sink.messages
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert mail_sink.envelopes[0][1] == [contact.email]
    for header in ("Subject", "From", "To"):
        assert "\n" not in str(message[header]) and "\r" not in str(message[header])


def test_newlines_in_an_imported_staff_name_stay_out_of_the_welcome_mail(
    alice_client, org_a, mailoutbox
):
    org_a.name = f"Acme {NEWLINES}"
    org_a.save()
    name = NEWLINES.replace('"', '""')
    text = f'email,name,department\nivy@example.com,"{name}","Dept {PAYLOADS[0]}"\n'
    upload = SimpleUploadedFile("s.csv", text.encode(), content_type="text/csv")
    key = alice_client.post(reverse("staff_import"), {"file": upload}).context["key"]
    alice_client.post(reverse("staff_import_confirm"), {"key": key})
    [mail] = mailoutbox
    parsed = message_from_bytes(mail.message().as_bytes(), policy=email_policy.default)
    assert parsed["Bcc"] is None and parsed["X-Injected"] is None
    assert parsed["To"] == "ivy@example.com"
    assert "\n" not in parsed["Subject"]
    html = mail.alternatives[0][0]
    assert "<script>" not in html
