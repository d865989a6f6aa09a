"""Exports of an expectation-mode study: the answers carry their rating,
the gap table the perception and knowledge gaps, importance and priority."""

import pytest

from analysis.exports import ANSWER_HEADER, GAP_HEADER, PRIORITY_HEADER
from tests.analysis.test_exports import csv_rows, export_url, xlsx_rows
from tests.analysis.test_priorities_view import CUSTOMERS, _study

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(org_a):
    return _study(org_a)


def test_the_answers_export_has_one_row_per_item_and_rating(alice_client, study):
    header, *body = csv_rows(alice_client.get(export_url(study, "answers", "csv")))
    assert header == [*ANSWER_HEADER, "rating"]
    assert {row[-1] for row in body} == {"E", "P"}
    # 7 respondents × 5 items × 2 ratings
    assert len(body) == 70
    customers = [row for row in body if row[1] == "customer"]
    expectations = sorted(int(row[6]) for row in customers if row[-1] == "E")
    assert expectations == sorted(v for c in CUSTOMERS for v in c[0])


def test_the_gap_table_adds_the_priority_columns_and_a_row_per_area(
    alice_client, study
):
    header, *body = csv_rows(alice_client.get(export_url(study, "gaps", "csv")))
    assert header == [*GAP_HEADER, *PRIORITY_HEADER]
    areas = {row[1]: row for row in body if row[0] == "area"}
    assert set(areas) == {
        "Tangibles",
        "Reliability",
        "Responsiveness",
        "Assurance",
        "Empathy",
    }
    reliability = dict(zip(header, areas["Reliability"], strict=True))
    assert reliability["perception_gap_mean"] == "-2.75"
    assert reliability["importance_customers"] == "47.5"
    assert reliability["priority"] == "1.3062"
    items = [row for row in body if row[0] == "item"]
    assert all(row[len(GAP_HEADER) + 1] != "" for row in items)


def test_the_xlsx_gap_table_keeps_numbers_as_numbers(alice_client, study):
    header, *body = xlsx_rows(alice_client.get(export_url(study, "gaps", "xlsx")))
    row = next(r for r in body if r[0] == "area" and r[1] == "Reliability")
    assert dict(zip(header, row, strict=True))["perception_gap_mean"] == -2.75
