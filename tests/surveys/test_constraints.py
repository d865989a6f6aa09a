"""The rules that must never break hold at the database, not only in forms."""

import pytest
from django.db import IntegrityError, transaction

from surveys.models import (
    Answer,
    Audience,
    Contact,
    Invitation,
    Questionnaire,
    Response,
    Study,
)
from tests import factories

pytestmark = pytest.mark.django_db


def assert_refused(create) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_it_allows_one_answer_per_response_and_item(study_a):
    response = factories.make_response(study_a)
    item = study_a.questionnaire.items.first()
    Answer.objects.create(response=response, item=item, value=3)
    assert_refused(lambda: Answer.objects.create(response=response, item=item, value=4))


def test_one_answer_per_rating_kind_and_on_postgresql_the_index_holds_the_value(
    study_a, on_postgres
):
    """The unique constraint still refuses a second rating of a kind (a
    second kind is fine), and its index covers the value: what lets the
    analysis read an item's ratings from the index alone (migration 0013)."""
    from django.db import connection

    response = factories.make_response(study_a)
    item = study_a.questionnaire.items.first()
    Answer.objects.create(response=response, item=item, kind="P", value=3)
    Answer.objects.create(response=response, item=item, kind="E", value=5)
    assert_refused(
        lambda: Answer.objects.create(response=response, item=item, kind="E", value=6)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s",
            ["answer_unique_response_item_kind"],
        )
        (definition,) = cursor.fetchone()
    assert "UNIQUE" in definition
    assert definition.endswith("(response_id, item_id, kind) INCLUDE (value)")


def test_it_allows_one_response_per_invitation(study_a):
    invitation, _ = factories.make_invitation(study_a)
    factories.make_response(study_a, invitation=invitation)
    assert_refused(lambda: factories.make_response(study_a, invitation=invitation))


def test_it_allows_one_response_per_staff_member_and_study(study_a, bob):
    factories.make_response(study_a, Audience.INTERNAL, user=bob.user)
    assert_refused(
        lambda: factories.make_response(study_a, Audience.INTERNAL, user=bob.user)
    )


def test_a_staff_member_may_answer_two_studies(org_a, study_a, bob):
    other = factories.make_study(org_a)
    factories.make_response(study_a, Audience.INTERNAL, user=bob.user)
    factories.make_response(other, Audience.INTERNAL, user=bob.user)
    assert Response.objects.filter(user=bob.user).count() == 2


def test_it_allows_one_invitation_per_study_and_contact(study_a):
    contact = factories.make_contact(study_a.organization)
    factories.make_invitation(study_a, contact)
    assert_refused(lambda: factories.make_invitation(study_a, contact))


def test_token_hashes_are_unique(study_a):
    invitation, _ = factories.make_invitation(study_a)
    contact = factories.make_contact(study_a.organization)
    assert_refused(
        lambda: Invitation.objects.create(
            study=study_a, contact=contact, token_hash=invitation.token_hash
        )
    )


def test_contact_email_is_unique_per_organization_ignoring_case(org_a, org_b):
    factories.make_contact(org_a, email="Pat@Example.com")
    assert_refused(lambda: factories.make_contact(org_a, email="pat@example.COM"))
    factories.make_contact(org_b, email="pat@example.com")
    assert Contact.objects.filter(email__iexact="pat@example.com").count() == 2


@pytest.mark.parametrize("value", [0, 11])
def test_answer_values_outside_1_to_10_are_refused_by_the_database(study_a, value):
    response = factories.make_response(study_a)
    item = study_a.questionnaire.items.first()
    assert_refused(
        lambda: Answer.objects.create(response=response, item=item, value=value)
    )


@pytest.mark.parametrize("value", [1, 10, None])
def test_answer_values_1_to_10_and_dont_know_are_stored(study_a, value):
    response = factories.make_response(study_a)
    item = study_a.questionnaire.items.first()
    Answer.objects.create(response=response, item=item, value=value)
    assert Answer.objects.get(response=response).value == value


def test_a_customer_response_cannot_carry_a_user(study_a, bob):
    invitation, _ = factories.make_invitation(study_a)
    assert_refused(
        lambda: factories.make_response(
            study_a, Audience.CUSTOMER, invitation=invitation, user=bob.user
        )
    )


def test_a_staff_response_cannot_carry_an_invitation(study_a, bob):
    invitation, _ = factories.make_invitation(study_a)
    assert_refused(
        lambda: factories.make_response(
            study_a, Audience.INTERNAL, invitation=invitation, user=bob.user
        )
    )


def test_a_submitted_response_has_a_submission_time(study_a):
    assert_refused(
        lambda: factories.make_response(study_a, status=Response.Status.SUBMITTED)
    )


@pytest.mark.parametrize(
    "scale_min,scale_max", [(0, 5), (1, 11), (1, 2), (5, 5)], ids=str
)
def test_a_questionnaire_scale_must_be_3_to_10_points_within_1_to_10(
    scale_min, scale_max
):
    assert_refused(
        lambda: Questionnaire.objects.create(
            name="Bad", scale_min=scale_min, scale_max=scale_max
        )
    )


def test_the_minimum_group_size_is_at_least_3(org_a):
    questionnaire = factories.make_questionnaire()
    assert_refused(
        lambda: Study.objects.create(
            organization=org_a, questionnaire=questionnaire, name="x", min_group_size=2
        )
    )


def test_a_study_cannot_close_before_it_opens(org_a):
    import datetime

    questionnaire = factories.make_questionnaire()
    assert_refused(
        lambda: Study.objects.create(
            organization=org_a,
            questionnaire=questionnaire,
            name="x",
            opens_on=datetime.date(2026, 5, 2),
            closes_on=datetime.date(2026, 5, 1),
        )
    )


def test_an_item_gap_must_be_one_of_the_five(study_a):
    item = study_a.questionnaire.items.first()
    item.gap = "vibes"
    assert_refused(item.save)


def test_department_and_segment_names_are_unique_per_organization(org_a):
    factories.make_department(org_a, "Support")
    assert_refused(lambda: factories.make_department(org_a, "support"))
    factories.make_segment(org_a, "Retail")
    assert_refused(lambda: factories.make_segment(org_a, "RETAIL"))


def test_a_questionnaire_is_frozen_once_a_study_has_responses(study_a):
    questionnaire = study_a.questionnaire
    assert not questionnaire.is_frozen
    factories.make_response(study_a)
    assert questionnaire.is_frozen
