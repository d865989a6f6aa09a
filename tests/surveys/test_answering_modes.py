"""Answering a questionnaire that asks two or three ratings per statement:
the customer and staff forms, drafts, and the bad input the issue lists."""

import pytest
from django.urls import reverse
from django.utils import timezone

from surveys.forms.answers import DONT_KNOW, item_field_name
from surveys.models import Answer, Audience, MeasurementMode, Response
from surveys.services.responses import (
    InvalidAnswers,
    customer_response_save,
    staff_response_save,
)
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def expect_study(org_a):
    questionnaire = factories.make_questionnaire(
        items_per_gap=1, mode=MeasurementMode.EXPECTATION
    )
    return factories.make_study(org_a, questionnaire=questionnaire)


@pytest.fixture
def tolerance_study(org_a):
    questionnaire = factories.make_questionnaire(
        items_per_gap=1, mode=MeasurementMode.TOLERANCE
    )
    return factories.make_study(org_a, questionnaire=questionnaire)


def _link(study):
    invitation, token = factories.make_invitation(study, sent_at=timezone.now())
    return invitation, reverse("survey", args=[token])


def _all(study, kinds, value="5"):
    return {
        item_field_name(item, kind): value
        for item in study.questionnaire.items.all()
        for kind in kinds
    }


def _stored(study):
    return sorted(
        Answer.objects.filter(response__study=study).values_list(
            "item__position", "kind", "value"
        )
    )


def test_the_customer_form_shows_both_ratings_with_the_expectation_wording(
    client, expect_study
):
    _, path = _link(expect_study)
    page = client.get(path).content.decode()
    item = expect_study.questionnaire.items.first()
    assert f'name="{item_field_name(item, "E")}"' in page
    assert f'name="{item_field_name(item)}"' in page
    assert "An excellent company" in page and "This company" in page
    assert item.expectation_text in page
    assert 'class="ratings" style="--ratings: 2"' in page


def test_a_customer_submits_expectation_and_perception(client, expect_study):
    invitation, path = _link(expect_study)
    data = _all(expect_study, ["P"], "3") | _all(expect_study, ["E"], "6")
    response = client.post(path, data)
    assert response.status_code == 302
    stored = _stored(expect_study)
    assert len(stored) == 10
    assert {(kind, value) for _, kind, value in stored} == {("E", 6), ("P", 3)}


def test_dont_know_is_per_rating(client, expect_study):
    _, path = _link(expect_study)
    data = _all(expect_study, ["P"], "4") | _all(expect_study, ["E"], "6")
    first = expect_study.questionnaire.items.first()
    data[item_field_name(first, "E")] = DONT_KNOW
    assert client.post(path, data).status_code == 302
    answers = dict(
        ((a.item_id, a.kind), a.value)
        for a in Answer.objects.filter(response__study=expect_study)
    )
    assert answers[(first.pk, "E")] is None
    assert answers[(first.pk, "P")] == 4


