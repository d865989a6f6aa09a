"""The staff self-assessment in the browser: staff home, draft, resume, submit,
read-only afterwards, and bad input that keeps what was entered."""

import re

import pytest
from django.urls import reverse

from surveys.forms.answers import DONT_KNOW
from surveys.models import Answer, Response, Study
from surveys.services.responses import staff_response_save
from tests import factories

pytestmark = pytest.mark.django_db


def url(study) -> str:
    return reverse("assessment", args=[study.pk])


def items(study) -> list:
    return list(study.questionnaire.items.all())


def form_data(study, values: dict | None = None, action: str = "draft", **extra):
    """POST data as the page sends it: {item: value} for the answered items."""
    data = {
        "action": action,
        "questionnaire_key": f"{study.questionnaire.pk}:{len(items(study))}",
        "comment": "",
    }
    for item, value in (values or {}).items():
        data[f"item_{item.pk}"] = value
    data.update(extra)
    return data


def all_values(study, value="5") -> dict:
    return dict.fromkeys(items(study), value)


# --- Staff home ---


def test_staff_home_shows_each_open_study_with_the_persons_own_state(
    bob, bob_client, org_a
):
    fresh = factories.make_study(org_a, name="Fresh study")
    drafted = factories.make_study(org_a, name="Drafted study")
    done = factories.make_study(org_a, name="Done study")
    staff_response_save(
        study=drafted,
        membership=bob,
        answers={i.pk: 3 for i in items(drafted)[:4]},
        submit=False,
    )
    staff_response_save(
        study=done,
        membership=bob,
        answers={i.pk: 3 for i in items(done)},
        submit=True,
    )
    html = bob_client.get(reverse("staff_home")).content.decode()

    def row(study):
        match = re.search(
            rf'data-testid="study-{study.pk}">(.*?)</tr>', html, flags=re.DOTALL
        )
        return " ".join(match.group(1).split())

    assert "Not started" in row(fresh)
    assert "Draft saved" in row(drafted) and "4 of 10 answered" in row(drafted)
    assert "Submitted" in row(done)


def test_staff_home_hides_drafts_closed_studies_not_submitted_and_other_orgs(
    bob, bob_client, org_a, org_b
):
    factories.make_study(org_a, name="Still a draft", status=Study.Status.DRAFT)
    factories.make_study(org_a, name="Closed unanswered", status=Study.Status.CLOSED)
    factories.make_study(org_b, name="Other organization")
    html = bob_client.get(reverse("staff_home")).content.decode()
    assert "Still a draft" not in html
    assert "Closed unanswered" not in html
    assert "Other organization" not in html
    assert "no self-assessment open" in html


def test_staff_home_lists_a_closed_study_the_person_submitted_read_only(
    bob, bob_client, study_a
):
    staff_response_save(
        study=study_a,
        membership=bob,
        answers={i.pk: 2 for i in items(study_a)},
        submit=True,
    )
    Study.objects.filter(pk=study_a.pk).update(status=Study.Status.CLOSED)
    html = bob_client.get(reverse("staff_home")).content.decode()
    assert "Closed" in html and url(study_a) in html


def test_the_nav_shows_staff_their_link_and_managers_theirs(bob_client, alice_client):
    bob_nav = bob_client.get(reverse("staff_home")).content.decode()
    assert "My self-assessments" in bob_nav
    assert reverse("staff_list") not in bob_nav
    alice_nav = alice_client.get(reverse("staff_list")).content.decode()
    assert f'href="{reverse("staff_list")}"' in alice_nav
    assert "My self-assessments" not in alice_nav


# --- The form ---


def test_the_form_groups_items_by_gap_with_the_gap_name_and_explanation(
    bob_client, study_a
):
    html = bob_client.get(url(study_a)).content.decode()
    assert '<h2 class="h4" id="gap-knowledge">Knowledge</h2>' in html
    assert "What we think customers expect, against what they really expect." in html
    assert html.index("gap-knowledge") < html.index("gap-perception")
    # Internal wording, not the customer's.
    assert "We do knowledge thing 1 well." in html
    assert "They do knowledge thing 1 well." not in html


