"""Inviting contacts to a study: who is invited, the tokens, the page."""

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from surveys.models import AuditEvent, Invitation, Study, token_hash
from surveys.services.invitations import (
    InvitationError,
    invitation_for_token,
    invitation_token,
    invitations_create,
)
from tests import factories


@pytest.fixture
def retail(org_a):
    return factories.make_segment(org_a, "Retail")


@pytest.fixture
def contacts(org_a, retail):
    return {
        "shop": factories.make_contact(org_a, email="shop@example.com", segment=retail),
        "firm": factories.make_contact(org_a, email="firm@example.com"),
        "gone": factories.make_contact(
            org_a, email="gone@example.com", opted_out_at=timezone.now()
        ),
    }


def _invited_emails(study):
    return sorted(
        Invitation.objects.filter(study=study).values_list("contact__email", flat=True)
    )


def test_inviting_all_skips_opted_out_contacts(study_a, contacts):
    result = invitations_create(study=study_a, actor=None)
    assert (result.created, result.opted_out, result.already_invited) == (2, 1, 0)
    assert _invited_emails(study_a) == ["firm@example.com", "shop@example.com"]


def test_inviting_a_segment_invites_only_it(study_a, contacts, retail):
    invitations_create(study=study_a, actor=None, segment=retail)
    assert _invited_emails(study_a) == ["shop@example.com"]


def test_inviting_again_skips_those_already_invited(study_a, contacts, retail):
    invitations_create(study=study_a, actor=None, segment=retail)
    result = invitations_create(study=study_a, actor=None)
    assert (result.created, result.already_invited) == (1, 1)
    assert Invitation.objects.filter(study=study_a).count() == 2


def test_contacts_of_another_organization_are_never_invited(study_a, org_b):
    factories.make_contact(org_b, email="theirs@example.com")
    assert invitations_create(study=study_a, actor=None).created == 0


def test_a_closed_study_takes_no_invitations(study_a, contacts):
    Study.objects.filter(pk=study_a.pk).update(status=Study.Status.CLOSED)
    with pytest.raises(InvitationError):
        invitations_create(study=study_a, actor=None)
    assert not Invitation.objects.exists()


def test_inviting_is_audited(study_a, contacts, alice):
    invitations_create(study=study_a, actor=alice.user)
    event = AuditEvent.objects.get(action="invitations_create")
    assert event.actor == alice.user and event.detail["created"] == 2


# --- tokens --------------------------------------------------------------------------


def test_only_the_hash_of_the_token_is_stored(study_a, contacts):
    invitations_create(study=study_a, actor=None)
    for invitation in Invitation.objects.all():
        token = invitation_token(invitation)
        assert len(token) == 43
        assert invitation.token_hash == token_hash(token)
        stored = [
            str(v)
            for v in Invitation.objects.filter(pk=invitation.pk).values()[0].values()
        ]
        assert token not in stored


def test_tokens_differ_per_invitation_and_depend_on_the_secret_key(
    study_a, contacts, settings
):
    invitations_create(study=study_a, actor=None)
    invitations = list(Invitation.objects.all())
    tokens = {invitation_token(i) for i in invitations}
    assert len(tokens) == len(invitations)
    settings.SECRET_KEY = "another key entirely"
    assert all(invitation_token(i) is None for i in invitations)


def test_a_rotated_key_in_the_fallbacks_still_rebuilds_the_token(
    study_a, contacts, settings
):
    invitations_create(study=study_a, actor=None)
    invitation = Invitation.objects.first()
    token = invitation_token(invitation)
    settings.SECRET_KEY_FALLBACKS = [django_settings.SECRET_KEY]
    settings.SECRET_KEY = "the new key"
    assert invitation_token(invitation) == token


def test_the_token_finds_its_invitation_and_nothing_else(study_a, contacts):
    invitations_create(study=study_a, actor=None)
    invitation = Invitation.objects.first()
    token = invitation_token(invitation)
    assert invitation_for_token(token) == invitation
    assert invitation_for_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert invitation_for_token("") is None
    assert invitation_for_token("../" + token) is None