def test_a_missing_expectation_on_submit_is_named_and_the_rest_kept_as_draft(
    client, expect_study
):
    _, path = _link(expect_study)
    data = _all(expect_study, ["P"], "4") | _all(expect_study, ["E"], "6")
    first = expect_study.questionnaire.items.first()
    del data[item_field_name(first, "E")]
    response = client.post(path, data | {"action": "submit"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Question 1 (An excellent company)" in page
    draft = Response.objects.get(study=expect_study)
    assert draft.status == Response.Status.DRAFT
    assert draft.answers.count() == 9


def test_an_expectation_without_its_perception_is_refused_and_nothing_saved(
    client, expect_study
):
    _, path = _link(expect_study)
    first = expect_study.questionnaire.items.first()
    name = item_field_name(first, "E")
    response = client.post(path, {name: "6", "action": "later"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "please also rate “This company”" in page
    # Beside the perception rating, and what was typed is kept.
    assert f'id="id_{item_field_name(first)}_error"' in page
    assert f'id="id_{name}_5" value="6" checked' in page
    assert not Response.objects.filter(study=expect_study).exists()


def test_a_rating_the_mode_does_not_have_is_refused_beside_its_statement(
    client, expect_study
):
    _, path = _link(expect_study)
    first = expect_study.questionnaire.items.first()
    data = _all(expect_study, ["P", "E"]) | {item_field_name(first, "A"): "2"}
    response = client.post(path, data)
    page = response.content.decode()
    assert response.status_code == 400
    assert "does not ask for that rating" in page
    assert f'id="id_{item_field_name(first)}_error"' in page
    assert not Response.objects.filter(study=expect_study).exists()


def test_a_perception_questionnaire_refuses_an_expectation_rating(client, study_a):
    _, path = _link(study_a)
    first = study_a.questionnaire.items.first()
    data = _all(study_a, ["P"]) | {item_field_name(first, "E"): "2"}
    response = client.post(path, data)
    assert response.status_code == 400
    assert "does not ask for that rating" in response.content.decode()
    assert not Response.objects.filter(study=study_a).exists()


@pytest.mark.parametrize("name", ["item_1x_E", "item_99999_E", "item_5_Z"])
def test_tampered_rating_names_are_refused(client, expect_study, name):
    _, path = _link(expect_study)
    data = _all(expect_study, ["P", "E"]) | {name: "3"}
    response = client.post(path, data)
    assert response.status_code == 400
    assert not Response.objects.filter(study=expect_study).exists()


def test_the_tolerance_form_asks_three_ratings(client, tolerance_study):
    invitation, path = _link(tolerance_study)
    page = client.get(path).content.decode()
    assert "The minimum I would accept" in page
    assert "The service I want" in page and "The service I get" in page
    data = (
        _all(tolerance_study, ["A"], "3")
        | _all(tolerance_study, ["D"], "6")
        | _all(tolerance_study, ["P"], "5")
    )
    assert client.post(path, data).status_code == 302
    assert len(_stored(tolerance_study)) == 15


def test_staff_save_a_draft_of_both_ratings_and_resume_it(
    bob_client, bob, expect_study
):
    url = reverse("assessment", args=[expect_study.pk])
    first = expect_study.questionnaire.items.first()
    page = bob_client.get(url).content.decode()
    assert "What customers expect of an excellent company (your estimate)" in page
    data = {item_field_name(first, "E"): "7", item_field_name(first): "5"}
    assert bob_client.post(url, data | {"action": "save"}).status_code == 302
    page = bob_client.get(url).content.decode()
    assert f'id="id_{item_field_name(first, "E")}_6" value="7" checked' in page
    assert f'id="id_{item_field_name(first)}_4" value="5" checked' in page
    data = _all(expect_study, ["P", "E"], "4")
    response = bob_client.post(url, data | {"action": "submit"})
    assert response.status_code == 302
    stored = Response.objects.get(study=expect_study, user=bob.user)
    assert stored.status == Response.Status.SUBMITTED
    assert stored.answers.filter(kind="E").count() == 5


def test_the_service_refuses_an_expectation_without_perception(expect_study):
    invitation, _ = factories.make_invitation(expect_study)
    first = expect_study.questionnaire.items.first()
    with pytest.raises(InvalidAnswers, match="perception rating too"):
        customer_response_save(
            invitation=invitation, answers={(first.pk, "E"): 5}, submit=False
        )
    assert not Response.objects.exists()


def test_the_service_refuses_a_kind_the_mode_does_not_have(expect_study, bob):
    first = expect_study.questionnaire.items.first()
    with pytest.raises(InvalidAnswers, match="does not ask for"):
        staff_response_save(
            study=expect_study,
            membership=bob,
            answers={first.pk: 4, (first.pk, "D"): 5},
            submit=False,
        )
    assert not Response.objects.filter(audience=Audience.INTERNAL).exists()
