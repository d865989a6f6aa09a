"""Issue 19.1: a refused submit loses nothing. Staff: what was answered becomes the
draft. Customers: partial answers are kept against the invitation, the link
continues them, "Save and finish later" keeps them too; a draft is never counted
and goes with the contact."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from surveys.forms.answers import DONT_KNOW, item_field_name
from surveys.models import Answer, Invitation, Response
from surveys.services.invitations import reminders_due
from tests import factories

pytestmark = pytest.mark.django_db


def items(study) -> list:
    return list(study.questionnaire.items.all())


def answers(study, count: int, value: str = "5") -> dict:
    return {item_field_name(item): value for item in items(study)[:count]}


def checked(html: str, item, value: str) -> bool:
    pattern = rf'name="{item_field_name(item)}"[^>]*value="{value}"[^>]*checked'
    return re.search(pattern, html) is not None


@pytest.fixture
def invited(study_a):
    return factories.make_invitation(
        study_a,
        sent_at=timezone.now(),
        contact=factories.make_contact(
            study_a.organization,
            segment=factories.make_segment(study_a.organization, "Retail"),
        ),
    )


# --- Staff ---


def staff_post(client, study, data: dict, action: str):
    data = data | {
        "action": action,
        "questionnaire_key": f"{study.questionnaire.pk}:{len(items(study))}",
    }
    return client.post(reverse("assessment", args=[study.pk]), data)


def test_a_refused_staff_submit_saves_the_answers_as_the_draft(
    bob, bob_client, study_a
):
    page = staff_post(
        bob_client, study_a, answers(study_a, 7) | {"comment": "So far"}, "submit"
    )
    html = page.content.decode()
    assert "Your answers so far are saved; 3 questions still need an answer" in html
    assert "were not saved" not in html
    draft = Response.objects.get(user=bob.user)
    assert draft.status == Response.Status.DRAFT
    assert draft.answers.count() == 7
    assert draft.comment == "So far"


def test_reopening_after_a_refused_staff_submit_shows_the_answers(bob_client, study_a):
    staff_post(bob_client, study_a, answers(study_a, 7, "6"), "submit")
    html = bob_client.get(reverse("assessment", args=[study_a.pk])).content.decode()
    assert all(checked(html, item, "6") for item in items(study_a)[:7])
    home = bob_client.get(reverse("staff_home")).content.decode()
    assert "7 of 10" in home


def test_a_staff_submit_with_a_bad_value_still_saves_nothing(bob_client, study_a):
    data = answers(study_a, 7)
    data[item_field_name(items(study_a)[0])] = "99"
    page = staff_post(bob_client, study_a, data, "submit")
    assert "were not saved" in page.content.decode()
    assert not Response.objects.exists()


def test_a_staff_draft_returns_to_the_question_the_person_was_at(bob_client, study_a):
    at = items(study_a)[4]
    page = staff_post(
        bob_client, study_a, answers(study_a, 5) | {"resume_at": at.pk}, "draft"
    )
    assert page.status_code == 302
    assert page["Location"].endswith(f"#fs_id_item_{at.pk}")


def test_a_staff_draft_without_a_place_returns_to_the_first_unanswered(
    bob_client, study_a
):
    page = staff_post(bob_client, study_a, answers(study_a, 3), "draft")
    assert page["Location"].endswith(f"#fs_id_item_{items(study_a)[3].pk}")


def test_a_forged_place_is_ignored(bob_client, study_a, org_b):
    stranger = factories.make_study(org_b).questionnaire.items.first()
    page = staff_post(
        bob_client,
        study_a,
        answers(study_a, 2) | {"resume_at": f"{stranger.pk}<script>"},
        "draft",
    )
    assert page["Location"].endswith(f"#fs_id_item_{items(study_a)[2].pk}")


# --- Customers ---


def survey_url(token: str) -> str:
    return reverse("survey", args=[token])


def test_a_refused_customer_submit_keeps_the_answers_against_the_invitation(
    client, invited, study_a
):
    invitation, token = invited
    data = answers(study_a, 6) | {
        item_field_name(items(study_a)[6]): DONT_KNOW,
        "comment": "Half done",
    }
    page = client.post(survey_url(token), data)
    assert page.status_code == 400
    html = page.content.decode()
    assert "Your answers so far are saved; 3 questions still need an answer" in html
    draft = Response.objects.get(invitation=invitation)
    assert draft.status == Response.Status.DRAFT
    assert draft.answers.count() == 7
    assert draft.comment == "Half done"
    invitation.refresh_from_db()
    assert invitation.responded_at is None


def test_reopening_the_link_continues_where_the_customer_left_off(
    client, invited, study_a
):
    _, token = invited
    client.post(survey_url(token), answers(study_a, 4, "2") | {"comment": "Later"})
    html = Client().get(survey_url(token)).content.decode()
    assert all(checked(html, item, "2") for item in items(study_a)[:4])
    assert not checked(html, items(study_a)[4], "2")
    assert "Later" in html
    assert "4</span> of <span data-progress-total>10" in html


def test_submitting_after_reopening_completes_the_same_response(
    client, invited, study_a
):
    invitation, token = invited
    client.post(survey_url(token), answers(study_a, 4, "2"))
    done = client.post(survey_url(token), answers(study_a, 10, "6"))
    assert done.status_code == 302
    response = Response.objects.get()
    assert response.status == Response.Status.SUBMITTED
    assert set(Answer.objects.values_list("value", flat=True)) == {6}


def test_save_and_finish_later_keeps_the_answers_and_says_how_to_come_back(
    client, invited, study_a
):
    invitation, token = invited
    at = items(study_a)[2]
    page = client.post(
        survey_url(token),
        answers(study_a, 3) | {"action": "later", "resume_at": str(at.pk)},
    )
    assert page.status_code == 302
    assert page["Location"] == f"{survey_url(token)}?saved=1#fs_id_item_{at.pk}"
    assert Response.objects.get(invitation=invitation).answers.count() == 3
    html = client.get(page["Location"]).content.decode()
    assert "Your answers so far are saved" in html
    assert "the link in your email" in html


def test_save_and_finish_later_sets_no_cookie(invited, study_a):
    _, token = invited
    client = Client(enforce_csrf_checks=True)
    page = client.post(survey_url(token), answers(study_a, 3) | {"action": "later"})
    assert page.status_code == 302
    assert not page.cookies


def test_the_customer_form_offers_save_and_finish_later(client, invited):
    _, token = invited
    html = client.get(survey_url(token)).content.decode()
    assert 'name="action" value="later"' in html
    assert "Save and finish later" in html


def test_a_customer_draft_is_not_counted_as_answered(client, invited, study_a):
    invitation, token = invited
    client.post(survey_url(token), answers(study_a, 9))
    invitation.refresh_from_db()
    assert invitation.responded_at is None
    # The reminder still goes to them: they have not answered.
    later = timezone.now() + timedelta(days=study_a.reminder_interval_days + 1)
    assert invitation in reminders_due(study_a, later)


def test_a_draft_link_of_another_invitation_shows_nothing_of_it(
    client, invited, study_a
):
    _, token = invited
    client.post(survey_url(token), answers(study_a, 4, "2") | {"comment": "Mine"})
    _, other = factories.make_invitation(study_a)
    html = client.get(survey_url(other)).content.decode()
    assert "Mine" not in html
    assert not any(checked(html, item, "2") for item in items(study_a))


def test_erasing_the_contact_erases_the_draft(alice_client, client, invited, study_a):
    invitation, token = invited
    client.post(survey_url(token), answers(study_a, 4) | {"comment": "Call me"})
    alice_client.post(reverse("contact_erase", args=[invitation.contact.pk]))
    assert not Response.objects.exists()
    assert not Answer.objects.exists()
    assert not Invitation.objects.exists()


def test_erasing_keeps_submitted_answers_but_not_drafts(
    alice_client, client, invited, study_a
):
    invitation, token = invited
    client.post(survey_url(token), answers(study_a, 10))
    other, other_token = factories.make_invitation(study_a)
    client.post(survey_url(other_token), answers(study_a, 2))
    alice_client.post(reverse("contact_erase", args=[invitation.contact.pk]))
    alice_client.post(reverse("contact_erase", args=[other.contact.pk]))
    assert list(Response.objects.values_list("status", flat=True)) == ["submitted"]


def test_deleting_the_contact_deletes_the_draft(alice_client, client, invited, study_a):
    invitation, token = invited
    client.post(survey_url(token), answers(study_a, 4))
    alice_client.post(reverse("contact_delete", args=[invitation.contact.pk]))
    assert not Response.objects.exists()
