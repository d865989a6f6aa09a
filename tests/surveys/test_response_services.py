import pytest

from surveys.models import Answer, Invitation, Response, Study
from surveys.services.responses import (
    AlreadySubmitted,
    InvalidAnswers,
    StudyNotOpen,
    customer_draft_get,
    customer_response_save,
    customer_response_submit,
    staff_response_save,
)
from tests import factories

pytestmark = pytest.mark.django_db


def all_answers(study, value=4):
    return {item.pk: value for item in study.questionnaire.items.all()}


def test_it_rejects_answers_outside_the_questionnaire_scale(study_a, bob):
    answers = all_answers(study_a)
    first = next(iter(answers))
    answers[first] = 8  # the scale is 1..7; the database would accept 8
    with pytest.raises(InvalidAnswers):
        staff_response_save(study=study_a, membership=bob, answers=answers, submit=True)
    assert not Response.objects.exists()
    assert not Answer.objects.exists()


def test_it_rejects_an_item_of_another_questionnaire(study_a, bob):
    stranger = factories.make_questionnaire().items.first()
    with pytest.raises(InvalidAnswers):
        staff_response_save(
            study=study_a, membership=bob, answers={stranger.pk: 3}, submit=False
        )
    assert not Answer.objects.exists()


def test_a_staff_draft_keeps_partial_answers_and_resumes(study_a, bob):
    items = list(study_a.questionnaire.items.all())
    staff_response_save(
        study=study_a, membership=bob, answers={items[0].pk: 5}, submit=False
    )
    response = staff_response_save(
        study=study_a,
        membership=bob,
        answers={items[0].pk: 6, items[1].pk: None},
        submit=False,
    )
    assert response.status == Response.Status.DRAFT
    assert response.department == bob.department
    assert dict(response.answers.values_list("item_id", "value")) == {
        items[0].pk: 6,
        items[1].pk: None,
    }


def test_a_submit_needs_every_item(study_a, bob):
    answers = all_answers(study_a)
    answers.popitem()
    with pytest.raises(InvalidAnswers):
        staff_response_save(study=study_a, membership=bob, answers=answers, submit=True)


def test_a_submitted_self_assessment_cannot_change(study_a, bob):
    staff_response_save(
        study=study_a, membership=bob, answers=all_answers(study_a), submit=True
    )
    with pytest.raises(AlreadySubmitted):
        staff_response_save(
            study=study_a, membership=bob, answers=all_answers(study_a, 1), submit=True
        )
    assert set(Answer.objects.values_list("value", flat=True)) == {4}


def test_nothing_is_saved_once_the_study_is_closed(study_a, bob):
    Study.objects.filter(pk=study_a.pk).update(status=Study.Status.CLOSED)
    with pytest.raises(StudyNotOpen):
        staff_response_save(
            study=study_a, membership=bob, answers=all_answers(study_a), submit=False
        )
    assert not Response.objects.exists()


def test_a_customer_submit_records_the_response_and_marks_the_invitation(study_a):
    segment = factories.make_segment(study_a.organization, "Retail")
    contact = factories.make_contact(study_a.organization, segment=segment)
    invitation, _ = factories.make_invitation(study_a, contact)
    response = customer_response_submit(
        invitation=invitation, answers=all_answers(study_a), comment="Fine."
    )
    invitation.refresh_from_db()
    assert response.segment == segment
    assert response.status == Response.Status.SUBMITTED
    assert invitation.responded_at is not None
    assert response.answers.count() == study_a.questionnaire.items.count()


def test_a_second_customer_submit_is_refused(study_a):
    invitation, _ = factories.make_invitation(study_a)
    customer_response_submit(invitation=invitation, answers=all_answers(study_a))
    with pytest.raises(AlreadySubmitted):
        customer_response_submit(invitation=invitation, answers=all_answers(study_a, 2))
    assert Response.objects.count() == 1
    assert set(Answer.objects.values_list("value", flat=True)) == {4}


