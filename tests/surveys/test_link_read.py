"""The survey link's one read gives exactly the objects the ORM's
select_related would: every field of the invitation, its study,
questionnaire, organization, contact and draft response, each converted as
the ORM converts it (dates, JSON), related objects cached, in one query."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from surveys.models import Invitation, Response
from surveys.services.invitations import invitation_for_token
from tests import factories

pytestmark = pytest.mark.django_db


def _orm(invitation):
    return Invitation.objects.select_related(
        "study__questionnaire", "study__organization", "contact", "response"
    ).get(pk=invitation.pk)


def _fields(instance):
    if instance is None:
        return None
    return {
        field.attname: getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
    }


def _same_graph(found, expected):
    assert _fields(found) == _fields(expected)
    assert _fields(found.study) == _fields(expected.study)
    assert _fields(found.study.questionnaire) == _fields(expected.study.questionnaire)
    assert _fields(found.study.organization) == _fields(expected.study.organization)
    assert _fields(found.contact) == _fields(expected.contact)


def test_an_invitation_with_contact_and_draft_reads_as_the_orm_reads_it(org_a):
    study = factories.make_study(
        org_a, followup_rules={"enabled": True, "trigger": "always"}
    )
    segment = factories.make_segment(org_a, "Business", weight=2)
    contact = factories.make_contact(org_a, segment=segment)
    invitation, token = factories.make_invitation(
        study, contact, opened_at=timezone.now(), sent_at=timezone.now()
    )
    Response.objects.create(
        study=study, audience="customer", invitation=invitation, comment="later"
    )
    with CaptureQueriesContext(connection) as captured:
        found = invitation_for_token(token)
        expected = _orm(invitation)
    assert len(captured.captured_queries) == 2  # one each
    _same_graph(found, expected)
    assert found.study.followup_rules == {"enabled": True, "trigger": "always"}
    with CaptureQueriesContext(connection) as captured:
        assert _fields(found.response) == _fields(expected.response)
        assert found.response.invitation is found
        assert found.contact.segment_id == segment.pk
    assert captured.captured_queries == []


def test_an_invitation_without_a_response_knows_it_has_none_without_a_query(org_a):
    study = factories.make_study(org_a)
    invitation, token = factories.make_invitation(study)
    found = invitation_for_token(token)
    _same_graph(found, _orm(invitation))
    assert Invitation.response.is_cached(found)
    with CaptureQueriesContext(connection) as captured:
        with pytest.raises(Response.DoesNotExist):
            found.response  # noqa: B018
    assert captured.captured_queries == []


def test_an_invitation_whose_contact_was_erased_reads_with_none(org_a):
    study = factories.make_study(org_a)
    invitation, token = factories.make_invitation(study)
    Invitation.objects.filter(pk=invitation.pk).update(contact=None)
    found = invitation_for_token(token)
    assert found.contact is None and found.contact_id is None
    _same_graph(found, _orm(invitation))


def test_an_unknown_token_reads_nothing(org_a):
    study = factories.make_study(org_a)
    _, token = factories.make_invitation(study)
    assert invitation_for_token(token[:-2] + "zz") is None