def test_each_item_is_a_fieldset_with_a_legend_and_every_radio_is_labelled(
    bob_client, study_a
):
    html = bob_client.get(url(study_a)).content.decode()
    assert html.count('<fieldset id="fs_id_item_') == 10
    assert html.count('<legend class="answer-legend') == 10
    radio_ids = re.findall(r'<input type="radio"[^>]*id="([^"]+)"', html)
    assert len(radio_ids) == 10 * 8  # seven scale points and "don't know"
    for radio_id in radio_ids:
        assert f'<label class="form-check-label" for="{radio_id}">' in html


def test_the_scale_labels_and_dont_know_are_offered(bob_client, study_a):
    html = bob_client.get(url(study_a)).content.decode()
    assert "1 – Strongly disagree" in html
    assert "4 – Neither agree nor disagree" in html
    assert "7 – Strongly agree" in html
    assert "Don&#x27;t know" in html


def test_dont_know_is_not_offered_when_the_questionnaire_does_not_allow_it(
    bob_client, org_a
):
    study = factories.make_study(
        org_a, questionnaire=factories.make_questionnaire(allow_dont_know=False)
    )
    html = bob_client.get(url(study)).content.decode()
    assert "Don&#x27;t know" not in html
    assert f'value="{DONT_KNOW}"' not in html


def test_the_page_shows_progress_and_loads_its_script_without_inline_code(
    bob, bob_client, study_a
):
    staff_response_save(
        study=study_a,
        membership=bob,
        answers={i.pk: 4 for i in items(study_a)[:3]},
        submit=False,
    )
    html = bob_client.get(url(study_a)).content.decode()
    assert re.search(
        r"<span data-progress-answered>3</span> of <span data-progress-total>10</span>"
        r" answered",
        html,
    )
    assert "js/progress.js" in html
    assert "<script>" not in html
    assert " onclick=" not in html and " onchange=" not in html


def test_the_page_is_ready_for_phone_width(bob_client, study_a):
    html = bob_client.get(url(study_a)).content.decode()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    # The options sit in a grid that stacks them on narrow screens.
    assert 'class="scale-options"' in html
    css = (
        __import__("pathlib").Path(__file__).resolve().parents[2]
        / "static/css/gapsurvey.css"
    ).read_text()
    assert ".scale-options" in css and "grid-template-columns: 1fr;" in css


# --- Draft, resume, submit ---


def test_save_draft_keeps_partial_answers_and_the_form_resumes_them(
    bob, bob_client, study_a
):
    first, second = items(study_a)[:2]
    response = bob_client.post(
        url(study_a),
        form_data(study_a, {first: "6", second: DONT_KNOW}, comment="So far so good"),
    )
    assert response.status_code == 302
    assert response["Location"].startswith(url(study_a) + "#")
    saved = Response.objects.get(study=study_a, user=bob.user)
    assert saved.status == Response.Status.DRAFT
    assert dict(saved.answers.values_list("item_id", "value")) == {
        first.pk: 6,
        second.pk: None,
    }
    page = bob_client.get(url(study_a))
    html = page.content.decode()
    assert re.search(rf'name="item_{first.pk}" id="[^"]+" value="6" checked', html)
    assert re.search(
        rf'name="item_{second.pk}" id="[^"]+" value="{DONT_KNOW}" checked', html
    )
    assert "So far so good" in html
    assert "2</span> of <span data-progress-total>10" in html


def test_the_draft_message_says_how_many_are_answered(bob_client, study_a):
    first = items(study_a)[0]
    page = bob_client.post(url(study_a), form_data(study_a, {first: "2"}), follow=True)
    assert "Draft saved: 1 of 10 answered" in page.content.decode()


