"""The anonymized answers of a questionnaire that asks more than the
perception: a row per respondent, a column per item and rating, each cell
released with its own unit of the snapshot."""

import pytest
from django.urls import reverse
from django.utils import timezone

from analysis.exports import ANSWER_HEADER
from surveys.models import Answer, Audience, MeasurementMode, Response, Study
from surveys.services import snapshots
from tests import factories
from tests.analysis.test_exports import csv_rows, xlsx_rows

pytestmark = pytest.mark.django_db


def _respond(study, ratings, *, audience=Audience.CUSTOMER, segment=None):
    """ratings: {kind: [value or None per item]}."""
    response = Response.objects.create(
        study=study,
        audience=audience,
        segment=segment,
        status=Response.Status.SUBMITTED,
        submitted_at=timezone.now(),
    )
    items = list(study.questionnaire.items.order_by("position"))
    Answer.objects.bulk_create(
        Answer(response=response, item=item, kind=kind, value=value)
        for kind, values in ratings.items()
        for item, value in zip(items, values, strict=True)
    )
    Study.objects.filter(pk=study.pk).update(changed_at=timezone.now())


def _study(org, mode=MeasurementMode.EXPECTATION):
    questionnaire = factories.make_questionnaire(items_per_gap=1, mode=mode)
    return factories.make_study(org, questionnaire=questionnaire, min_group_size=3)


def _rows(client, study, fmt="csv", **query):
    url = reverse("export", args=[study.pk, "answers", fmt])
    response = client.get(url, query)
    return (csv_rows if fmt == "csv" else xlsx_rows)(response)


def test_a_rating_that_waits_for_its_group_is_empty_while_its_pair_shows(
    alice_client, org_a
):
    study = _study(org_a)
    for value in (5, 6, 7):
        _respond(study, {"E": [value] * 5, "P": [value - 1] * 5})
    for _ in range(3):
        _respond(study, {"E": [6] * 5, "P": [4] * 5}, audience=Audience.INTERNAL)
    assert snapshots.published(study).seq == 1
    # Three more customers: item 1's expectation answered by two only
    # ("don't know" for the third): fewer than 3 new answers, so it stays
    # at the first snapshot while the perceptions move on.
    _respond(study, {"E": [7, 7, 7, 7, 7], "P": [2] * 5})
    _respond(study, {"E": [7, 7, 7, 7, 7], "P": [2] * 5})
    _respond(study, {"E": [None, 7, 7, 7, 7], "P": [2] * 5})
    published = snapshots.published(study)
    assert published.seq == 2
    header, *body = _rows(alice_client, study)
    assert header[:6] == [*ANSWER_HEADER[:4], "q1_expectation", "q1_perception"]
    later = [row for row in body if row[1] == "customer" and row[5] == "2"]
    assert len(later) == 3
    # q1's expectation is not shown for the second snapshot's customers;
    # their perception and q2's expectation are.
    assert [row[4] for row in later] == ["", "", ""]
    assert [row[6] for row in later] == ["7", "7", "7"]
    first = [row for row in body if row[1] == "customer" and row[5] != "2"]
    assert sorted(row[4] for row in first) == ["5", "6", "7"]
    # The XLSX holds the same cells, numbers as numbers.
    header_x, *body_x = _rows(alice_client, study, "xlsx")
    assert header_x == header
    assert [[("" if c is None else str(c)) for c in row] for row in body_x] == body


def test_the_tolerance_mode_has_minimum_desired_and_perceived_columns(
    alice_client, org_a
):
    study = _study(org_a, MeasurementMode.TOLERANCE)
    for value in (4, 5, 6):
        _respond(study, {"A": [3] * 5, "D": [value + 1] * 5, "P": [value] * 5})
    header, *body = _rows(alice_client, study)
    kinds = [column.split("_", 1)[1] for column in header[4:7]]
    assert sorted(kinds) == ["desired", "minimum", "perception"]
    assert len(body) == 3
    for row in body:
        cells = dict(zip(header, row, strict=True))
        assert cells["q1_minimum"] == "3"
        assert int(cells["q1_desired"]) == int(cells["q1_perception"]) + 1


def test_a_segment_filter_and_hidden_groups_leave_out_their_respondents(
    alice_client, org_a
):
    study = _study(org_a)
    business = factories.make_segment(org_a, "=Business")
    private = factories.make_segment(org_a, "Private")
    other = factories.make_segment(org_a, "Other")
    tiny = factories.make_segment(org_a, "Tiny")
    for value in (4, 5, 6, 7):
        _respond(study, {"E": [value] * 5, "P": [5] * 5}, segment=business)
        _respond(study, {"E": [value] * 5, "P": [3] * 5}, segment=private)
    for value in (4, 5, 6):
        _respond(study, {"E": [value] * 5, "P": [6] * 5}, segment=other)
    _respond(study, {"E": [1] * 5, "P": [1] * 5}, segment=tiny)
    header, *body = _rows(alice_client, study)
    # Tiny (one customer) is hidden, and Other with it (the smallest group
    # left: else the total minus the rest would give Tiny away): nobody of
    # either is in the export.
    assert {row[3] for row in body} == {"'=Business", "Private"}
    assert len(body) == 8
    header, *body = _rows(alice_client, study, segment=private.pk)
    assert {row[3] for row in body} == {"Private"}
    assert {row[5] for row in body} == {"3"}


def test_another_organizations_answers_are_not_found(bob_client, org_a):
    study = _study(org_a)
    response = bob_client.get(reverse("export", args=[study.pk, "answers", "csv"]))
    assert response.status_code == 404
