"""Races on PostgreSQL: two requests at once, each on its own connection, and
exactly one result.

Also covered elsewhere (not repeated here):
- two submits of one survey token: tests/surveys/test_survey.py::
  test_two_submits_racing_on_one_token_leave_exactly_one_response
- two workers sending one batch: tests/surveys/test_tasks.py::
  test_two_workers_at_once_mail_everyone_exactly_once

SQLite serialises every write, so these only mean something on PostgreSQL: they
are skipped with a reason unless DATABASE_URL names one.
"""

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from surveys.models import AuditEvent, Contact, Membership, Response, Segment
from tests import factories

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only(on_postgres):
    """Every test here needs PostgreSQL (conftest's on_postgres skips otherwise)."""


def race(*calls) -> list:
    """Run the calls at the same moment, each in a thread with its own database
    connection; their results (or exceptions), in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as error:  # reported to the test, which fails on it
            results[index] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    for result in results:
        if isinstance(result, Exception):
            raise result
    return results


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def same_session(client: Client) -> Client:
    """A second client on the same session: a double click, or two tabs."""
    twin = Client()
    twin.cookies = client.cookies.__class__(client.cookies)
    return twin


# --- staff self-assessment ----------------------------------------------------------


@pytest.fixture
def staff_study():
    organization = factories.make_organization()
    study = factories.make_study(
        organization, questionnaire=factories.make_questionnaire(items_per_gap=1)
    )
    member = factories.make_member(organization)
    items = list(study.questionnaire.items.order_by("position"))
    return study, member, items


def answers(study, items, value: str, action: str) -> dict:
    data = {f"item_{item.pk}": value for item in items}
    data |= {
        "action": action,
        "questionnaire_key": f"{study.questionnaire.pk}:{len(items)}",
        "comment": f"value {value}",
    }
    return data


def test_two_first_saves_of_one_staff_draft_leave_one_whole_draft(staff_study):
    study, member, items = staff_study
    url = reverse("assessment", args=[study.pk])
    tab1, tab2 = logged_in(member.user), logged_in(member.user)
    statuses = race(
        lambda: tab1.post(url, answers(study, items, "2", "draft")).status_code,
        lambda: tab2.post(url, answers(study, items, "6", "draft")).status_code,
    )
    assert statuses == [302, 302]
    (response,) = Response.objects.filter(study=study, user=member.user)
    values = set(response.answers.values_list("value", flat=True))
    # One save's answers whole, never a mixture of the two.
    assert values in ({2}, {6})
    assert response.answers.count() == len(items)
    assert response.comment == f"value {values.pop()}"
    assert response.status == Response.Status.DRAFT


def test_two_submits_of_one_staff_draft_leave_exactly_one_submission(staff_study):
    study, member, items = staff_study
    url = reverse("assessment", args=[study.pk])
    tab1, tab2 = logged_in(member.user), logged_in(member.user)
    tab1.post(url, answers(study, items, "4", "draft"))
    statuses = race(
        lambda: tab1.post(url, answers(study, items, "1", "submit")).status_code,
        lambda: tab2.post(url, answers(study, items, "7", "submit")).status_code,
    )
    assert sorted(statuses) == [302, 409]
    (response,) = Response.objects.filter(study=study, user=member.user)
    assert response.status == Response.Status.SUBMITTED
    winner = "1" if statuses[0] == 302 else "7"
    assert set(response.answers.values_list("value", flat=True)) == {int(winner)}
    assert response.answers.count() == len(items)


# --- imports confirmed twice ---------------------------------------------------


def _preview(client: Client, view: str, text: str) -> str:
    upload = SimpleUploadedFile("f.csv", text.encode(), content_type="text/csv")
    response = client.post(reverse(view), {"file": upload})
    assert response.context["key"], response.content.decode()[:2000]
    return response.context["key"]


def _confirm_twice_at_once(manager, view: str, text: str) -> list[int]:
    """Preview an import, then confirm it from two tabs of the same session at
    once; the statuses of the two confirms."""
    click1 = logged_in(manager.user)
    key = _preview(click1, view, text)
    click2 = same_session(click1)
    confirm = reverse(f"{view}_confirm")
    return race(
        lambda: click1.post(confirm, {"key": key}).status_code,
        lambda: click2.post(confirm, {"key": key}).status_code,
    )


def test_a_contacts_import_confirmed_twice_at_once_is_applied_once():
    organization = factories.make_organization()
    manager = factories.make_member(organization, role="manager")
    rows = "".join(f"c{n}@example.com,Customer {n},Gold\n" for n in range(30))
    statuses = _confirm_twice_at_once(
        manager, "contact_import", "email,name,segment\n" + rows
    )
    assert statuses == [302, 302]
    assert Contact.objects.filter(organization=organization).count() == 30
    assert Segment.objects.filter(organization=organization).count() == 1
    applied = AuditEvent.objects.filter(
        organization=organization, action="contacts_import"
    )
    assert [e.detail["created"] for e in applied if e.detail.get("created")] == [30]


def test_a_staff_import_confirmed_twice_at_once_adds_and_mails_each_person_once(
    mailoutbox,
):
    organization = factories.make_organization()
    manager = factories.make_member(organization, role="manager")
    rows = "".join(f"s{n}@example.com,Staff {n},Front desk\n" for n in range(10))
    statuses = _confirm_twice_at_once(
        manager, "staff_import", "email,name,department\n" + rows
    )
    assert statuses == [302, 302]
    staff = Membership.objects.filter(organization=organization, role="staff")
    assert staff.count() == 10
    assert organization.departments.count() == 1
    recipients = sorted(to for mail in mailoutbox for to in mail.to)
    assert recipients == sorted(f"s{n}@example.com" for n in range(10))


def test_two_imports_making_one_new_segment_at_once_apply_once():
    """Both plan the new segment "Gold": the second used to hit the unique
    constraint (a 500); now one import applies and the other is refused whole."""
    from surveys.services.contacts import ContactError, contacts_import

    organization = factories.make_organization()
    text = "email,name,segment\n" + "".join(
        f"c{n}@example.com,Customer {n},Gold\n" for n in range(30)
    )

    def apply():
        try:
            return contacts_import(organization=organization, actor=None, text=text)
        except ContactError as refused:
            return str(refused)

    outcomes = race(apply, apply)
    applied = [o for o in outcomes if not isinstance(o, str)]
    refused = [o for o in outcomes if isinstance(o, str)]
    # Either the second was refused whole, or it ran after the first and found
    # every row already there.
    assert len(applied) == 2 - len(refused) and applied[0].creates == 30
    assert all(o.creates == 0 for o in applied[1:])
    assert all("nothing was imported" in message for message in refused)
    assert Contact.objects.filter(organization=organization).count() == 30
    assert Segment.objects.filter(organization=organization).count() == 1
