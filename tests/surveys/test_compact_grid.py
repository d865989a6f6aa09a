"""Issue 19.2: the form's markup for the compact grid, the sticky bar and a draft
that brings the person back to where they were (the layouts themselves are
checked in the browser, tests/e2e/test_form_layouts.py)."""

import re

import pytest
from django.urls import reverse

from surveys.forms.answers import scale_header
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_header_spans_the_labels_of_a_seven_point_scale(org_a):
    questionnaire = factories.make_questionnaire()
    header = scale_header(questionnaire)
    assert header["points"] == [1, 2, 3, 4, 5, 6, 7]
    spans = [(x["text"], x["column"], x["span"]) for x in header["labels"]]
    assert spans == [
        ("Strongly disagree", 2, 2),
        ("Neither agree nor disagree", 4, 3),
        ("Strongly agree", 7, 2),
    ]


@pytest.mark.parametrize(
    "low, high, expected",
    [
        (1, 5, [(2, 2), (4, 1), (5, 2)]),
        (1, 4, [(2, 2), (4, 2)]),
        (1, 9, [(2, 3), (5, 3), (8, 3)]),
    ],
)
def test_the_header_labels_cover_the_columns_of_other_scales(low, high, expected):
    questionnaire = factories.make_questionnaire(scale_min=low, scale_max=high)
    labels = scale_header(questionnaire)["labels"]
    assert [(x["column"], x["span"]) for x in labels] == expected


def test_the_form_has_a_hidden_scale_header_and_a_bar_with_progress_and_buttons(
    bob_client, study_a
):
    html = bob_client.get(reverse("assessment", args=[study_a.pk])).content.decode()
    assert re.search(r'class="scale-header" aria-hidden="true"', html)
    assert "--scale-points: 7" in html
    bar = html[html.index('data-testid="answer-bar"') :]
    assert bar.index("data-progress-answered") < bar.index('value="draft"')
    assert 'value="submit"' in bar


def test_dont_know_is_marked_apart_and_each_radio_keeps_its_label(bob_client, study_a):
    html = bob_client.get(reverse("assessment", args=[study_a.pk])).content.decode()
    assert html.count("scale-option scale-option-dk") == 10
    assert re.search(
        r'<label class="form-check-label" for="id_item_\d+_0">'
        r'<span class="scale-option-text">1 – Strongly disagree</span></label>',
        html,
    )


def test_each_statement_says_which_item_it_is_for_the_return(bob_client, study_a):
    html = bob_client.get(reverse("assessment", args=[study_a.pk])).content.decode()
    first = study_a.questionnaire.items.first()
    assert f'id="fs_id_item_{first.pk}" tabindex="-1" data-item-id="{first.pk}"' in html
    assert 'name="resume_at"' in html


def test_a_resumed_draft_offers_to_continue_where_the_person_left_off(
    bob, bob_client, study_a
):
    items = list(study_a.questionnaire.items.all())
    bob_client.post(
        reverse("assessment", args=[study_a.pk]),
        {
            "action": "draft",
            "questionnaire_key": f"{study_a.questionnaire.pk}:10",
            f"item_{items[0].pk}": "3",
            f"item_{items[1].pk}": "3",
        },
    )
    html = bob_client.get(reverse("assessment", args=[study_a.pk])).content.decode()
    assert f'href="#fs_id_item_{items[2].pk}"' in html
    assert "8 statements still to answer" in html
    assert 'data-testid="saved-at"' in html


def test_a_customer_reopening_a_draft_is_offered_to_continue(client, study_a):
    invitation, token = factories.make_invitation(study_a)
    first = study_a.questionnaire.items.first()
    client.post(reverse("survey", args=[token]), {f"item_{first.pk}": "2"})
    html = client.get(reverse("survey", args=[token])).content.decode()
    assert "Welcome back" in html
    assert "9 statements still to answer" in html
