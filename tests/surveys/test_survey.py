"""The customer's survey and opt-out pages, reached from the emailed link."""

import re
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from surveys.forms.answers import DONT_KNOW, item_field_name
from surveys.models import Answer, Contact, Invitation, Response, Study
from surveys.services.invitations import invitations_create
from surveys.tasks import invitations_send
from tests import factories
from tests.smtp_sink import body_text

LINK_RE = re.compile(r"http://[^/\s]+(/s/[A-Za-z0-9_-]{43}/)")


def _full_answers(study, value="5"):
    return {
        item_field_name(item): value for item in study.questionnaire.items.all()
    } | {"comment": "Friendly people."}


@pytest.fixture
def invited(study_a):
    invitation, token = factories.make_invitation(
        study_a,
        sent_at=timezone.now(),
        contact=factories.make_contact(
            study_a.organization,
            segment=factories.make_segment(study_a.organization, "Retail"),
        ),
    )
    return invitation, token


def test_mailed_link_to_stored_response_end_to_end(mail_sink, study_a, client):
    contact = factories.make_contact(study_a.organization, email="pat@example.com")
    invitations_create(study=study_a, actor=None)
    invitations_send.call(study_a.pk)
    [message] = mail_sink.wait_for("pat@example.com")
    path = LINK_RE.search(body_text(message)).group(1)

    page = client.get(path)
    assert page.status_code == 200
    response = client.post(path, _full_answers(study_a))
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200

    stored = Response.objects.get(invitation__contact=contact)
    assert stored.status == Response.Status.SUBMITTED
    assert stored.comment == "Friendly people."
    assert stored.answers.count() == study_a.questionnaire.items.count()
    assert Invitation.objects.get(contact=contact).responded_at is not None


def test_the_page_shows_customer_wording_and_no_gap_names(client, invited, study_a):
    _, token = invited
    study_a.introduction = "Tell us how we did."
    study_a.save()
    page = client.get(reverse("survey", args=[token])).content.decode()
    assert "Tell us how we did." in page
    assert "They do perception thing 1 well." in page
    assert "We do perception thing 1 well." not in page
    for gap in ("Knowledge", "Standards", "Delivery", "Communication", "Perception"):
        assert f">{gap}<" not in page


def test_the_first_visit_records_opened_and_later_ones_keep_it(client, invited):
    invitation, token = invited
    client.get(reverse("survey", args=[token]))
    invitation.refresh_from_db()
    first = invitation.opened_at
    assert first is not None
    client.get(reverse("survey", args=[token]))
    invitation.refresh_from_db()
    assert invitation.opened_at == first


def test_answering_needs_no_login_and_sets_no_cookie(invited, study_a):
    _, token = invited
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("survey", args=[token]))
    assert not page.cookies
    response = client.post(reverse("survey", args=[token]), _full_answers(study_a))
    assert response.status_code == 302
    assert not response.cookies


def test_missing_answers_come_back_with_everything_kept(client, invited, study_a):
    _, token = invited
    items = list(study_a.questionnaire.items.all())
    data = {item_field_name(items[0]): "6", item_field_name(items[1]): DONT_KNOW}
    data["comment"] = "Half done"
    page = client.post(reverse("survey", args=[token]), data)
    assert page.status_code == 400
    html = page.content.decode()
    assert re.search(
        rf'name="{item_field_name(items[0])}"[^>]*value="6"[^>]*checked', html
    )
    assert "Half done" in html
    assert Response.objects.get().status == Response.Status.DRAFT


def test_an_out_of_scale_value_is_refused_and_nothing_is_written(
    client, invited, study_a
):
    _, token = invited
    data = _full_answers(study_a)
    first = study_a.questionnaire.items.first()
    data[item_field_name(first)] = "99"
    page = client.post(reverse("survey", args=[token]), data)
    assert page.status_code == 400
    assert not Response.objects.exists() and not Answer.objects.exists()


def test_an_unknown_item_is_refused(client, invited, study_a):
    _, token = invited
    data = _full_answers(study_a) | {"item_999999": "3"}
    page = client.post(reverse("survey", args=[token]), data)
    assert page.status_code == 400
    assert not Response.objects.exists()


def test_a_double_submit_keeps_one_response_and_says_already_answered(
    client, invited, study_a
):
    _, token = invited
    client.post(reverse("survey", args=[token]), _full_answers(study_a, "3"))
    again = client.post(reverse("survey", args=[token]), _full_answers(study_a, "7"))
    assert again.status_code == 200
    assert b"already been answered" in again.content
    assert Response.objects.count() == 1
    assert set(Answer.objects.values_list("value", flat=True)) == {3}


def test_a_second_visit_says_it_was_already_answered(client, invited, study_a):
    _, token = invited
    client.post(reverse("survey", args=[token]), _full_answers(study_a))
    page = client.get(reverse("survey", args=[token]))
    assert b"already been answered" in page.content
    assert b"<form" not in page.content


def test_the_response_keeps_the_segment_of_the_contact(client, invited, study_a):
    invitation, token = invited
    client.post(reverse("survey", args=[token]), _full_answers(study_a))
    assert Response.objects.get().segment.name == "Retail"


@pytest.mark.parametrize(
    "status, text",
    [(Study.Status.CLOSED, b"is closed"), (Study.Status.DRAFT, b"not open yet")],
)
def test_a_closed_or_draft_study_says_so_and_takes_no_answers(
    client, invited, study_a, status, text
):
    _, token = invited
    Study.objects.filter(pk=study_a.pk).update(status=status)
    page = client.get(reverse("survey", args=[token]))
    assert text in page.content
    client.post(reverse("survey", args=[token]), _full_answers(study_a))
    assert not Response.objects.exists()


