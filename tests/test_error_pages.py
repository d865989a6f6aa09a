"""Refusals and missing pages come in the app's own layout and reveal nothing."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_missing_page_is_a_styled_404_that_names_no_model(alice_client, org_b):
    response = alice_client.get("/studies/999999/")
    assert response.status_code == 404
    content = response.content.decode()
    assert "bootstrap.min.css" in content
    assert "Not found" in content
    assert "matches the given query" not in content
    assert "Study" not in content


def test_a_refusal_is_a_styled_403_that_says_why(bob_client):
    response = bob_client.get(reverse("study_list"))
    assert response.status_code == 403
    content = response.content.decode()
    assert "bootstrap.min.css" in content
    assert "This page is for managers." in content


def test_an_unknown_survey_link_is_the_same_plain_404(client):
    response = client.get("/s/not-a-real-token/")
    assert response.status_code == 404
    assert "Not found" in response.content.decode()
