"""Issue 14.1: a manager learns nothing about accounts outside their organization,
cannot make another organization's person a member without their consent, and
being added somewhere never moves a person's default organization."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from surveys.models import Membership, MembershipInvite, Role
from surveys.services.staff import staff_add
from tests import factories
from tests.surveys.test_staff import preview

pytestmark = pytest.mark.django_db
User = get_user_model()


def fresh_login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_import_preview_says_the_same_for_an_existing_and_a_new_address(
    alice_client, charlie
):
    text = (
        "email,name,department\n"
        "charlie@bright.example,Charlie,\n"
        "nobody@acme.example,Nobody,\n"
    )
    response = preview(alice_client, text)
    rows = {row.line: row for row in response.context["plan"].rows}
    assert (rows[2].action, rows[2].reason) == (rows[3].action, rows[3].reason)
    html = response.content.decode()
    assert "has an account" not in html.lower()
    assert "another organization" not in html


def test_adding_an_existing_or_a_new_address_gives_the_same_message(
    alice_client, charlie
):
    def message_for(email):
        response = alice_client.post(
            reverse("staff_add"), {"email": email, "name": "Some One"}, follow=True
        )
        [message] = list(response.context["messages"])
        return str(message).replace(email, "EMAIL")

    assert message_for("charlie@bright.example") == message_for("new@acme.example")


def test_the_staff_list_shows_an_invited_account_like_a_new_person(
    alice_client, charlie, org_a
):
    staff_add(organization=org_a, actor=None, email="new@acme.example", name="N N")
    staff_add(
        organization=org_a, actor=None, email="charlie@bright.example", name="C C"
    )
    html = alice_client.get(reverse("staff_list")).content.decode()
    new_row = html[html.index("new@acme.example") - 200 :][:900]
    old_row = html[html.index("charlie@bright.example") - 200 :][:900]
    assert "Not yet" in new_row and "Not yet" in old_row
    assert "charlie@bright.example" in html and "C C" in html


def test_another_organizations_manager_is_invited_not_made_a_member(
    alice_client, charlie, org_a, study_a, mailoutbox
):
    alice_client.post(
        reverse("staff_add"), {"email": "charlie@bright.example", "name": "Charlie"}
    )
    assert not Membership.objects.filter(user=charlie.user, organization=org_a)
    assert MembershipInvite.objects.filter(user=charlie.user, organization=org_a)
    [mail] = mailoutbox
    assert reverse("membership_invites") in mail.body
    # Until they accept, charlie sees nothing of A, even by asking for it.
    client = fresh_login(charlie.user)
    assert (
        client.post(reverse("organization_switch"), {"organization": org_a.pk})
    ).status_code == 404
    assert client.get(reverse("study_detail", args=[study_a.pk])).status_code == 404


def test_accepting_the_invitation_makes_a_member_and_chooses_the_organization(
    charlie, org_a
):
    added = staff_add(
        organization=org_a, actor=None, email="charlie@bright.example", name="C"
    )
    client = fresh_login(charlie.user)
    page = client.get(reverse("membership_invites")).content.decode()
    assert org_a.name in page
    response = client.post(
        reverse("membership_invite_answer"),
        {"invite": added.invite.pk, "answer": "accept"},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=charlie.user, organization=org_a)
    assert membership.role == Role.STAFF
    assert not MembershipInvite.objects.exists()
    # A new login lands where they last chose: A.
    html = fresh_login(charlie.user).get(reverse("staff_home")).content.decode()
    assert org_a.name in html


def test_declining_the_invitation_leaves_no_membership(charlie, org_a):
    added = staff_add(
        organization=org_a, actor=None, email="charlie@bright.example", name="C"
    )
    fresh_login(charlie.user).post(
        reverse("membership_invite_answer"),
        {"invite": added.invite.pk, "answer": "decline"},
    )
    assert not Membership.objects.filter(user=charlie.user, organization=org_a)
    assert not MembershipInvite.objects.exists()


def test_nobody_else_can_answer_an_invitation(charlie, alice_client, org_a):
    added = staff_add(
        organization=org_a, actor=None, email="charlie@bright.example", name="C"
    )
    response = alice_client.post(
        reverse("membership_invite_answer"),
        {"invite": added.invite.pk, "answer": "accept"},
    )
    assert response.status_code == 404
    assert not Membership.objects.filter(user=charlie.user, organization=org_a)


def test_being_added_elsewhere_never_changes_the_default_organization(charlie):
    # "Aardvark" sorts before charlie's own organization.
    other = factories.make_organization(name="Aardvark", slug="aardvark")
    Membership.objects.create(user=charlie.user, organization=other, role=Role.STAFF)
    response = fresh_login(charlie.user).get(reverse("home"))
    assert response["Location"] == reverse("study_list")  # still B's manager


def test_the_default_organization_is_the_one_chosen_last(charlie, org_b):
    other = factories.make_organization(name="Zeta", slug="zeta")
    Membership.objects.create(user=charlie.user, organization=other, role=Role.STAFF)
    fresh_login(charlie.user).post(
        reverse("organization_switch"), {"organization": other.pk}
    )
    response = fresh_login(charlie.user).get(reverse("home"))
    assert response["Location"] == reverse("staff_home")  # Zeta, as staff


def test_the_nav_points_a_member_to_a_pending_invitation(charlie, org_a):
    client = fresh_login(charlie.user)
    assert (
        'data-testid="pending-invites"'
        not in client.get(reverse("study_list")).content.decode()
    )
    staff_add(organization=org_a, actor=None, email="charlie@bright.example", name="C")
    html = client.get(reverse("study_list")).content.decode()
    assert 'data-testid="pending-invites"' in html
    assert reverse("membership_invites") in html
