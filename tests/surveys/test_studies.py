"""Studies for managers: list, create, edit while draft, open, close, reopen, and
the study page as the hub of the cycle."""

import datetime
import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from surveys.models import Audience, AuditEvent, Gap, Questionnaire, Response, Study
from surveys.services.responses import StudyNotOpen, staff_response_save
from surveys.services.studies import StudyError, study_open
from tests import factories

pytestmark = pytest.mark.django_db


TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture
def questionnaire(org_a):
    return factories.make_questionnaire(organization=org_a, name="Acme's own")


@pytest.fixture
def draft(org_a, questionnaire):
    return factories.make_study(
        org_a,
        name="Spring wave",
        questionnaire=questionnaire,
        status=Study.Status.DRAFT,
        closes_on=TODAY + 30 * DAY,
    )


def study_data(questionnaire, **overrides):
    data = {
        "name": "Autumn wave",
        "questionnaire": questionnaire.pk,
        "opens_on": (TODAY + DAY).isoformat(),
        "closes_on": (TODAY + 30 * DAY).isoformat(),
        "introduction": "Thank you for taking part.",
        "min_group_size": "5",
        "reminder_interval_days": "7",
        "max_reminders": "2",
    }
    data.update(overrides)
    return data


def submit(study, audience, n=1):
    for _ in range(n):
        factories.make_response(
            study,
            audience,
            status=Response.Status.SUBMITTED,
            submitted_at=timezone.now(),
            user=factories.make_user() if audience == Audience.INTERNAL else None,
        )


# --- list ---------------------------------------------------------------------


def test_a_manager_lands_on_their_studies(alice_client):
    response = alice_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/studies/"


def test_the_nav_shows_the_workspace_links_to_managers_only(alice_client, bob_client):
    body = alice_client.get("/studies/").content.decode()
    for link in ("/studies/", "/questionnaires/", "/organization/"):
        assert f'href="{link}"' in body
    staff_body = bob_client.get("/accounts/password_change/").content.decode()
    assert 'href="/questionnaires/"' not in staff_body


def test_the_list_shows_status_dates_and_submitted_counts(alice_client, org_a, draft):
    open_study = factories.make_study(
        org_a, name="Winter wave", opens_on=TODAY, closes_on=TODAY + 10 * DAY
    )
    submit(open_study, Audience.INTERNAL, 2)
    submit(open_study, Audience.CUSTOMER, 3)
    factories.make_response(open_study, Audience.CUSTOMER)  # a draft: not counted
    body = alice_client.get("/studies/").content.decode()
    row = re.search(rf'<tr data-study="{open_study.pk}">.*?</tr>', body, re.S).group(0)
    assert "Winter wave" in row and "Open" in row
    assert '<td class="text-end" data-count="staff">2</td>' in row
    assert '<td class="text-end" data-count="customers">3</td>' in row
    assert TODAY.strftime("%Y") in row
    draft_row = re.search(rf'<tr data-study="{draft.pk}">.*?</tr>', body, re.S)
    assert "Draft" in draft_row.group(0)