@pytest.mark.parametrize(
    "token",
    [
        "x" * 43,  # well-formed, unknown
        "short",
        "y" * 200,
        "has.dots" + "a" * 35,
    ],
)
def test_an_unknown_or_malformed_token_is_a_plain_404(client, db, token, settings):
    settings.DEBUG = False
    page = client.get(f"/s/{token}/")
    assert page.status_code == 404
    assert b"Invitation" not in page.content and b"token" not in page.content.lower()
    assert client.get(f"/s/{token}/opt-out/").status_code == 404
    assert client.post(f"/s/{token}/opt-out/").status_code == 404


def test_a_token_never_reaches_another_invitation(client, study_a, org_b):
    _, token_a = factories.make_invitation(study_a)
    other_study = factories.make_study(org_b)
    other, _ = factories.make_invitation(other_study)
    client.post(reverse("survey", args=[token_a]), _full_answers(study_a))
    assert not Response.objects.filter(study=other_study).exists()
    other.refresh_from_db()
    assert other.responded_at is None and other.opened_at is None


def test_the_thanks_page_redirects_to_the_survey_until_answered(client, invited):
    _, token = invited
    response = client.get(reverse("survey_thanks", args=[token]))
    assert response.status_code == 302
    assert response["Location"] == reverse("survey", args=[token])


def test_opt_out_asks_first_and_changes_nothing_on_get(client, invited):
    invitation, token = invited
    page = client.get(reverse("survey_opt_out", args=[token]))
    assert page.status_code == 200
    assert b"Yes, stop these emails" in page.content
    invitation.contact.refresh_from_db()
    assert invitation.contact.opted_out_at is None


def test_opt_out_post_marks_the_contact_for_every_study(client, invited, org_a):
    invitation, token = invited
    page = Client(enforce_csrf_checks=True).post(
        reverse("survey_opt_out", args=[token])
    )
    assert page.status_code == 200
    assert b"will not be emailed again" in page.content
    contact = Contact.objects.get(pk=invitation.contact_id)
    assert contact.opted_out_at is not None
    later = factories.make_study(org_a)
    assert invitations_create(study=later, actor=None).created == 0


@pytest.mark.django_db(transaction=True)
def test_two_submits_racing_on_one_token_leave_exactly_one_response(on_postgres):
    organization = factories.make_organization()
    study = factories.make_study(organization)
    _, token = factories.make_invitation(study, sent_at=timezone.now())
    data = _full_answers(study)
    barrier = threading.Barrier(2)
    statuses = []

    def submit():
        try:
            barrier.wait(timeout=10)
            statuses.append(
                Client().post(reverse("survey", args=[token]), data).status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 302]
    assert Response.objects.filter(study=study).count() == 1
    assert Answer.objects.filter(response__study=study).count() == (
        study.questionnaire.items.count()
    )


# --- Issue 14.3: opted out means out, until the person opts back in ---


def _opted_out(invited):
    invitation, token = invited
    Contact.objects.filter(pk=invitation.contact_id).update(opted_out_at=timezone.now())
    return invitation, token


def test_an_opted_out_link_says_so_and_offers_to_opt_back_in(client, invited):
    invitation, token = _opted_out(invited)
    page = client.get(reverse("survey", args=[token]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "You opted out" in html
    assert f'action="{reverse("survey_opt_in", args=[token])}"' in html
    assert 'method="post"' in html
    assert 'name="item_' not in html  # no questions offered
    invitation.refresh_from_db()
    assert invitation.opened_at is None


def test_an_opted_out_person_cannot_submit(client, invited, study_a):
    invitation, token = _opted_out(invited)
    response = client.post(reverse("survey", args=[token]), _full_answers(study_a))
    assert response.status_code == 409
    assert "You opted out" in response.content.decode()
    assert not Response.objects.exists()
    invitation.refresh_from_db()
    assert invitation.responded_at is None


def test_the_submit_service_refuses_an_opted_out_contact(invited, study_a):
    from surveys.services.responses import OptedOut, customer_response_submit

    invitation, _ = _opted_out(invited)
    item = study_a.questionnaire.items.first()
    with pytest.raises(OptedOut):
        customer_response_submit(invitation=invitation, answers={item.pk: 5})
    assert not Response.objects.exists()


def test_opting_back_in_is_a_post_and_then_the_survey_is_offered(
    client, invited, study_a
):
    invitation, token = _opted_out(invited)
    url = reverse("survey_opt_in", args=[token])
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("survey", args=[token])
    contact = Contact.objects.get(pk=invitation.contact_id)
    assert contact.opted_out_at is None
    assert (
        client.post(reverse("survey", args=[token]), _full_answers(study_a)).status_code
        == 302
    )
    assert Response.objects.count() == 1


def test_the_opt_out_page_of_an_opted_out_person_offers_to_opt_back_in(client, invited):
    _, token = _opted_out(invited)
    html = client.get(reverse("survey_opt_out", args=[token])).content.decode()
    assert "already opted out" in html
    assert reverse("survey_opt_in", args=[token]) in html


def test_opting_in_with_an_unknown_token_is_404(client, invited):
    assert client.post(reverse("survey_opt_in", args=["x" * 43])).status_code == 404


def test_a_customers_error_message_does_not_speak_of_saving(client, study_a):
    """A customer saves nothing themselves: a refused form says the answers
    have not been sent, not that "changes were not saved"."""
    from surveys.forms.answers import item_field_name

    _, token = factories.make_invitation(study_a)
    item = study_a.questionnaire.items.first()
    page = client.post(reverse("survey", args=[token]), {item_field_name(item): "99"})
    html = page.content.decode()
    assert "your answers have not been sent yet" in html
    assert "your changes were not saved" not in html
