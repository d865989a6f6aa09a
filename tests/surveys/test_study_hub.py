"""Issue 19.4: the study hub tells the truth. Prepare is done only when the study
has people to ask; opening with nobody to ask asks for confirmation, with the
reason; step 1 links to staff and contacts."""

import re

import pytest
from django.urls import reverse

from surveys.models import Role, Study
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(org_a):
    return factories.make_study(org_a, name="New wave", status=Study.Status.DRAFT)


def step(html: str, name: str) -> str:
    return re.search(rf'data-step="{name}">(.*?)(<li class="card|</ol>)', html, re.S)[1]


def hub(client, study) -> str:
    return client.get(reverse("study_detail", args=[study.pk])).content.decode()


def test_a_new_study_with_nobody_to_ask_is_not_prepared(alice_client, draft):
    html = hub(alice_client, draft)
    assert ">Done<" not in step(html, "prepare")
    assert ">Next<" in step(html, "prepare")
    assert "Everything is ready" not in step(html, "open")
    assert "add staff and customer contacts" in html


def test_with_staff_only_the_hub_asks_for_contacts(alice_client, bob, draft):
    html = hub(alice_client, draft)
    assert ">Done<" not in step(html, "prepare")
    assert "add customer contacts, then open the study" in html


def test_with_contacts_only_the_hub_asks_for_staff(alice_client, org_a, draft):
    factories.make_contact(org_a)
    html = hub(alice_client, draft)
    assert ">Done<" not in step(html, "prepare")
    assert "add staff, then open the study" in html


def test_opted_out_contacts_are_nobody_to_ask(alice_client, org_a, bob, draft):
    from django.utils import timezone

    factories.make_contact(org_a, opted_out_at=timezone.now())
    assert ">Done<" not in step(hub(alice_client, draft), "prepare")


def test_with_staff_and_contacts_prepare_is_done(alice_client, org_a, bob, draft):
    factories.make_contact(org_a)
    html = hub(alice_client, draft)
    assert ">Done<" in step(html, "prepare")
    assert "Everything is ready" in step(html, "open")
    assert "open the study so staff and customers can answer" in html


def test_step_one_links_to_staff_and_contacts(alice_client, draft):
    prepare = step(hub(alice_client, draft), "prepare")
    for name in ("staff_list", "contact_list", "contact_import"):
        assert f'href="{reverse(name)}"' in prepare


def test_opening_with_nobody_to_ask_asks_for_confirmation_with_the_reason(
    alice_client, draft
):
    page = alice_client.post(reverse("study_open", args=[draft.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "no staff members" in html
    assert "no customer contacts" in html
    assert 'name="confirm" value="yes"' in html
    draft.refresh_from_db()
    assert draft.status == Study.Status.DRAFT


def test_opening_with_staff_only_names_the_missing_customers(alice_client, bob, draft):
    html = alice_client.post(reverse("study_open", args=[draft.pk])).content.decode()
    assert "no customer contacts" in html
    assert "no staff members" not in html


def test_a_confirmed_open_opens_with_nobody_to_ask(alice_client, draft):
    alice_client.post(reverse("study_open", args=[draft.pk]), {"confirm": "yes"})
    draft.refresh_from_db()
    assert draft.status == Study.Status.OPEN


def test_with_people_to_ask_opening_needs_no_confirmation(
    alice_client, org_a, bob, draft
):
    factories.make_contact(org_a)
    page = alice_client.post(reverse("study_open", args=[draft.pk]))
    assert page.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Study.Status.OPEN


def test_another_organizations_manager_cannot_reach_the_confirmation(
    charlie_client, draft
):
    page = charlie_client.post(reverse("study_open", args=[draft.pk]))
    assert page.status_code == 404


def test_managers_are_not_counted_as_staff_to_ask(alice_client, org_a, draft):
    factories.make_member(org_a, Role.MANAGER)
    factories.make_contact(org_a)
    assert ">Done<" not in step(hub(alice_client, draft), "prepare")