def test_the_list_counts_in_one_query_whatever_the_number_of_studies(
    alice_client, org_a, questionnaire
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert alice_client.get("/studies/").status_code == 200
        return len(context.captured_queries)

    study = factories.make_study(org_a, questionnaire=questionnaire)
    submit(study, Audience.CUSTOMER)
    one = queries()
    for _ in range(4):
        submit(factories.make_study(org_a, questionnaire=questionnaire), "internal")
    assert queries() == one


def test_the_list_shows_no_study_of_another_organization(charlie_client, draft):
    assert "Spring wave" not in charlie_client.get("/studies/").content.decode()


# --- create and edit ------------------------------------------------------------


def test_a_manager_creates_a_draft_study(alice_client, alice, org_a, questionnaire):
    response = alice_client.post("/studies/new/", study_data(questionnaire))
    study = Study.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/studies/{study.pk}/"
    assert study.organization == org_a
    assert study.status == Study.Status.DRAFT
    assert study.questionnaire == questionnaire
    assert (study.opens_on, study.closes_on) == (TODAY + DAY, TODAY + 30 * DAY)
    assert study.introduction == "Thank you for taking part."
    assert (
        study.min_group_size,
        study.reminder_interval_days,
        study.max_reminders,
    ) == (
        5,
        7,
        2,
    )
    event = AuditEvent.objects.get(action="study_create")
    assert (event.actor, event.organization) == (alice.user, org_a)


def test_the_questionnaire_choice_offers_the_default_and_own_only(
    alice_client, org_b, questionnaire
):
    default = factories.make_questionnaire(name="The default")
    theirs = factories.make_questionnaire(organization=org_b, name="Theirs")
    body = alice_client.get("/studies/new/").content.decode()
    assert f'value="{default.pk}"' in body
    assert f'value="{questionnaire.pk}"' in body
    assert "Theirs" not in body
    response = alice_client.post("/studies/new/", study_data(theirs))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Study.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"opens_on": (TODAY - DAY).isoformat()}, "The opening date is in the past."),
        ({"closes_on": (TODAY - DAY).isoformat()}, "The closing date is in the past."),
        (
            {"opens_on": (TODAY + 5 * DAY).isoformat(), "closes_on": TODAY.isoformat()},
            "The closing date is before the opening date.",
        ),
        ({"min_group_size": "2"}, "The minimum group size must be at least 3."),
        ({"name": "  "}, "This field is required."),
        ({"closes_on": ""}, "This field is required."),
    ],
    ids=[
        "opens-past",
        "closes-past",
        "closes-before-opens",
        "group-2",
        "no-name",
        "no-close",
    ],
)
def test_bad_study_input_is_refused_keeping_what_was_typed(
    alice_client, questionnaire, overrides, message
):
    data = study_data(questionnaire, **overrides)
    response = alice_client.post("/studies/new/", data)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert "Thank you for taking part." in body
    if data["name"].strip():
        assert 'value="Autumn wave"' in body
    assert not Study.objects.exists()


def test_the_service_refuses_a_group_size_below_three(org_a, alice, questionnaire):
    from surveys.services.studies import study_create

    with pytest.raises(StudyError, match="at least 3"):
        study_create(
            organization=org_a,
            actor=alice.user,
            name="x",
            questionnaire=questionnaire,
            min_group_size=2,
        )
    assert not Study.objects.exists()


