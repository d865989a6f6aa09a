"""`manage.py generate_study` builds a study of the asked size with bulk inserts."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from surveys.models import (
    Answer,
    Audience,
    Contact,
    Invitation,
    Item,
    Membership,
    Organization,
    Response,
    Study,
    token_hash,
)
from surveys.services.invitations import invitation_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def questionnaire_loaded():
    call_command("loaddata", "default_questionnaire", verbosity=0)


def generate(*args: str) -> str:
    out = StringIO()
    call_command("generate_study", *args, stdout=out)
    return out.getvalue()


def test_it_creates_the_asked_numbers_of_submitted_responses(questionnaire_loaded):
    generate("--customers", "30", "--staff", "7", "--seed", "1")
    study = Study.objects.get()
    items = Item.objects.filter(questionnaire=study.questionnaire).count()
    responses = Response.objects.filter(study=study, status="submitted")
    assert responses.filter(audience=Audience.CUSTOMER).count() == 30
    assert responses.filter(audience=Audience.INTERNAL).count() == 7
    assert Answer.objects.filter(response__study=study).count() == 37 * items
    assert (
        Invitation.objects.filter(study=study, responded_at__isnull=False).count() == 30
    )
    assert study.status == Study.Status.OPEN


def test_every_customer_response_comes_through_its_own_invitation(
    questionnaire_loaded,
):
    generate("--customers", "12", "--staff", "3")
    customer = Response.objects.filter(audience=Audience.CUSTOMER)
    assert customer.filter(invitation__isnull=True).count() == 0
    assert customer.values("invitation").distinct().count() == 12
    assert not Response.objects.filter(
        audience=Audience.INTERNAL, user__isnull=True
    ).exists()


def test_it_makes_departments_segments_staff_and_a_manager(questionnaire_loaded):
    generate("--customers", "10", "--staff", "6", "--organization", "big")
    organization = Organization.objects.get(slug="big")
    assert organization.departments.count() >= 3
    assert organization.segments.count() >= 3
    assert organization.memberships.filter(role="staff").count() == 6
    assert organization.memberships.filter(role="manager").count() == 1
    assert Contact.objects.filter(organization=organization).count() == 10


def test_a_second_run_reuses_the_organization_and_its_people(questionnaire_loaded):
    generate("--customers", "10", "--staff", "4")
    generate("--customers", "10", "--staff", "4")
    assert Organization.objects.count() == 1
    assert Study.objects.count() == 2
    assert Contact.objects.count() == 10
    assert Membership.objects.filter(role="staff").count() == 4
    assert Response.objects.count() == 28


def test_it_writes_tokens_of_unanswered_invitations_that_match_their_hashes(
    questionnaire_loaded, tmp_path
):
    tokens_file = tmp_path / "tokens.txt"
    generate(
        "--customers", "5", "--staff", "2",
        "--unanswered", "4", "--tokens-file", str(tokens_file),
    )  # fmt: skip
    tokens = tokens_file.read_text().split()
    assert len(tokens) == 4
    unanswered = Invitation.objects.filter(responded_at__isnull=True)
    assert sorted(unanswered.values_list("token_hash", flat=True)) == sorted(
        token_hash(token) for token in tokens
    )
    assert not unanswered.filter(sent_at__isnull=True).exists()


def test_unsent_leaves_the_unanswered_invitations_for_the_worker(
    questionnaire_loaded,
):
    generate("--customers", "3", "--staff", "1", "--unanswered", "5", "--unsent")
    pending = Invitation.objects.filter(sent_at__isnull=True)
    assert pending.count() == 5
    assert not pending.filter(responded_at__isnull=False).exists()


def test_the_tokens_are_the_ones_the_app_derives_for_mailing(
    questionnaire_loaded, tmp_path
):
    tokens_file = tmp_path / "tokens.txt"
    generate(
        "--customers", "1", "--staff", "1",
        "--unanswered", "3", "--tokens-file", str(tokens_file),
    )  # fmt: skip
    derived = {
        invitation_token(invitation)
        for invitation in Invitation.objects.filter(responded_at__isnull=True)
    }
    assert derived == set(tokens_file.read_text().split())


def test_answers_are_on_the_scale_with_a_few_dont_knows(questionnaire_loaded):
    generate("--customers", "200", "--staff", "20")
    study = Study.objects.get()
    answers = Answer.objects.filter(response__study=study)
    q = study.questionnaire
    assert not answers.filter(value__lt=q.scale_min).exists()
    assert not answers.filter(value__gt=q.scale_max).exists()
    assert 0 < answers.filter(value__isnull=True).count() < answers.count() * 0.1


def test_it_refuses_to_run_without_the_default_questionnaire():
    with pytest.raises(CommandError, match="loaddata default_questionnaire"):
        generate("--customers", "1", "--staff", "1")


@pytest.fixture
def both_loaded():
    call_command(
        "loaddata", "default_questionnaire", "expectations_questionnaire", verbosity=0
    )


@pytest.mark.parametrize(
    ("mode", "kinds"), [("expectation", {"E", "P"}), ("tolerance", {"A", "D", "P"})]
)
def test_it_generates_every_rating_of_a_mode_with_importance_and_overall(
    both_loaded, mode, kinds
):
    from surveys.models import Allocation

    generate("--customers", "20", "--staff", "6", "--mode", mode, "--seed", "3")
    study = Study.objects.get()
    assert study.questionnaire.mode == mode
    items = study.questionnaire.items.count()
    answers = Answer.objects.filter(response__study=study)
    assert set(answers.values_list("kind", flat=True)) == kinds
    assert answers.count() == 26 * items * len(kinds)
    # Everyone allocated exactly 100 points; customers gave the overall rating.
    for response in Response.objects.filter(study=study):
        points = Allocation.objects.filter(response=response)
        assert sum(points.values_list("points", flat=True)) == 100
    customers = Response.objects.filter(study=study, audience=Audience.CUSTOMER)
    assert not customers.filter(overall_rating__isnull=True).exists()
    staff = Response.objects.filter(study=study, audience=Audience.INTERNAL)
    assert not staff.filter(overall_rating__isnull=False).exists()


def test_the_expectation_mode_on_the_default_items_asks_them_twice(
    questionnaire_loaded,
):
    generate("--customers", "8", "--staff", "2", "--seed", "4")
    generate("--customers", "8", "--staff", "2", "--seed", "4")
    generate(
        "--customers", "8", "--staff", "2", "--seed", "4",
        "--mode", "expectation", "--default-items",
    )  # fmt: skip
    perception, again, expectation = Study.objects.order_by("pk")
    assert expectation.questionnaire.mode == "expectation"
    assert expectation.questionnaire.organization == expectation.organization
    # The perception mode's items, copied once for the organization.
    texts = list(
        perception.questionnaire.items.order_by("position").values_list(
            "gap", "customer_text"
        )
    )
    assert texts == list(
        expectation.questionnaire.items.order_by("position").values_list(
            "gap", "customer_text"
        )
    )
    assert again.questionnaire == perception.questionnaire
    answers = Answer.objects.filter(response__study=expectation)
    assert answers.count() == 2 * Answer.objects.filter(response__study=again).count()
    assert set(answers.values_list("kind", flat=True)) == {"E", "P"}


@pytest.mark.parametrize("mode", ["perception", "tolerance"])
def test_default_items_goes_with_the_expectation_mode_only(questionnaire_loaded, mode):
    with pytest.raises(CommandError, match="--default-items goes with"):
        generate("--customers", "1", "--staff", "1", "--mode", mode, "--default-items")
    assert not Study.objects.exists()


def test_a_perception_study_is_generated_as_before(questionnaire_loaded):
    generate("--customers", "10", "--staff", "3", "--seed", "5")
    study = Study.objects.get()
    kinds = set(
        Answer.objects.filter(response__study=study).values_list("kind", flat=True)
    )
    assert kinds == {"P"}
    assert not study.responses.filter(overall_rating__isnull=False).exists()


def test_the_expectation_mode_needs_its_questionnaire(questionnaire_loaded):
    with pytest.raises(CommandError, match="loaddata expectations_questionnaire"):
        generate("--customers", "1", "--staff", "1", "--mode", "expectation")