def test_the_unique_constraint_refuses_a_response_the_invitation_does_not_show(
    study_a,
):
    """A response exists but the invitation was never marked answered: the
    database's one-response-per-invitation rule refuses the insert, the submit
    says so, and nothing of it is left (no answers, no mark, no change)."""
    invitation, _ = factories.make_invitation(study_a)
    customer_response_submit(invitation=invitation, answers=all_answers(study_a))
    Invitation.objects.filter(pk=invitation.pk).update(responded_at=None)
    invitation.refresh_from_db()
    changed = Study.objects.get(pk=study_a.pk).changed_at

    with pytest.raises(AlreadySubmitted):
        customer_response_submit(invitation=invitation, answers=all_answers(study_a, 2))

    assert Response.objects.count() == 1
    assert set(Answer.objects.values_list("value", flat=True)) == {4}
    assert Invitation.objects.get(pk=invitation.pk).responded_at is None
    assert Study.objects.get(pk=study_a.pk).changed_at == changed


def test_dont_know_is_refused_when_the_questionnaire_does_not_offer_it(org_a, bob):
    questionnaire = factories.make_questionnaire(allow_dont_know=False)
    study = factories.make_study(org_a, questionnaire=questionnaire)
    answers = all_answers(study)
    answers[next(iter(answers))] = None
    with pytest.raises(InvalidAnswers):
        staff_response_save(study=study, membership=bob, answers=answers, submit=True)


# --- Customer drafts (issue 19.1) ---


def test_a_customer_draft_keeps_partial_answers_against_the_invitation(study_a):
    invitation, _ = factories.make_invitation(study_a)
    first, second = list(study_a.questionnaire.items.all())[:2]
    customer_response_save(
        invitation=invitation, answers={first.pk: 2, second.pk: None}, submit=False
    )
    draft = customer_draft_get(invitation)
    assert draft.status == Response.Status.DRAFT
    assert dict(draft.answers.values_list("item_id", "value")) == {
        first.pk: 2,
        second.pk: None,
    }
    invitation.refresh_from_db()
    assert invitation.responded_at is None


def test_a_customer_submit_completes_the_draft_in_place(study_a):
    invitation, _ = factories.make_invitation(study_a)
    first = study_a.questionnaire.items.first()
    draft = customer_response_save(
        invitation=invitation, answers={first.pk: 1}, submit=False
    )
    submitted = customer_response_submit(
        invitation=invitation, answers=all_answers(study_a, 6)
    )
    assert submitted.pk == draft.pk
    assert Response.objects.get().status == Response.Status.SUBMITTED
    assert set(Answer.objects.values_list("value", flat=True)) == {6}
    assert customer_draft_get(invitation) is None


def test_a_customer_draft_does_not_mark_the_study_changed(study_a):
    invitation, _ = factories.make_invitation(study_a)
    changed = Study.objects.get(pk=study_a.pk).changed_at
    customer_response_save(
        invitation=invitation, answers=all_answers(study_a), submit=False
    )
    assert Study.objects.get(pk=study_a.pk).changed_at == changed


def test_a_customer_draft_after_submitting_is_refused(study_a):
    invitation, _ = factories.make_invitation(study_a)
    customer_response_submit(invitation=invitation, answers=all_answers(study_a))
    with pytest.raises(AlreadySubmitted):
        customer_response_save(
            invitation=invitation, answers=all_answers(study_a, 1), submit=False
        )
    assert set(Answer.objects.values_list("value", flat=True)) == {4}


def test_a_customer_draft_of_a_closed_study_is_refused(study_a):
    invitation, _ = factories.make_invitation(study_a)
    Study.objects.filter(pk=study_a.pk).update(status=Study.Status.CLOSED)
    with pytest.raises(StudyNotOpen):
        customer_response_save(
            invitation=invitation, answers=all_answers(study_a), submit=False
        )
    assert not Response.objects.exists()