def test_a_draft_study_is_edited(alice_client, alice, draft, questionnaire):
    url = f"/studies/{draft.pk}/edit/"
    assert 'value="Spring wave"' in alice_client.get(url).content.decode()
    response = alice_client.post(url, study_data(questionnaire, name="Spring wave 2"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.name == "Spring wave 2"
    assert draft.introduction == "Thank you for taking part."
    assert AuditEvent.objects.filter(action="study_update", actor=alice.user).exists()


def test_an_unchanged_past_opening_date_may_stay(alice_client, draft, questionnaire):
    Study.objects.filter(pk=draft.pk).update(opens_on=TODAY - 3 * DAY)
    data = study_data(questionnaire, opens_on=(TODAY - 3 * DAY).isoformat())
    response = alice_client.post(f"/studies/{draft.pk}/edit/", data)
    assert response.status_code == 302


def test_editing_to_a_past_date_is_refused(alice_client, draft, questionnaire):
    data = study_data(questionnaire, closes_on=(TODAY - DAY).isoformat())
    response = alice_client.post(f"/studies/{draft.pk}/edit/", data)
    assert "The closing date is in the past." in response.content.decode()
    draft.refresh_from_db()
    assert draft.closes_on == TODAY + 30 * DAY


@pytest.mark.parametrize("status", [Study.Status.OPEN, Study.Status.CLOSED])
def test_only_a_draft_can_be_edited(alice_client, draft, questionnaire, status):
    Study.objects.filter(pk=draft.pk).update(status=status)
    response = alice_client.post(
        f"/studies/{draft.pk}/edit/",
        study_data(questionnaire, name="Renamed"),
        follow=True,
    )
    assert "Only a draft study can be edited." in response.content.decode()
    draft.refresh_from_db()
    assert draft.name == "Spring wave"


# --- open, close, reopen ------------------------------------------------------------


def test_a_ready_draft_opens(alice_client, alice, draft):
    response = alice_client.post(
        f"/studies/{draft.pk}/open/", {"confirm": "yes"}, follow=True
    )
    assert "The study is open for answers." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Study.Status.OPEN
    assert draft.opened_at is not None
    assert draft.opens_on == TODAY
    assert AuditEvent.objects.filter(action="study_open", actor=alice.user).exists()


def test_opening_is_refused_without_items(alice_client, draft, questionnaire):
    questionnaire.items.all().delete()
    response = alice_client.post(
        f"/studies/{draft.pk}/open/", {"confirm": "yes"}, follow=True
    )
    assert "The questionnaire has no items." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Study.Status.DRAFT
    assert draft.opened_at is None


def test_opening_is_refused_when_a_gap_has_no_item(alice_client, draft, questionnaire):
    questionnaire.items.filter(gap__in=[Gap.STANDARDS, Gap.DELIVERY]).delete()
    response = alice_client.post(
        f"/studies/{draft.pk}/open/", {"confirm": "yes"}, follow=True
    )
    assert "No item for the Standards, Delivery gaps." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Study.Status.DRAFT


def test_opening_is_refused_when_a_wording_is_empty(draft, questionnaire, alice):
    questionnaire.items.filter(position=3).update(customer_text=" ")
    with pytest.raises(StudyError, match="lacks a wording"):
        study_open(study=draft, actor=alice.user)


def test_opening_is_refused_when_the_close_date_has_passed(alice_client, draft):
    Study.objects.filter(pk=draft.pk).update(closes_on=TODAY - DAY)
    response = alice_client.post(
        f"/studies/{draft.pk}/open/", {"confirm": "yes"}, follow=True
    )
    assert "The closing date is in the past" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Study.Status.DRAFT


def test_the_hub_says_why_a_study_cannot_open_before_trying(
    alice_client, draft, questionnaire
):
    questionnaire.items.filter(gap=Gap.PERCEPTION).delete()
    body = alice_client.get(f"/studies/{draft.pk}/").content.decode()
    assert "The study cannot open yet" in body
    assert "No item for the Perception gap." in body


def test_an_open_study_cannot_be_opened_again(alice, draft):
    study_open(study=draft, actor=alice.user)
    with pytest.raises(StudyError, match="Only a draft"):
        study_open(study=draft, actor=alice.user)
    assert AuditEvent.objects.filter(action="study_open").count() == 1


def test_closing_stops_all_answering_at_once(alice_client, alice, bob, draft):
    study_open(study=draft, actor=alice.user)
    response = alice_client.post(f"/studies/{draft.pk}/close/", follow=True)
    assert "The study is closed" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Study.Status.CLOSED
    assert draft.closed_at is not None
    assert AuditEvent.objects.filter(action="study_close", actor=alice.user).exists()
    answers = {item.pk: 4 for item in draft.questionnaire.items.all()}
    with pytest.raises(StudyNotOpen):
        staff_response_save(study=draft, membership=bob, answers=answers, submit=True)


def test_a_draft_cannot_be_closed(alice_client, draft):
    response = alice_client.post(f"/studies/{draft.pk}/close/", follow=True)
    assert "Only an open study can be closed." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Study.Status.DRAFT


def test_a_closed_study_reopens_until_a_future_date(alice_client, alice, org_a):
    study = factories.make_study(
        org_a, status=Study.Status.CLOSED, closed_at=timezone.now()
    )
    until = TODAY + 7 * DAY
    response = alice_client.post(
        f"/studies/{study.pk}/reopen/", {"closes_on": until.isoformat()}
    )
    assert response.status_code == 302
    study.refresh_from_db()
    assert (study.status, study.closes_on, study.closed_at) == ("open", until, None)
    assert AuditEvent.objects.filter(action="study_reopen", actor=alice.user).exists()


@pytest.mark.parametrize("days", [0, -1])
def test_reopening_needs_a_date_in_the_future(alice_client, org_a, days):
    study = factories.make_study(org_a, status=Study.Status.CLOSED)
    typed = (TODAY + days * DAY).isoformat()
    response = alice_client.post(f"/studies/{study.pk}/reopen/", {"closes_on": typed})
    assert response.status_code == 200
    body = response.content.decode()
    assert "The new closing date must be in the future." in body
    assert f'value="{typed}"' in body
    study.refresh_from_db()
    assert study.status == Study.Status.CLOSED


def test_only_a_closed_study_reopens(alice_client, draft):
    until = (TODAY + 7 * DAY).isoformat()
    response = alice_client.post(
        f"/studies/{draft.pk}/reopen/", {"closes_on": until}, follow=True
    )
    assert "Only a closed study can be reopened." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Study.Status.DRAFT


# --- the hub -----------------------------------------------------------------


def test_the_hub_shows_progress_and_what_is_next(alice_client, org_a, bob):
    study = factories.make_study(org_a, name="Open wave")
    for _ in range(11):
        factories.make_member(org_a)  # 12 staff with bob
    factories.make_response(
        study,
        Audience.INTERNAL,
        user=bob.user,
        status=Response.Status.SUBMITTED,
        submitted_at=timezone.now(),
    )
    submit(study, Audience.INTERNAL, 4)
    for _ in range(4):
        factories.make_invitation(study)
    submit(study, Audience.CUSTOMER, 1)
    body = alice_client.get(f"/studies/{study.pk}/").content.decode()
    # Counts as published: 5 staff (the minimum group size) are shown, one
    # customer is not.
    assert "5 of 12 staff answered." in body
    assert "Fewer than 5 of 4 invited customers answered." in body
    assert "collect answers: 5 of 12 staff have answered so far." in body
    assert "not counted yet" not in body
    assert "Close the study now" in body
    submit(study, Audience.INTERNAL, 1)  # a sixth staff member: waits
    body = alice_client.get(f"/studies/{study.pk}/").content.decode()
    assert "5 of 12 staff answered." in body
    assert "1 newer answer is not counted yet" in body


def test_a_draft_hub_offers_edit_and_open(alice_client, draft):
    body = alice_client.get(f"/studies/{draft.pk}/").content.decode()
    assert f"/studies/{draft.pk}/edit/" in body
    assert f'action="/studies/{draft.pk}/open/"' in body
    assert "open the study" in body


def test_a_closed_hub_offers_reopen(alice_client, org_a):
    study = factories.make_study(org_a, status=Study.Status.CLOSED)
    body = alice_client.get(f"/studies/{study.pk}/").content.decode()
    assert f'action="/studies/{study.pk}/reopen/"' in body
    assert "read the gaps" in body


def test_the_hub_escapes_the_study_name(alice_client, org_a):
    study = factories.make_study(org_a, name="<b>bold</b>")
    body = alice_client.get(f"/studies/{study.pk}/").content.decode()
    assert "<b>bold</b>" not in body


def test_the_hub_keeps_a_marked_place_for_each_helpers_links():
    template = Path(django_settings.BASE_DIR, "templates/surveys/study_detail.html")
    text = template.read_text()
    for marker in (
        "{# links: staff (B) #}",
        "{# links: invitations and rates (C) #}",
        "{# links: dashboard and actions (D) #}",
    ):
        assert text.count(marker) == 1


# --- permissions -------------------------------------------------------------

PAGES = [
    ("get", "/studies/"),
    ("get", "/studies/new/"),
    ("get", "/studies/{study}/"),
    ("get", "/studies/{study}/edit/"),
    ("post", "/studies/{study}/open/"),
    ("post", "/studies/{study}/close/"),
    ("post", "/studies/{study}/reopen/"),
]


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_anonymous_people_are_sent_to_log_in(client, draft, method, url):
    response = getattr(client, method)(url.format(study=draft.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_staff_are_refused(bob_client, draft, method, url):
    # A page about an object is a 404 to staff; the others explain with a 403.
    expected = 404 if "{" in url else 403
    assert (
        getattr(bob_client, method)(url.format(study=draft.pk)).status_code == expected
    )
    draft.refresh_from_db()
    assert draft.status == Study.Status.DRAFT


@pytest.mark.parametrize(("method", "url"), [p for p in PAGES if "{" in p[1]])
def test_another_organizations_study_is_a_404(charlie_client, draft, method, url):
    response = getattr(charlie_client, method)(url.format(study=draft.pk))
    assert response.status_code == 404
    draft.refresh_from_db()
    assert draft.status == Study.Status.DRAFT


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_alice_reaches_every_page(alice_client, draft, method, url):
    response = getattr(alice_client, method)(url.format(study=draft.pk))
    assert response.status_code in (200, 302)


@pytest.mark.parametrize(("method", "url"), [p for p in PAGES if p[0] == "post"])
def test_post_only_pages_refuse_get(alice_client, draft, method, url):
    assert alice_client.get(url.format(study=draft.pk)).status_code == 405


def test_a_staff_member_of_several_organizations_is_a_manager_where_active(
    alice, bob, org_b, draft
):
    """Managing one organization does not open another's studies."""
    from surveys.models import Membership, Role

    Membership.objects.create(user=bob.user, organization=org_b, role=Role.MANAGER)
    client = Client()
    client.force_login(bob.user)
    client.post("/organization/switch/", {"organization": org_b.pk})
    assert client.get("/studies/").status_code == 200
    assert client.get(f"/studies/{draft.pk}/").status_code == 404


# --- the whole cycle from an empty database -------------------------------------


def test_create_organization_and_the_browser_are_enough_for_a_whole_cycle(settings):
    call_command("loaddata", "default_questionnaire", verbosity=0)
    default = Questionnaire.objects.get(organization=None)
    out = StringIO()
    call_command(
        "create_organization", "Fresh Co", "--manager", "boss@fresh.example", stdout=out
    )
    link = re.search(r"http://\S+/accounts/reset/\S+/", out.getvalue()).group(0)
    browser = Client()
    page = browser.get(link.replace(settings.SITE_URL, ""), follow=True)
    password = "a-long-fresh-passphrase"
    browser.post(
        page.redirect_chain[-1][0],
        {"new_password1": password, "new_password2": password},
    )
    assert browser.login(username="boss@fresh.example", password=password)
    assert browser.get("/", follow=True).redirect_chain[-1][0] == "/studies/"

    response = browser.post(f"/questionnaires/{default.pk}/copy/")
    copy = Questionnaire.objects.get(organization__name="Fresh Co")
    assert copy.items.count() == default.items.count()

    response = browser.post("/studies/new/", study_data(copy))
    study = Study.objects.get(organization__name="Fresh Co")
    assert response["Location"] == f"/studies/{study.pk}/"
    browser.post(f"/studies/{study.pk}/open/", {"confirm": "yes"})
    study.refresh_from_db()
    assert study.status == Study.Status.OPEN
    browser.post(f"/studies/{study.pk}/close/")
    study.refresh_from_db()
    assert study.status == Study.Status.CLOSED
    actions = list(
        AuditEvent.objects.filter(organization=study.organization)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "organization_create",
        "questionnaire_copy",
        "study_create",
        "study_open",
        "study_close",
    ]
