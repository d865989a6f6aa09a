"""The customer submit path (issue 16): the bare minimum of queries, no shared
hot row, and still exactly one response per token whatever races."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from surveys.forms.answers import item_field_name
from surveys.models import Answer, Invitation, Response, Study
from surveys.services import questionnaires as questionnaire_services
from tests import factories


def _answers(study, value="5"):
    return {
        item_field_name(item): value for item in study.questionnaire.items.all()
    } | {"comment": "Quick and kind."}


def _invited(study):
    return factories.make_invitation(
        study,
        sent_at=timezone.now(),
        contact=factories.make_contact(
            study.organization,
            segment=factories.make_segment(study.organization),
        ),
    )


CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT")


def _post(client, token, data):
    """The page, and the statements it ran apart from transaction control."""
    with CaptureQueriesContext(connection) as queries:
        page = client.post(f"/s/{token}/", data)
    sql = [q["sql"] for q in queries.captured_queries]
    return page, [s for s in sql if not s.lstrip().upper().startswith(CONTROL)]


@pytest.mark.django_db(transaction=True)
def test_a_customer_submit_takes_at_most_four_queries(client, study_a):
    """Counted as production runs it (the submit's transaction the outermost),
    transaction control aside: one read, then three writes in one transaction."""
    data = _answers(study_a)
    # The first submit of a process may read the questionnaire's items; every
    # later one reads them from memory.
    _, first_token = _invited(study_a)
    assert client.post(f"/s/{first_token}/", data).status_code == 302
    invitation, token = _invited(study_a)

    with CaptureQueriesContext(connection) as everything:
        page, sql = _post(client, token, data)

    assert page.status_code == 302
    control = [q["sql"] for q in everything.captured_queries if q["sql"] not in sql]
    assert sum(c.upper().startswith("COMMIT") for c in control) <= 1
    writes = [s for s in sql if not s.lstrip().upper().startswith("SELECT")]
    assert len(sql) <= 4, "\n".join(sql)
    assert sum(s.lstrip().upper().startswith("SELECT") for s in sql) == 1
    assert not any("surveys_study" in s for s in writes), "no per-submit study update"
    response = Response.objects.get(invitation=invitation)
    assert response.status == Response.Status.SUBMITTED
    assert response.segment_id == invitation.contact.segment_id
    assert response.comment == "Quick and kind."
    assert response.answers.count() == study_a.questionnaire.items.count()
    invitation.refresh_from_db()
    assert invitation.responded_at == response.submitted_at
    assert invitation.opened_at is not None


def test_a_link_opened_earlier_keeps_its_opening_time_when_answered(client, study_a):
    from datetime import timedelta

    invitation, token = _invited(study_a)
    opened = timezone.now() - timedelta(days=2)
    Invitation.objects.filter(pk=invitation.pk).update(opened_at=opened)
    assert client.post(f"/s/{token}/", _answers(study_a)).status_code == 302
    invitation.refresh_from_db()
    assert invitation.opened_at == opened
    assert invitation.responded_at > opened


def test_submitting_never_touches_the_study_row(client, study_a):
    changed = Study.objects.get(pk=study_a.pk).changed_at
    _, token = _invited(study_a)
    assert client.post(f"/s/{token}/", _answers(study_a)).status_code == 302
    assert Study.objects.get(pk=study_a.pk).changed_at == changed


def test_a_submit_after_a_saved_draft_replaces_the_draft(client, study_a):
    invitation, token = _invited(study_a)
    first = study_a.questionnaire.items.first()
    later = {item_field_name(first): "2", "comment": "", "action": "later"}
    assert client.post(f"/s/{token}/", later).status_code == 302

    assert client.post(f"/s/{token}/", _answers(study_a, "6")).status_code == 302

    [response] = Response.objects.filter(invitation=invitation)
    assert response.status == Response.Status.SUBMITTED
    values = set(
        Answer.objects.filter(response=response).values_list("value", flat=True)
    )
    assert values == {6}


def test_a_draft_made_between_reading_the_link_and_submitting_is_taken_over(
    client, study_a, monkeypatch
):
    """The link is read without a lock; a draft saved in that instant (another
    tab) must not make the submit fail or leave two responses."""
    from surveys.services import invitations as invitation_services
    from surveys.services import responses as response_services

    invitation, token = _invited(study_a)
    read = invitation_services.invitation_for_token

    def read_then_another_tab_saves(value):
        found = read(value)
        other = read(value)
        response_services.customer_response_save(
            invitation=other,
            answers={study_a.questionnaire.items.first().pk: 3},
            submit=False,
        )
        return found

    monkeypatch.setattr(
        "surveys.views.survey.invitation_for_token", read_then_another_tab_saves
    )
    assert client.post(f"/s/{token}/", _answers(study_a, "4")).status_code == 302

    [response] = Response.objects.filter(invitation=invitation)
    assert response.status == Response.Status.SUBMITTED
    assert set(response.answers.values_list("value", flat=True)) == {4}
    assert response.answers.count() == study_a.questionnaire.items.count()


def test_an_item_added_after_a_submit_is_asked_for_at_once(client, org_a, alice):
    """The items a process keeps in memory follow every edit of the questionnaire."""
    questionnaire = factories.make_questionnaire(organization=org_a)
    study = factories.make_study(org_a, questionnaire=questionnaire, status="open")
    _, token = _invited(study)
    # Read the items (as a GET of the form does) before the edit.
    assert client.get(f"/s/{token}/").status_code == 200
    item = questionnaire_services.item_add(
        questionnaire=questionnaire,
        actor=alice.user,
        gap="delivery",
        dimension="",
        internal_text="We answer within a day.",
        customer_text="They answer within a day.",
    )
    old = {k: v for k, v in _answers(study).items() if k != item_field_name(item)}
    page = client.post(f"/s/{token}/", old)
    assert page.status_code == 400
    assert not Response.objects.filter(status=Response.Status.SUBMITTED).exists()
    assert client.post(f"/s/{token}/", _answers(study)).status_code == 302
    assert Invitation.objects.get(study=study).responded_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_submit_on_an_answered_link_writes_nothing(client, study_a):
    invitation, token = _invited(study_a)
    assert client.post(f"/s/{token}/", _answers(study_a, "5")).status_code == 302
    again = client.post(f"/s/{token}/", _answers(study_a, "1"))
    assert again.status_code == 200
    assert "already been answered" in again.content.decode()
    assert set(
        Answer.objects.filter(response__invitation=invitation).values_list(
            "value", flat=True
        )
    ) == {5}


def test_a_questionnaire_id_used_again_never_brings_back_old_items(org_a):
    """An id can come back (a database restored or flushed while the web
    processes run): the items kept in memory are keyed by a random stamp."""
    from surveys.models import Questionnaire
    from surveys.selectors import questionnaire_items

    first = factories.make_questionnaire(organization=org_a)
    pk = first.pk
    old = [item.pk for item in questionnaire_items(first)]
    first.delete()
    again = factories.make_questionnaire(organization=org_a, id=pk)
    assert Questionnaire.objects.get(pk=pk).pk == pk
    fresh = Questionnaire.objects.get(pk=pk)
    items = [item.pk for item in questionnaire_items(fresh)]
    assert items == [item.pk for item in again.items.order_by("position", "id")]
    assert not set(items) & set(old)
