"""The exports parse back with the expected rows, suppressed groups left out,
formula-like text neutralized, and every export audited."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from analysis.exports import csv_cell, neutralize
from surveys.models import Audience, AuditEvent
from tests import factories
from tests.analysis.conftest import gap_items, submit

pytestmark = pytest.mark.django_db


def export_url(study, kind: str, fmt: str) -> str:
    return reverse("export", args=[study.pk, kind, fmt])


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def xlsx_rows(response) -> list[list]:
    body = b"".join(response.streaming_content)  # streamed from a temporary file
    sheet = load_workbook(io.BytesIO(body)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        (-0.5, -0.5),
        (None, ""),
    ],
)
def test_neutralize(value, expected):
    assert neutralize(value) == expected


def test_anonymous_visitors_are_sent_to_login(client, hand_study):
    response = client.get(export_url(hand_study, "gaps", "csv"))
    assert response.status_code == 302


def test_staff_and_other_organizations_get_404(bob_client, charlie_client, hand_study):
    assert bob_client.get(export_url(hand_study, "gaps", "csv")).status_code == 404
    assert charlie_client.get(export_url(hand_study, "gaps", "csv")).status_code == 404


def test_an_unknown_kind_or_format_is_404(alice_client, hand_study):
    assert alice_client.get(export_url(hand_study, "names", "csv")).status_code == 404
    assert alice_client.get(export_url(hand_study, "gaps", "pdf")).status_code == 404


def test_the_gap_table_csv_parses_back(alice_client, hand_study):
    response = alice_client.get(export_url(hand_study, "gaps", "csv"))
    assert response["Content-Disposition"].endswith(f'study-{hand_study.pk}-gaps.csv"')
    rows = csv_rows(response)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["level", "gap", "item_position"]
    assert [r[0] for r in body] == ["gap"] * 5 + ["overall"] + ["item"] * 10
    knowledge = dict(zip(header, body[0], strict=True))
    # Rounded to 2 decimals, so that no total can be worked back exactly.
    assert knowledge["staff_mean"] == "5.88"
    assert float(knowledge["delta"]) == pytest.approx(2.475, abs=0.005)
    assert knowledge["staff_alpha"] == "0.77"  # 10 / 13
    standards = dict(zip(header, body[1], strict=True))
    assert standards["staff_mean"] == "not enough answers"  # no one answered it
    assert standards["delta"] == ""


def test_the_gap_table_xlsx_parses_back_with_numbers_as_numbers(
    alice_client, hand_study
):
    response = alice_client.get(export_url(hand_study, "gaps", "xlsx"))
    rows = xlsx_rows(response)
    header = rows[0]
    knowledge = dict(zip(header, rows[1], strict=True))
    assert knowledge["customers_mean"] == pytest.approx(3.4)
    assert isinstance(knowledge["delta"], float)


def test_formula_like_item_text_is_neutralized_in_both_formats(
    alice_client, hand_study
):
    k1, _ = gap_items(hand_study, "knowledge")
    k1.customer_text = '=HYPERLINK("http://evil.example","click")'
    k1.internal_text = "@SUM(1)"
    k1.save()
    header, *body = csv_rows(alice_client.get(export_url(hand_study, "gaps", "csv")))
    item = dict(zip(header, body[6], strict=True))
    assert item["customer_statement"].startswith("'=HYPERLINK")
    assert item["staff_statement"] == "'@SUM(1)"
    rows = xlsx_rows(alice_client.get(export_url(hand_study, "gaps", "xlsx")))
    item = dict(zip(rows[0], rows[7], strict=True))
    assert item["customer_statement"].startswith("'=HYPERLINK")


def test_the_answers_csv_is_anonymized_and_complete(alice_client, hand_study, bob):
    bob_response = hand_study.responses.filter(audience="internal").first()
    bob_response.user = bob.user
    bob_response.save()
    rows = csv_rows(alice_client.get(export_url(hand_study, "answers", "csv")))
    header, body = rows[0], rows[1:]
    assert header == [
        "respondent",
        "audience",
        "department",
        "segment",
        "item",
        "gap",
        "value",
    ]
    assert len(body) == 9 * 2  # 9 respondents × 2 knowledge items
    assert sorted({int(r[0]) for r in body}) == list(range(1, 10))
    text = "\n".join(",".join(r) for r in rows)
    assert "bob@acme.example" not in text
    staff = [r for r in body if r[1] == "internal"]
    assert {r[2] for r in staff} == {"Front desk"} and {r[3] for r in staff} == {""}
    dont_know = [
        r for r in body if r[1:] == ["internal", "Front desk", "", "2", "Knowledge", ""]
    ]
    assert len(dont_know) == 1


def test_the_answers_export_is_in_a_random_order_not_the_order_of_submission(
    alice_client, org_a
):
    """Attack 1: respondents numbered in database order put a newcomer's rows
    at the end. The export is shuffled per snapshot: its first respondents
    are not the first to have submitted."""
    study = factories.make_study(org_a, min_group_size=3)
    first, second = study.questionnaire.items.order_by("position")[:2]
    submitted = []
    for n in range(12):  # a distinct pair of answers per respondent
        pair = (n % 6 + 1, n // 6 + 1)
        submit(study, Audience.CUSTOMER, {first: pair[0], second: pair[1]})
        submitted.append(pair)
    rows = csv_rows(alice_client.get(export_url(study, "answers", "csv")))[1:]
    pairs: dict[int, list] = {}
    for row in rows:
        if row[6]:
            pairs.setdefault(int(row[0]), []).append(int(row[6]))
    exported = [tuple(pairs[n]) for n in sorted(pairs)]
    assert sorted(exported) == sorted(submitted)
    assert exported != submitted
    assert "submitted" not in ",".join(
        csv_rows(alice_client.get(export_url(study, "answers", "csv")))[0]
    )


def test_the_answers_export_leaves_suppressed_groups_out(
    alice_client, hand_study, org_a
):
    """A lone customer of "Tiny" is left out, and so is Retail (5): with only
    Tiny hidden, the gap table's totals minus the exported Retail rows would
    be the lone customer's answers (complementary suppression)."""
    tiny = factories.make_segment(org_a, "Tiny")
    k1, _ = gap_items(hand_study, "knowledge")
    submit(hand_study, Audience.CUSTOMER, {k1: 1}, segment=tiny)
    for fmt, parse in (("csv", csv_rows), ("xlsx", xlsx_rows)):
        rows = parse(alice_client.get(export_url(hand_study, "answers", fmt)))
        assert len(rows) == 1 + 4 * 2  # the four staff only
        assert all(row[1] == "internal" for row in rows[1:])


