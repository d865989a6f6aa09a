"""Exports of an expectation-mode study: the answers a row per respondent
with a column per item and rating, the importance points and the overall
rating; the gap table the perception and knowledge gaps, importance and
priority."""

import pytest

from analysis.exports import ANSWER_HEADER, GAP_HEADER, PRIORITY_HEADER
from tests.analysis.test_exports import csv_rows, export_url, xlsx_rows
from tests.analysis.test_priorities_view import AREAS, CUSTOMERS, _study

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(org_a):
    return _study(org_a)


def test_the_answers_export_has_a_row_per_respondent_and_a_column_per_rating(
    alice_client, study
):
    header, *body = csv_rows(alice_client.get(export_url(study, "answers", "csv")))
    ratings = [
        f"q{n}_{kind}" for n in range(1, 6) for kind in ("expectation", "perception")
    ]
    assert header == [
        *ANSWER_HEADER[:4],
        *ratings,
        *[f"importance_{area}" for area in AREAS],
        "overall_rating",
    ]
    assert len(body) == 7  # 4 customers, 3 staff
    customers = sorted(
        (
            [int(row[4 + 2 * j]) for j in range(5)],
            [int(row[5 + 2 * j]) for j in range(5)],
            [int(row[14 + j]) for j in range(5)],
            int(row[19]),
        )
        for row in body
        if row[1] == "customer"
    )
    assert customers == sorted(
        (list(e), list(p), list(points), overall) for e, p, points, overall in CUSTOMERS
    )
    staff = [row for row in body if row[1] == "internal"]
    assert len(staff) == 3
    assert all(row[19] == "" for row in staff)  # staff give no overall rating
    assert sorted(row[0] for row in body) == [str(n) for n in range(1, 8)]


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
