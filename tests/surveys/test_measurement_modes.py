"""A questionnaire's measurement mode, the expectation wording and the answer
model's one value per (response, item, rating kind)."""

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from surveys.areas import areas
from surveys.models import (
    Allocation,
    Answer,
    Audience,
    MeasurementMode,
    Questionnaire,
    RatingKind,
)
from surveys.services import questionnaires as services
from tests import factories

pytestmark = pytest.mark.django_db


def refused(create) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


@pytest.fixture
def expectations():
    call_command("loaddata", "expectations_questionnaire", verbosity=0)
    return Questionnaire.objects.get(name="Five gaps — expectations")


def test_a_new_questionnaire_measures_perception_only():
    questionnaire = factories.make_questionnaire()
    assert questionnaire.mode == MeasurementMode.PERCEPTION
    assert questionnaire.kinds == ("P",)


def test_the_default_questionnaire_keeps_perception_and_gains_expectation_wordings():
    call_command("loaddata", "default_questionnaire", verbosity=0)
    standard = Questionnaire.objects.get(name="Five gaps — standard")
    assert standard.mode == MeasurementMode.PERCEPTION
    for item in standard.items.all():
        text = item.expectation_text
        assert text.strip() and text != item.customer_text
        assert "excellent" in text.lower()


def test_the_expectations_questionnaire_asks_e_and_p_importance_and_overall(
    expectations,
):
    assert expectations.organization is None
    assert expectations.mode == MeasurementMode.EXPECTATION
    assert expectations.kinds == ("E", "P")
    assert expectations.ask_importance and expectations.ask_overall
    assert services.questionnaire_problems(expectations) == []
    # Every item has a dimension, so importance is spread over the five.
    assert [key for key, _ in areas(expectations.items.all())] == [
        "tangibles",
        "reliability",
        "responsiveness",
        "assurance",
        "empathy",
    ]


def test_areas_are_the_gaps_when_an_item_lacks_a_dimension():
    questionnaire = factories.make_questionnaire(items_per_gap=1)
    assert [key for key, _ in areas(questionnaire.items.all())] == [
        "knowledge",
        "standards",
        "delivery",
        "communication",
        "perception",
    ]


def test_an_answer_holds_one_value_per_rating_kind(study_a):
    response = factories.make_response(study_a)
    item = study_a.questionnaire.items.first()
    Answer.objects.create(response=response, item=item, kind="E", value=6)
    Answer.objects.create(response=response, item=item, kind="P", value=4)
    refused(lambda: Answer.objects.create(response=response, item=item, kind="P"))


def test_the_database_refuses_an_unknown_rating_kind(study_a):
    response = factories.make_response(study_a)
    item = study_a.questionnaire.items.first()
    refused(lambda: Answer.objects.create(response=response, item=item, kind="X"))


def test_an_answer_written_without_a_kind_is_a_perception(study_a):
    # What the migration gives every answer stored before the modes existed.
    response = factories.make_response(study_a)
    item = study_a.questionnaire.items.first()
    table = connection.ops.quote_name(Answer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (response_id, item_id, value) VALUES (%s, %s, 5)",
            [response.pk, item.pk],
        )
    assert Answer.objects.get(response=response).kind == RatingKind.PERCEPTION


def test_allocations_are_one_per_area_and_at_most_100_points(study_a):
    response = factories.make_response(study_a)
    Allocation.objects.create(response=response, area="knowledge", points=60)
    refused(
        lambda: Allocation.objects.create(response=response, area="knowledge", points=1)
    )
    refused(
        lambda: Allocation.objects.create(
            response=response, area="delivery", points=101
        )
    )
    refused(lambda: Allocation.objects.create(response=response, area="nope", points=1))


def test_the_overall_rating_stays_within_the_widest_scale(study_a):
    response = factories.make_response(study_a)
    response.overall_rating = 11
    refused(response.save)


@pytest.fixture
def own(org_a):
    return factories.make_questionnaire(organization=org_a)


def test_a_manager_sets_the_mode_of_an_unfrozen_questionnaire(alice_client, own):
    response = alice_client.post(
        reverse("questionnaire_edit", args=[own.pk]),
        {
            "name": own.name,
            "scale_points": 7,
            "label_min": "Low",
            "label_mid": "Mid",
            "label_max": "High",
            "allow_dont_know": "on",
            "mode": "tolerance",
            "ask_importance": "on",
        },
    )
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.mode == MeasurementMode.TOLERANCE
    assert own.ask_importance and not own.ask_overall


def test_an_unknown_mode_is_refused_beside_the_field(alice_client, own):
    response = alice_client.post(
        reverse("questionnaire_edit", args=[own.pk]),
        {
            "name": own.name,
            "scale_points": 7,
            "label_min": "Low",
            "label_max": "High",
            "mode": "telepathy",
        },
    )
    assert response.status_code == 200
    assert "Choose one of the measurement modes" in response.content.decode()
    own.refresh_from_db()
    assert own.mode == MeasurementMode.PERCEPTION


def _freeze(questionnaire, org):
    study = factories.make_study(org, questionnaire=questionnaire)
    factories.make_response(study, Audience.CUSTOMER)


def test_the_mode_of_a_frozen_questionnaire_cannot_change(alice_client, own, org_a):
    _freeze(own, org_a)
    response = alice_client.post(
        reverse("questionnaire_edit", args=[own.pk]),
        {
            "name": own.name,
            "scale_points": 7,
            "label_min": "Low",
            "label_max": "High",
            "mode": "expectation",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "The measurement mode cannot change" in page
    assert "already has answers" in page
    own.refresh_from_db()
    assert own.mode == MeasurementMode.PERCEPTION


def test_the_service_refuses_a_frozen_mode_change_with_the_reason(alice, own, org_a):
    _freeze(own, org_a)
    with pytest.raises(services.QuestionnaireFrozen, match="mode cannot change"):
        services.questionnaire_update(
            questionnaire=own,
            actor=alice.user,
            name=own.name,
            scale_points=7,
            label_min="Low",
            label_mid="Mid",
            label_max="High",
            allow_dont_know=True,
            mode="expectation",
        )


def test_a_copy_keeps_the_mode_and_wordings_or_takes_a_new_mode(alice, org_a):
    source = factories.make_questionnaire(
        mode=MeasurementMode.EXPECTATION, ask_importance=True
    )
    copy = services.questionnaire_copy(
        questionnaire=source, organization=org_a, actor=alice.user
    )
    assert copy.mode == MeasurementMode.EXPECTATION and copy.ask_importance
    assert [i.expectation_text for i in copy.items.all()] == [
        i.expectation_text for i in source.items.all()
    ]
    other = services.questionnaire_copy(
        questionnaire=source, organization=org_a, actor=alice.user, mode="tolerance"
    )
    assert other.mode == MeasurementMode.TOLERANCE


def test_an_expectation_questionnaire_needs_every_expectation_wording():
    questionnaire = factories.make_questionnaire(mode=MeasurementMode.EXPECTATION)
    questionnaire.items.filter(position=3).update(expectation_text="  ")
    problems = services.questionnaire_problems(questionnaire)
    assert any("Item 3 lacks an expectation wording" in p for p in problems)