def test_every_export_is_audited(alice_client, hand_study, alice):
    alice_client.get(export_url(hand_study, "answers", "xlsx"))
    event = AuditEvent.objects.get(action="study_export")
    assert event.actor == alice.user
    assert event.organization == hand_study.organization
    assert event.detail["kind"] == "answers" and event.detail["format"] == "xlsx"


def test_a_large_csv_export_is_streamed_in_blocks_not_lines(alice_client, org_a):
    """One chunk per line made the server's per-chunk work dominate a large
    export; the CSV comes in blocks of about 64 KB."""
    study = factories.make_study(org_a, min_group_size=3)
    items = list(study.questionnaire.items.order_by("position"))
    for n in range(300):
        submit(study, Audience.CUSTOMER, {item: 1 + n % 7 for item in items})
    response = alice_client.get(export_url(study, "answers", "csv"))
    chunks = [chunk for chunk in response.streaming_content]
    body = b"".join(chunks).decode("utf-8-sig")
    assert len(body.splitlines()) == 1 + 300 * len(items)
    assert len(chunks) < 300 * len(items) / 100
    assert all(len(chunk) >= 64 * 1024 for chunk in chunks[:-1])


# --- Issue 14.6: spreadsheet safety in every locale ---


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Ops;=1+1;", '"Ops;\'=1+1;"'),
        ("a,b", '"a,b"'),
        ("a\tb", '"a\tb"'),
        ("Sales, -north", '"Sales, \'-north"'),
        ("Ops;+1", '"Ops;\'+1"'),
        ("x\t@cmd", '"x\t\'@cmd"'),
        ('say "hi"', '"say ""hi"""'),
        ("plain", "plain"),
        ("=1+1", "'=1+1"),
        (2.5, "2.5"),
        (-0.5, "-0.5"),
        (3, "3"),
        (None, ""),
    ],
)
def test_csv_cells_are_quoted_for_every_common_separator(value, expected):
    assert csv_cell(value) == expected


def test_a_department_with_semicolons_gives_no_formula_cell_when_split_on_semicolons(
    alice_client, hand_study
):
    from surveys.models import Department

    Department.objects.filter(organization=hand_study.organization).update(
        name="Ops;=1+1;"
    )
    response = alice_client.get(export_url(hand_study, "answers", "csv"))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    # Read as a spreadsheet in a ";" locale would, quotes respected ...
    for row in csv.reader(io.StringIO(text), delimiter=";"):
        assert not any(cell.lstrip().startswith(("=", "+", "@")) for cell in row)
    # ... and as a naive splitter that ignores quotes.
    for line in text.splitlines():
        for separator in (";", ",", "\t"):
            for cell in line.split(separator):
                assert not cell.strip('"').lstrip().startswith(("=", "+", "@"))
    rows = csv_rows(alice_client.get(export_url(hand_study, "answers", "csv")))
    assert "Ops;'=1+1;" in {row[2] for row in rows}