def test_submit_with_every_item_answered_shows_a_read_only_confirmation(
    bob, bob_client, study_a
):
    values = all_values(study_a, "5")
    values[items(study_a)[0]] = DONT_KNOW
    response = bob_client.post(
        url(study_a), form_data(study_a, values, action="submit"), follow=True
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="submitted"' in html
    assert '<form method="post" novalidate' not in html
    assert "5</dd>" in html or "5\n" in html or ">5<" in html
    saved = Response.objects.get(study=study_a, user=bob.user)
    assert saved.status == Response.Status.SUBMITTED
    assert saved.answers.count() == 10
    assert saved.department == bob.department


def test_submit_after_a_draft_completes_the_same_response(bob, bob_client, study_a):
    first = items(study_a)[0]
    bob_client.post(url(study_a), form_data(study_a, {first: "1"}))
    bob_client.post(
        url(study_a), form_data(study_a, all_values(study_a, "3"), action="submit")
    )
    assert Response.objects.filter(user=bob.user).count() == 1
    assert set(Answer.objects.values_list("value", flat=True)) == {3}


# --- Bad input ---


def test_submit_with_a_missing_answer_names_it_and_keeps_the_rest_as_a_draft(
    bob_client, study_a
):
    values = all_values(study_a, "6")
    missing = items(study_a)[3]
    del values[missing]
    response = bob_client.post(
        url(study_a), form_data(study_a, values, action="submit", comment="Kept")
    )
    assert response.status_code == 200
    html = response.content.decode()
    # Summarised at the top, with a link to the item...
    assert 'role="alert"' in html
    assert f'href="#id_item_{missing.pk}_0"' in html
    assert "Question 4" in html
    # ...and announced next to it.
    assert f'aria-describedby="id_item_{missing.pk}_error"' in html
    assert f'id="id_item_{missing.pk}_error"' in html
    # Everything entered is still there.
    assert html.count('" checked') == 9
    assert "Kept" in html
    assert Response.objects.get().status == Response.Status.DRAFT


def test_a_value_outside_the_scale_is_refused_and_the_rest_is_kept(bob_client, study_a):
    values = all_values(study_a, "4")
    bad = items(study_a)[0]
    values[bad] = "9"
    response = bob_client.post(url(study_a), form_data(study_a, values))
    html = response.content.decode()
    assert "not a value on this scale" in html
    assert f'href="#id_item_{bad.pk}_0"' in html
    assert html.count('value="4" checked') == 9
    assert not Response.objects.exists()


def test_an_unknown_item_is_refused_with_a_clear_message(bob_client, study_a):
    stranger = factories.make_questionnaire().items.first()
    data = form_data(study_a, {items(study_a)[0]: "4"})
    data[f"item_{stranger.pk}"] = "4"
    response = bob_client.post(url(study_a), data)
    html = response.content.decode()
    assert "not part of this questionnaire" in html
    assert 'value="4" checked' in html
    assert not Response.objects.exists()


def test_a_tampered_hidden_field_is_refused_and_the_answers_kept(bob_client, study_a):
    data = form_data(study_a, {items(study_a)[0]: "2"})
    data["questionnaire_key"] = "999:3"
    response = bob_client.post(url(study_a), data)
    html = response.content.decode()
    assert "changed outside this page" in html
    assert 'value="2" checked' in html
    # The re-rendered page carries the right key, so sending again works.
    assert f'value="{study_a.questionnaire.pk}:10"' in html
    assert not Response.objects.exists()


def test_a_comment_that_is_too_long_is_refused_next_to_it(bob_client, study_a):
    response = bob_client.post(
        url(study_a), form_data(study_a, {items(study_a)[0]: "2"}, comment="x" * 4001)
    )
    html = response.content.decode()
    assert 'href="#id_comment"' in html
    assert "at most 4000" in html
    assert not Response.objects.exists()


def test_a_second_submit_is_refused_and_the_first_one_stands(bob, bob_client, study_a):
    bob_client.post(
        url(study_a), form_data(study_a, all_values(study_a, "5"), action="submit")
    )
    again = bob_client.post(
        url(study_a), form_data(study_a, all_values(study_a, "1"), action="submit")
    )
    assert again.status_code == 409
    assert "already submitted" in again.content.decode()
    assert set(Answer.objects.values_list("value", flat=True)) == {5}


def test_a_submit_racing_one_from_another_tab_shows_the_stored_submission(
    bob, bob_client, study_a, monkeypatch
):
    from surveys.views import staff as staff_views

    staff_response_save(
        study=study_a,
        membership=bob,
        answers={i.pk: 5 for i in items(study_a)},
        submit=True,
    )
    # This request began before the other tab's submit had committed.
    monkeypatch.setattr(staff_views, "staff_response_get", lambda **kw: None)
    response = bob_client.post(
        url(study_a), form_data(study_a, all_values(study_a, "1"), action="submit")
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "already submitted" in html
    assert 'data-testid="submitted"' in html
    assert set(Answer.objects.values_list("value", flat=True)) == {5}


def test_a_draft_save_after_submission_is_refused(bob_client, study_a):
    bob_client.post(
        url(study_a), form_data(study_a, all_values(study_a, "5"), action="submit")
    )
    again = bob_client.post(url(study_a), form_data(study_a, {items(study_a)[0]: "1"}))
    assert again.status_code == 409
    assert set(Answer.objects.values_list("value", flat=True)) == {5}


def test_a_submit_after_closing_is_refused_and_what_was_entered_is_shown(
    bob_client, study_a
):
    page = bob_client.get(url(study_a))
    assert page.status_code == 200
    Study.objects.filter(pk=study_a.pk).update(status=Study.Status.CLOSED)
    values = all_values(study_a, "6")
    response = bob_client.post(
        url(study_a), form_data(study_a, values, action="submit")
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "This study is closed" in html
    assert html.count('value="6" checked') == 10
    assert '<fieldset class="answers-locked" disabled>' in html
    assert "Save draft</button>" not in html
    assert not Response.objects.exists()


def test_a_study_closing_between_validation_and_save_is_refused(
    bob_client, study_a, monkeypatch
):
    from surveys.services import responses

    real = responses.Study.objects.select_for_update

    def closing(*args, **kwargs):
        Study.objects.filter(pk=study_a.pk).update(status=Study.Status.CLOSED)
        return real(*args, **kwargs)

    monkeypatch.setattr(responses.Study.objects, "select_for_update", closing)
    response = bob_client.post(
        url(study_a), form_data(study_a, all_values(study_a), action="submit")
    )
    assert response.status_code == 409
    assert "closed" in response.content.decode()
    assert not Response.objects.exists()


def test_a_closed_study_without_a_submission_shows_read_only(bob, bob_client, study_a):
    staff_response_save(
        study=study_a,
        membership=bob,
        answers={items(study_a)[0].pk: 3},
        submit=False,
    )
    Study.objects.filter(pk=study_a.pk).update(status=Study.Status.CLOSED)
    html = bob_client.get(url(study_a)).content.decode()
    assert 'data-testid="closed"' in html
    assert "Your draft was not submitted" in html
    assert "Save draft" not in html


def test_a_draft_study_is_not_found(bob_client, org_a):
    draft = factories.make_study(org_a, status=Study.Status.DRAFT)
    assert bob_client.get(url(draft)).status_code == 404


# --- Managers never see one person's answers ---


def test_a_manager_cannot_open_the_self_assessment_or_its_answers(
    alice_client, bob, study_a
):
    staff_response_save(
        study=study_a,
        membership=bob,
        answers={i.pk: 7 for i in items(study_a)},
        comment="PRIVATE-NOTE",
        submit=True,
    )
    assert alice_client.get(url(study_a)).status_code == 403
    assert alice_client.get(reverse("staff_home")).status_code == 403
    for page in ("staff_list", "staff_add", "staff_import"):
        assert "PRIVATE-NOTE" not in alice_client.get(reverse(page)).content.decode()


def test_a_staff_member_sees_only_their_own_answers(bob, bob_client, org_a, study_a):
    colleague = factories.make_member(org_a, email="carol@acme.example")
    staff_response_save(
        study=study_a,
        membership=colleague,
        answers={i.pk: 1 for i in items(study_a)},
        comment="CAROLS-NOTE",
        submit=True,
    )
    html = bob_client.get(url(study_a)).content.decode()
    assert "CAROLS-NOTE" not in html
    assert " checked" not in html


def test_the_shared_partial_renders_the_customer_wording_without_gap_jargon(study_a):
    from django.template.loader import render_to_string

    from surveys.forms.answers import AnswersForm
    from surveys.models import Audience

    form = AnswersForm(
        questionnaire=study_a.questionnaire,
        items=items(study_a),
        audience=Audience.CUSTOMER,
    )
    html = render_to_string("surveys/answers_form.html", {"form": form})
    assert "They do knowledge thing 1 well." in html
    assert "We do knowledge thing 1 well." not in html
    assert 'id="gap-knowledge"' not in html
    assert html.count('<fieldset id="fs_id_item_') == 10
    progress = render_to_string("surveys/answers_progress.html", {"form": form})
    assert "0</span> of <span data-progress-total>10" in progress


def test_a_manager_visiting_the_self_assessments_is_told_why_not(alice_client, study_a):
    for page in (reverse("staff_home"), url(study_a)):
        response = alice_client.get(page)
        assert response.status_code == 403
        html = response.content.decode()
        assert "Self-assessments are for staff members" in html
        assert f'href="{reverse("study_list")}"' in html
