"""The response-rate panel: counts per segment from one query, failures, retry."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from surveys.models import Invitation, Study
from surveys.selectors import invitation_counts
from tests import factories
from tests.analysis.conftest import submit


@pytest.fixture
def funnel(study_a, org_a):
    """Retail: 3 invited, 2 sent, 1 opened and answered; no segment: 2, 1 failed."""
    now = timezone.now()
    retail = factories.make_segment(org_a, "Retail")

    def invite(segment=None, **fields):
        contact = factories.make_contact(org_a, segment=segment)
        return factories.make_mailable_invitation(study_a, contact=contact, **fields)[0]

    invite(retail, sent_at=now, opened_at=now, responded_at=now)
    invite(retail, sent_at=now)
    invite(retail)
    invite(sent_at=now)
    failed = invite(failed_at=now, attempts=5, last_error="550 5.1.1 no such user")
    return {"failed": failed}


def test_it_counts_the_funnel_overall_and_per_segment(study_a, funnel):
    counts = invitation_counts(study_a)
    assert counts["overall"] == {
        "segment": None,
        "invited": 5,
        "sent": 3,
        "failed": 1,
        "opened": 1,
        # One answer is fewer than the minimum group size: not shown.
        "answered": None,
        "rate": None,
        "note": "fewer than 5",
    }
    assert [(r["segment"], r["invited"], r["sent"]) for r in counts["segments"]] == [
        ("Retail", 3, 2),
        (None, 2, 1),
    ]
    assert counts["segments"][0]["answered"] is None


def test_answered_is_the_published_count(study_a, org_a):
    """Answers are counted as published: six answers of Retail (at or above
    the minimum of 5) are shown, with their rate; a seventh waits."""
    retail = factories.make_segment(org_a, "Retail")
    item = study_a.questionnaire.items.first()
    now = timezone.now()
    for _ in range(6):
        contact = factories.make_contact(org_a, segment=retail)
        invitation = factories.make_mailable_invitation(
            study_a, contact=contact, sent_at=now
        )[0]
        submit(study_a, "customer", {item: 4}, segment=retail, invitation=invitation)
    counts = invitation_counts(study_a)
    assert counts["overall"]["answered"] == 6
    assert counts["segments"][0]["answered"] == 6
    assert counts["segments"][0]["rate"] == pytest.approx(1.0)
    submit(study_a, "customer", {item: 4}, segment=retail)
    assert invitation_counts(study_a)["overall"]["answered"] == 6


def test_its_queries_do_not_grow_with_segments(study_a, funnel, org_a):
    with CaptureQueriesContext(connection) as queries:
        invitation_counts(study_a)
    before = len(queries)
    for n in range(5):
        segment = factories.make_segment(org_a, f"More {n}")
        contact = factories.make_contact(org_a, segment=segment)
        factories.make_mailable_invitation(study_a, contact=contact)
    with CaptureQueriesContext(connection) as queries:
        invitation_counts(study_a)
    assert len(queries) == before


def test_a_study_without_invitations_has_no_rate(study_a):
    counts = invitation_counts(study_a)
    assert counts["overall"]["invited"] == 0 and counts["overall"]["rate"] is None
    assert counts["segments"] == []


def test_other_studies_do_not_count(study_a, funnel, org_a):
    other = factories.make_study(org_a)
    factories.make_invitation(other, sent_at=timezone.now())
    assert invitation_counts(study_a)["overall"]["invited"] == 5


def test_the_page_shows_counts_failures_and_a_retry_button(
    alice_client, study_a, funnel
):
    page = alice_client.get(reverse("response_rates", args=[study_a.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Retail" in html and "No segment" in html
    assert "550 5.1.1 no such user" in html
    assert reverse("invitation_retry", args=[study_a.pk, funnel["failed"].pk]) in html
    assert "fewer than 5" in html  # one answer is not shown


def test_retry_gives_a_failed_invitation_fresh_attempts_and_sends_it(
    alice_client, study_a, funnel, mail_sink, django_capture_on_commit_callbacks
):
    from surveys.tasks import invitations_send

    url = reverse("invitation_retry", args=[study_a.pk, funnel["failed"].pk])
    with django_capture_on_commit_callbacks() as callbacks:
        response = alice_client.post(url)
    assert response.status_code == 302
    assert len(callbacks) == 1
    invitation = Invitation.objects.get(pk=funnel["failed"].pk)
    assert invitation.failed_at is None and invitation.attempts == 0
    invitations_send.call(study_a.pk)
    invitation.refresh_from_db()
    assert invitation.sent_at is not None
    assert invitation.contact.email in mail_sink.envelopes[-1][1]


def test_retry_of_an_invitation_that_did_not_fail_is_refused(
    alice_client, study_a, org_a
):
    invitation, _ = factories.make_invitation(study_a, sent_at=timezone.now())
    url = reverse("invitation_retry", args=[study_a.pk, invitation.pk])
    response = alice_client.post(url, follow=True)
    assert b"Only a failed invitation" in response.content


def test_retry_of_another_studys_invitation_is_404(alice_client, study_a, org_a):
    other = factories.make_study(org_a)
    invitation, _ = factories.make_invitation(other, failed_at=timezone.now())
    url = reverse("invitation_retry", args=[study_a.pk, invitation.pk])
    assert alice_client.post(url).status_code == 404


def test_rates_permissions(client, bob_client, charlie_client, study_a, funnel):
    url = reverse("response_rates", args=[study_a.pk])
    assert client.get(url).status_code == 302
    assert bob_client.get(url).status_code == 404
    assert charlie_client.get(url).status_code == 404
    retry = reverse("invitation_retry", args=[study_a.pk, funnel["failed"].pk])
    assert bob_client.post(retry).status_code == 404
    assert charlie_client.post(retry).status_code == 404
    assert Invitation.objects.get(pk=funnel["failed"].pk).failed_at is not None


def test_retry_refuses_get(alice_client, study_a, funnel):
    url = reverse("invitation_retry", args=[study_a.pk, funnel["failed"].pk])
    assert alice_client.get(url).status_code == 405


def test_the_panel_counts_a_survey_answered_through_the_link(
    alice_client, client, study_a
):
    from surveys.forms.answers import item_field_name

    _, token = factories.make_invitation(study_a, sent_at=timezone.now())
    data = {item_field_name(i): "4" for i in study_a.questionnaire.items.all()}
    client.post(reverse("survey", args=[token]), data)
    counts = invitation_counts(Study.objects.get(pk=study_a.pk))["overall"]
    # Answered, but one answer is fewer than the minimum group size.
    assert (counts["opened"], counts["answered"], counts["rate"]) == (1, None, None)
