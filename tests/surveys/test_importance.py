"""Importance (100 points over the areas) and the overall rating."""

import pytest
from django.urls import reverse
from django.utils import timezone

from surveys.forms.answers import item_field_name
from surveys.models import Allocation, MeasurementMode, Response
from surveys.services.responses import InvalidAnswers, customer_response_save
from tests import factories

pytestmark = pytest.mark.django_db
AREAS = ["knowledge", "standards", "delivery", "communication", "perception"]


@pytest.fixture
def study(org_a):
    questionnaire = factories.make_questionnaire(
        items_per_gap=1,
        mode=MeasurementMode.EXPECTATION,
        ask_importance=True,
        ask_overall=True,
    )
    return factories.make_study(org_a, questionnaire=questionnaire)


def _path(study):
    _, token = factories.make_invitation(study, sent_at=timezone.now())
    return reverse("survey", args=[token])


def _ratings(study):
    return {
        item_field_name(item, kind): "5"
        for item in study.questionnaire.items.all()
        for kind in ("E", "P")
    }


def _points(*values):
    return {f"points_{a}": str(v) for a, v in zip(AREAS, values, strict=True)}


def test_the_form_offers_the_areas_a_running_total_and_the_overall_rating(
    client, study
):
    page = client.get(_path(study)).content.decode()
    assert "data-importance" in page and "importance.js" in page
    assert "Total: <span data-importance-total>0</span> of 100 points" in page
    assert "100 points still to give" in page
    # Customers see plain words, not the gaps' names.
    assert "Understanding what customers expect" in page
    assert "Overall, how would you rate the service of Acme Services?" in page


def test_a_customer_submits_the_allocation_and_the_overall_rating(client, study):
    data = _ratings(study) | _points(40, 10, 30, 20, 0) | {"overall": "6"}
    assert client.post(_path(study), data).status_code == 302
    response = Response.objects.get(study=study)
    assert response.overall_rating == 6
    assert dict(response.allocations.values_list("area", "points")) == dict(
        zip(AREAS, [40, 10, 30, 20, 0], strict=True)
    )


def test_all_points_on_one_area_are_fine(client, study):
    data = _ratings(study) | _points(100, 0, 0, 0, 0) | {"overall": "dk"}
    assert client.post(_path(study), data).status_code == 302
    assert Response.objects.get(study=study).overall_rating is None


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ((40, 10, 30, 20, 5), "The points add up to 105"),
        ((40, 10, 30, 10, 0), "The points add up to 90"),
        ((-10, 10, 30, 70, 0), "Points are whole numbers from 0 to 100."),
        (("12.5", 10, 30, "47.5", 0), "Points are whole numbers from 0 to 100."),
        (("lots", 10, 30, 60, 0), "Points are whole numbers from 0 to 100."),
    ],
)
def test_a_bad_allocation_is_refused_beside_it_and_kept(client, study, points, message):
    data = _ratings(study) | _points(*points) | {"overall": "6"}
    response = client.post(_path(study), data)
    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    assert 'id="importance-error"' in page
    assert f'value="{points[1]}"' in page
    assert not Response.objects.filter(study=study).exists()


def test_submit_needs_the_allocation_and_the_overall_rating(client, study):
    response = client.post(_path(study), _ratings(study))
    page = response.content.decode()
    assert response.status_code == 400
    assert "Please spread 100 points over these." in page
    assert "Overall rating" in page
    # Only unanswered parts: the ratings are kept as a draft.
    assert Response.objects.get(study=study).status == Response.Status.DRAFT


def test_a_draft_keeps_the_allocation_and_the_overall_rating(client, study):
    path = _path(study)
    data = _points(20, 20, 20, 20, 20) | {"overall": "3", "action": "later"}
    assert client.post(path, data).status_code == 302
    page = client.get(path).content.decode()
    assert 'name="points_delivery" value="20"' in page
    assert 'value="3" checked' in page


def test_staff_allocate_as_they_believe_customers_would(bob_client, bob, study):
    url = reverse("assessment", args=[study.pk])
    page = bob_client.get(url).content.decode()
    assert "How do you believe customers would spread 100" in page
    # The overall rating is the customers' own.
    assert "Overall, how would you rate" not in page
    data = _ratings(study) | _points(10, 20, 30, 40, 0) | {"action": "submit"}
    assert bob_client.post(url, data).status_code == 302
    stored = Allocation.objects.filter(response__user=bob.user)
    assert sum(stored.values_list("points", flat=True)) == 100


def test_the_service_refuses_an_allocation_of_the_wrong_areas(study):
    invitation, _ = factories.make_invitation(study)
    with pytest.raises(InvalidAnswers, match="area that is not in this survey"):
        customer_response_save(
            invitation=invitation,
            answers={},
            allocation={"tangibles": 100},
            submit=False,
        )


def test_the_service_refuses_points_that_do_not_total_100(study):
    invitation, _ = factories.make_invitation(study)
    allocation = dict(zip(AREAS, [50, 50, 1, 0, 0], strict=True))
    with pytest.raises(InvalidAnswers, match="exactly 100"):
        customer_response_save(
            invitation=invitation, answers={}, allocation=allocation, submit=False
        )
    assert not Allocation.objects.exists()


def test_a_questionnaire_without_importance_refuses_points(client, study_a):
    data = {
        item_field_name(item): "4" for item in study_a.questionnaire.items.all()
    } | {"points_knowledge": "100"}
    assert client.post(_path(study_a), data).status_code == 302
    # An unknown field of another kind is ignored by the form, never stored.
    assert not Allocation.objects.exists()