# --- the page ----------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, study_a):
    response = client.get(reverse("invitation_list", args=[study_a.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_staff_get_404(bob_client, study_a):
    url = reverse("invitation_list", args=[study_a.pk])
    assert bob_client.get(url).status_code == 404
    assert bob_client.post(url, {}).status_code == 404


def test_another_organizations_manager_gets_404(charlie_client, study_a, contacts):
    url = reverse("invitation_list", args=[study_a.pk])
    assert charlie_client.get(url).status_code == 404
    assert charlie_client.post(url, {}).status_code == 404
    assert not Invitation.objects.exists()


def test_the_manager_invites_a_segment_from_the_page(
    alice_client, study_a, contacts, retail, django_capture_on_commit_callbacks
):
    url = reverse("invitation_list", args=[study_a.pk])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = alice_client.post(url, {"segment": retail.pk}, follow=True)
    assert b"Invited 1 contact" in response.content
    assert _invited_emails(study_a) == ["shop@example.com"]
    assert len(callbacks) == 1  # the sending was queued, not done in the request


def test_on_a_draft_the_invitations_wait_for_the_opening(
    alice_client, org_a, contacts, django_capture_on_commit_callbacks
):
    draft = factories.make_study(org_a, status=Study.Status.DRAFT)
    with django_capture_on_commit_callbacks() as callbacks:
        response = alice_client.post(
            reverse("invitation_list", args=[draft.pk]), {}, follow=True
        )
    assert b"when the study opens" in response.content
    assert callbacks == []
    assert Invitation.objects.filter(study=draft).count() == 2


def test_opening_the_study_queues_the_waiting_invitations(
    alice, org_a, contacts, django_capture_on_commit_callbacks
):
    from surveys.services.studies import study_open

    draft = factories.make_study(org_a, status=Study.Status.DRAFT)
    invitations_create(study=draft, actor=None)
    with django_capture_on_commit_callbacks() as callbacks:
        study_open(study=draft, actor=alice.user)
    assert len(callbacks) == 1


def test_the_list_shows_each_invitations_state(alice_client, study_a, org_a):
    factories.make_invitation(
        study_a,
        contact=factories.make_contact(org_a, email="sent@example.com"),
        sent_at=timezone.now(),
    )
    factories.make_invitation(
        study_a,
        contact=factories.make_contact(org_a, email="fail@example.com"),
        failed_at=timezone.now(),
        last_error="550 no such user",
    )
    factories.make_invitation(
        study_a,
        contact=factories.make_contact(org_a, email="wait@example.com"),
    )
    html = alice_client.get(reverse("invitation_list", args=[study_a.pk])).content
    assert b"Sent" in html and b"Failed" in html and b"Waiting to be sent" in html
    assert b"550 no such user" in html


def test_a_bad_segment_value_is_a_form_error_not_a_crash(alice_client, study_a, org_b):
    theirs = factories.make_segment(org_b, "Theirs")
    url = reverse("invitation_list", args=[study_a.pk])
    response = alice_client.post(url, {"segment": theirs.pk})
    assert response.status_code == 200
    assert not Invitation.objects.exists()


def test_inviting_when_nobody_is_new_says_so(alice_client, study_a, contacts):
    url = reverse("invitation_list", args=[study_a.pk])
    alice_client.post(url, {})
    response = alice_client.post(url, {}, follow=True)
    assert b"Nobody new to invite" in response.content
    assert b"Skipped: 2 already invited, 1 opted out." in response.content


def test_the_list_is_paged_a_hundred_at_a_time(alice_client, study_a):
    for _ in range(101):
        factories.make_invitation(study_a)
    url = reverse("invitation_list", args=[study_a.pk])
    first = alice_client.get(url)
    assert len(first.context["rows"]) == 100
    assert "Page 1 of 2" in first.content.decode()
    assert 'href="?page=2"' in first.content.decode()
    second = alice_client.get(url, {"page": 2})
    assert len(second.context["rows"]) == 1
