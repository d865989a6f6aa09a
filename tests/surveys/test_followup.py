"""Closing the loop: consent, follow-up rules, cases, who sees them, their mails,
response times, data rights (issue 18)."""

import datetime
import threading

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from surveys.forms.answers import item_field_name
from surveys.models import (
    Action,
    AuditEvent,
    Case,
    CaseEvent,
    Contact,
    FollowUpDigest,
    Gap,
    Response,
    Role,
    Study,
)
from surveys.services import followup
from surveys.services.followup import FollowUpError, FollowUpRules
from surveys.services.rights import contact_erase
from tests import factories

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = IMMEDIATE


def set_rules(study, owner, **overrides) -> FollowUpRules:
    values = {
        "enabled": True,
        "trigger": followup.Trigger.LOW,
        "threshold": 3,
        "due_hours": 48,
        "owner_id": owner.pk,
        "segment_owner_ids": {},
        "mail_customer": True,
    }
    values.update(overrides)
    return followup.followup_rules_set(study=study, actor=None, **values)


def answers(study, value="2", **extra) -> dict:
    data = {item_field_name(item): value for item in study.questionnaire.items.all()}
    data["comment"] = "The parcel came late twice."
    data.update(extra)
    return data


def consent(**extra) -> dict:
    return {"contact_ok": "on", "contact_channel": "email", **extra}


@pytest.fixture
def segment(org_a):
    return factories.make_segment(org_a, "Retail")


@pytest.fixture
def open_study(study_a, alice):
    set_rules(study_a, alice.user)
    study_a.refresh_from_db()
    return study_a


@pytest.fixture
def invited(open_study, segment):
    contact = factories.make_contact(
        open_study.organization,
        email="pat@example.com",
        name="Pat Lowscore",
        segment=segment,
    )
    invitation, token = factories.make_invitation(open_study, contact)
    return invitation, token


def submit(token, data, client=None):
    return (client or Client()).post(reverse("survey", args=[token]), data)


# --- 1. consent on the customer form ---------------------------------------------


def test_the_form_asks_for_consent_only_when_the_study_follows_up(study_a, client):
    _, token = factories.make_invitation(study_a)
    html = client.get(reverse("survey", args=[token])).content.decode()
    assert 'data-testid="consent"' not in html


def test_consent_is_asked_and_no_by_default(invited, client):
    _, token = invited
    html = client.get(reverse("survey", args=[token])).content.decode()
    assert "May we contact you about your answers?" in html
    assert 'name="contact_ok"' in html
    assert 'name="contact_ok" checked' not in html
    assert "checked" not in html.split('name="contact_ok"')[1].split(">")[0]


def test_without_consent_no_case_and_no_identity_anywhere(
    invited, open_study, alice_client, bob_client, immediate_tasks
):
    _, token = invited
    mail.outbox.clear()
    assert submit(token, answers(open_study, "1")).status_code == 302
    assert Response.objects.filter(study=open_study, status="submitted").count() == 1
    assert not Case.objects.exists()
    assert mail.outbox == []
    pages = [
        alice_client.get(reverse("case_list")),
        alice_client.get(reverse("my_cases")),
        bob_client.get(reverse("my_cases")),
        alice_client.get(reverse("study_detail", args=[open_study.pk])),
        alice_client.get(reverse("dashboard", args=[open_study.pk])),
    ]
    export = alice_client.get(reverse("case_export"))
    texts = [page.content.decode() for page in pages]
    texts.append(b"".join(export.streaming_content).decode())
    for text in texts:
        assert "pat@example.com" not in text
        assert "Pat Lowscore" not in text
        assert "came late twice" not in text


def test_consent_is_kept_on_the_case_beside_the_response_not_on_the_contact(
    invited, open_study
):
    invitation, token = invited
    data = answers(open_study, "2") | consent(
        contact_channel="phone", contact_phone="+44 20 7946 0000"
    )
    assert submit(token, data).status_code == 302
    case = Case.objects.get()
    assert case.response.invitation_id == invitation.pk
    assert (case.channel, case.phone) == ("phone", "+44 20 7946 0000")
    contact = Contact.objects.get(pk=invitation.contact_id)
    assert contact.opted_out_at is None


def test_a_yes_whose_answers_open_no_case_is_not_kept(invited, open_study):
    _, token = invited
    data = answers(open_study, "6") | consent(
        contact_channel="phone", contact_phone="+44 20 7946 0000"
    )
    assert submit(token, data).status_code == 302
    assert not Case.objects.exists()
    response = Response.objects.get(status="submitted")
    assert "7946" not in str(Response.objects.filter(pk=response.pk).values().get())


def test_phone_chosen_without_a_number_is_refused_and_nothing_is_written(
    invited, open_study
):
    _, token = invited
    page = submit(token, answers(open_study, "1") | consent(contact_channel="phone"))
    assert page.status_code == 400
    assert "Give a phone number" in page.content.decode()
    assert not Response.objects.filter(status="submitted").exists()
    assert not Case.objects.exists()


def test_a_malformed_phone_number_is_refused(invited, open_study):
    _, token = invited
    data = answers(open_study, "1") | consent(
        contact_channel="phone", contact_phone="<script>"
    )
    page = submit(token, data)
    assert page.status_code == 400
    assert "Write the phone number with digits" in page.content.decode()
    assert (
        "<script>"
        not in page.content.decode()
        .split("</form>")[0]
        .split('name="contact_phone"')[1][:80]
    )


# --- 2. follow-up rules -----------------------------------------------------------


def rules_post(owner, **overrides) -> dict:
    data = {
        "enabled": "on",
        "trigger": "low",
        "threshold": "3",
        "due_hours": "48",
        "owner": str(owner.pk),
        "mail_customer": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_a_manager_sets_the_rules_on_the_study_page(alice_client, study_a, alice):
    url = reverse("followup_rules", args=[study_a.pk])
    assert alice_client.get(url).status_code == 200
    segment = factories.make_segment(study_a.organization, "Trade")
    bob_user = factories.make_member(study_a.organization, Role.STAFF).user
    data = rules_post(alice.user, **{f"segment_{segment.pk}": str(bob_user.pk)})
    assert alice_client.post(url, data).status_code == 302
    study_a.refresh_from_db()
    rules = FollowUpRules.of(study_a)
    assert rules.enabled and rules.threshold == 3 and rules.owner == alice.user.pk
    assert rules.owner_for(segment.pk) == bob_user.pk
    assert rules.owner_for(None) == alice.user.pk
    page = alice_client.get(reverse("study_detail", args=[study_a.pk]))
    assert "at or below 3" in page.content.decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("threshold", "8", "The threshold must be on the scale, from 1 to 7."),
        ("threshold", "0", "The threshold must be on the scale, from 1 to 7."),
        ("due_hours", "0", "The due time must be at least one hour."),
        ("due_hours", "-5", "The due time must be at least one hour."),
    ],
)
def test_bad_rules_get_a_clear_message_and_change_nothing(
    alice_client, study_a, alice, field, value, message
):
    url = reverse("followup_rules", args=[study_a.pk])
    page = alice_client.post(url, rules_post(alice.user, **{field: value}))
    assert page.status_code == 400
    assert message in page.content.decode()
    study_a.refresh_from_db()
    assert study_a.followup_rules == {}


def test_an_owner_from_another_organization_is_refused(
    alice_client, study_a, alice, charlie
):
    url = reverse("followup_rules", args=[study_a.pk])
    page = alice_client.post(url, rules_post(charlie.user))
    assert page.status_code == 400
    study_a.refresh_from_db()
    assert study_a.followup_rules == {}
    with pytest.raises(FollowUpError, match="member of your organization"):
        set_rules(study_a, charlie.user)
    outsider = factories.make_user()
    with pytest.raises(FollowUpError, match="member of your organization"):
        set_rules(study_a, outsider)


def test_rules_are_editable_while_open_but_not_once_closed(study_a, alice):
    set_rules(study_a, alice.user, due_hours=24)
    study_a.refresh_from_db()
    assert FollowUpRules.of(study_a).due_hours == 24
    Study.objects.filter(pk=study_a.pk).update(status=Study.Status.CLOSED)
    with pytest.raises(FollowUpError, match="closed"):
        set_rules(study_a, alice.user, due_hours=12)


# --- 3. cases ---------------------------------------------------------------------


@freeze_time("2026-03-02 09:00:00")
def test_a_consenting_low_scorer_opens_one_case_with_owner_and_due_time(
    invited, open_study, alice
):
    invitation, token = invited
    assert submit(token, answers(open_study, "2") | consent()).status_code == 302
    case = Case.objects.get()
    assert case.response.invitation_id == invitation.pk
    assert case.contact_id == invitation.contact_id
    assert case.owner == alice.user
    assert case.status == Case.Status.NEW
    assert case.opened_at == timezone.now()
    assert case.due_at == timezone.now() + datetime.timedelta(hours=48)
    assert "at or below 3" in case.trigger
    assert case.segment.name == "Retail"


def test_the_segment_owner_wins_over_the_fallback(invited, open_study, alice, bob):
    set_rules(open_study, alice.user, segment_owner_ids={})
    segment = Contact.objects.get(pk=invited[0].contact_id).segment
    set_rules(open_study, alice.user, segment_owner_ids={segment.pk: bob.user.pk})
    invitation = invited[0]
    invitation.study.refresh_from_db()
    _, token = invited
    submit(token, answers(open_study, "1") | consent())
    assert Case.objects.get().owner == bob.user


def test_always_opens_a_case_for_anyone_who_consents(invited, open_study, alice):
    set_rules(open_study, alice.user, trigger="always", threshold=None)
    _, token = invited
    submit(token, answers(open_study, "7") | consent())
    assert Case.objects.get().trigger == "Asked to be contacted"


def test_a_low_overall_rating_opens_a_case_whatever_the_areas(
    invited, open_study, alice
):
    """The rule's threshold applies to the overall rating too, when the
    questionnaire asks for one: high area scores, a low overall rating."""
    questionnaire = open_study.questionnaire
    questionnaire.ask_overall = True
    questionnaire.save()
    _, token = invited
    page = submit(token, answers(open_study, "6") | {"overall": "2"} | consent())
    assert page.status_code == 302
    assert Case.objects.get().trigger == "Overall rating: 2, at or below 3"


def test_a_high_overall_rating_and_high_areas_open_no_case(invited, open_study):
    questionnaire = open_study.questionnaire
    questionnaire.ask_overall = True
    questionnaire.save()
    _, token = invited
    page = submit(token, answers(open_study, "6") | {"overall": "6"} | consent())
    assert page.status_code == 302
    assert not Case.objects.exists()


def test_area_scores_use_dimensions_when_every_item_has_one(open_study):
    items = list(open_study.questionnaire.items.all())
    for i, item in enumerate(items):
        item.dimension = "reliability" if i < 2 else "empathy"
    given = {items[0].pk: 1, items[1].pk: 2, items[2].pk: 7}
    for item in items[3:]:
        given[item.pk] = None
    assert followup.area_scores(given, items) == {"reliability": 1.5, "empathy": 7}
    rules = FollowUpRules(enabled=True, threshold=2)
    assert followup.trigger_for(rules, given, items) == (
        "Reliability: 1.5, at or below 2"
    )


@pytest.fixture
def case(open_study, alice):
    return factories.make_case(
        open_study,
        contact=factories.make_contact(open_study.organization, name="Robin"),
        owner=alice.user,
    )


def test_resolving_a_new_case_needs_a_note_of_what_was_done(case, alice):
    with pytest.raises(FollowUpError, match="say what was done"):
        followup.case_resolve(case=case, actor=alice.user)
    case.refresh_from_db()
    assert case.status == Case.Status.NEW and not case.events.exists()
    followup.case_resolve(case=case, actor=alice.user, note="Refunded the fee.")
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED
    assert case.first_contact_at == case.resolved_at


def test_status_moves_are_timed_and_on_the_timeline_with_who(case, alice):
    with freeze_time(case.opened_at + datetime.timedelta(hours=5)):
        followup.case_contacted(case=case, actor=alice.user, note="Called Robin.")
    with freeze_time(case.opened_at + datetime.timedelta(hours=30)):
        followup.case_resolve(case=case, actor=alice.user)
    case.refresh_from_db()
    assert case.first_contact_at - case.opened_at == datetime.timedelta(hours=5)
    assert case.resolved_at - case.opened_at == datetime.timedelta(hours=30)
    events = list(case.events.values_list("kind", "actor_id", "text"))
    assert events == [
        ("contacted", alice.user.pk, "Called Robin."),
        ("resolved", alice.user.pk, ""),
    ]


def test_a_note_on_a_resolved_case_is_refused(case, alice, alice_client):
    followup.case_resolve(case=case, actor=alice.user, note="Done.")
    page = alice_client.post(reverse("case_note", args=[case.pk]), {"text": "More"})
    assert page.status_code == 400
    assert "it takes no more notes" in page.content.decode()
    assert case.events.count() == 1


@pytest.mark.parametrize(
    ("first", "to", "note", "message"),
    [
        (None, "resolved", "", "say what was done"),
        (None, "closed", "", "Say why the case is closed"),
        ("contacted", "closed", "No answer", "Only a case nobody has contacted"),
        ("contacted", "contacted", "", "Only a new case can be marked contacted"),
    ],
)
def test_status_jumps_that_make_no_sense_are_refused(
    case, alice, alice_client, first, to, note, message
):
    if first:
        followup.case_contacted(case=case, actor=alice.user)
    before = case.events.count()
    page = alice_client.post(
        reverse("case_status", args=[case.pk]), {"to": to, "note": note}
    )
    assert page.status_code == 400
    assert message in page.content.decode()
    assert case.events.count() == before


def test_closing_without_contact_keeps_the_reason(case, alice, alice_client):
    page = alice_client.post(
        reverse("case_status", args=[case.pk]),
        {"to": "closed", "note": "Wrong number twice"},
    )
    assert page.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED and case.closed_at
    assert case.close_reason == "Wrong number twice"


def test_the_case_page_shows_contact_answers_in_customer_wording_and_comment(
    invited, open_study, alice_client
):
    _, token = invited
    data = answers(open_study, "2") | consent(
        contact_channel="phone", contact_phone="0123 456 789"
    )
    submit(token, data)
    case = Case.objects.get()
    html = alice_client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "Pat Lowscore" in html and "pat@example.com" in html
    assert "0123 456 789" in html and "Phone" in html
    item = open_study.questionnaire.items.first()
    assert item.customer_text in html
    assert item.internal_text not in html
    assert "The parcel came late twice." in html


def test_a_case_raises_an_action_linked_both_ways(case, alice, alice_client):
    page = alice_client.post(
        reverse("case_action", args=[case.pk]),
        {"gap": Gap.DELIVERY, "description": "Check the courier's slots"},
    )
    assert page.status_code == 302
    case.refresh_from_db()
    action = Action.objects.get()
    assert case.action == action and list(action.cases.all()) == [case]
    assert action.study_id == case.study_id and action.gap == Gap.DELIVERY
    listing = alice_client.get(reverse("action_list")).content.decode()
    assert reverse("case_detail", args=[case.pk]) in listing
    detail = alice_client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert reverse("action_edit", args=[action.pk]) in detail


def test_one_case_per_response_is_a_database_constraint(case):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        factories.make_case(case.study, response=case.response)


# --- 4. who sees what ---------------------------------------------------------------


def test_staff_see_only_their_own_cases(case, bob, bob_client, open_study):
    mine = factories.make_case(open_study, owner=bob.user)
    listing = bob_client.get(reverse("my_cases")).content.decode()
    assert reverse("case_detail", args=[mine.pk]) in listing
    assert reverse("case_detail", args=[case.pk]) not in listing
    assert bob_client.get(reverse("case_detail", args=[mine.pk])).status_code == 200
    assert bob_client.get(reverse("case_detail", args=[case.pk])).status_code == 404
    assert bob_client.get(reverse("case_list")).status_code == 403
    assert bob_client.get(reverse("case_export")).status_code == 403
    page = bob_client.post(reverse("case_note", args=[case.pk]), {"text": "x"})
    assert page.status_code == 404


def test_an_owner_who_is_staff_works_their_case(open_study, bob, bob_client):
    mine = factories.make_case(open_study, owner=bob.user)
    page = bob_client.post(
        reverse("case_status", args=[mine.pk]), {"to": "contacted", "note": "Rang"}
    )
    assert page.status_code == 302
    mine.refresh_from_db()
    assert mine.status == Case.Status.CONTACTED
    # Assigning and raising actions are for managers.
    assert (
        bob_client.post(
            reverse("case_assign", args=[mine.pk]), {"owner": bob.user.pk}
        ).status_code
        == 403
    )


def test_managers_see_every_case_of_their_organization_and_filter(
    case, open_study, bob, alice_client, charlie_client
):
    other = factories.make_case(open_study, owner=bob.user)
    url = reverse("case_list")
    html = alice_client.get(url).content.decode()
    assert f"Case #{case.pk}" in html and f"Case #{other.pk}" in html
    html = alice_client.get(url, {"owner": bob.user.pk}).content.decode()
    assert f"Case #{other.pk}<" in html and f"Case #{case.pk}<" not in html
    html = alice_client.get(url, {"status": "resolved"}).content.decode()
    assert 'data-testid="no-cases"' in html
    assert charlie_client.get(reverse("case_detail", args=[case.pk])).status_code == 404
    assert f"Case #{case.pk}<" not in charlie_client.get(url).content.decode()


def test_the_overdue_filter(open_study, alice, alice_client):
    late = factories.make_case(
        open_study,
        owner=alice.user,
        opened_at=timezone.now() - datetime.timedelta(days=3),
    )
    fresh = factories.make_case(open_study, owner=alice.user)
    html = alice_client.get(reverse("case_list"), {"overdue": "on"}).content.decode()
    assert f"Case #{late.pk}<" in html and f"Case #{fresh.pk}<" not in html


# --- 5. mail ----------------------------------------------------------------------


def test_the_owner_is_mailed_when_a_case_opens_and_when_reassigned(
    invited,
    open_study,
    alice,
    bob,
    alice_client,
    immediate_tasks,
    django_capture_on_commit_callbacks,
):
    _, token = invited
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        submit(token, answers(open_study, "1") | consent())
    case = Case.objects.get()
    [message] = mail.outbox
    assert message.to == [alice.user.email]
    assert reverse("case_detail", args=[case.pk]) in message.body
    assert "pat@example.com" not in message.body and "Pat" not in message.body
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(
            reverse("case_assign", args=[case.pk]), {"owner": bob.user.pk}
        )
    assert mail.outbox[-1].to == [bob.user.email]
    assert len(mail.outbox) == 2


def test_the_digest_mails_each_owner_their_overdue_cases_once_a_day(
    open_study, alice, bob
):
    start = timezone.now()
    overdue = factories.make_case(
        open_study, owner=alice.user, opened_at=start - datetime.timedelta(hours=49)
    )
    factories.make_case(open_study, owner=alice.user, opened_at=start)  # not due
    done = factories.make_case(
        open_study, owner=bob.user, opened_at=start - datetime.timedelta(hours=60)
    )
    followup.case_contacted(case=done, actor=bob.user)
    mail.outbox.clear()
    with freeze_time(start):
        call_command("send_followup_digest", stdout=open("/dev/null", "w"))
        call_command("send_followup_digest", stdout=open("/dev/null", "w"))
    [message] = mail.outbox
    assert message.to == [alice.user.email]
    assert reverse("case_detail", args=[overdue.pk]) in message.body
    assert "1 overdue case" in message.subject
    with freeze_time(start + datetime.timedelta(hours=2)):
        call_command("send_followup_digest", stdout=open("/dev/null", "w"))
    assert len(mail.outbox) == 1
    with freeze_time(start + datetime.timedelta(days=1)):
        call_command("send_followup_digest", stdout=open("/dev/null", "w"))
    assert len(mail.outbox) == 2
    assert FollowUpDigest.objects.count() == 2


def test_a_failed_digest_is_retried_by_the_next_run(open_study, alice, monkeypatch):
    factories.make_case(
        open_study,
        owner=alice.user,
        opened_at=timezone.now() - datetime.timedelta(hours=50),
    )
    from django.core.mail import EmailMultiAlternatives

    real_send = EmailMultiAlternatives.send

    def broken(self, *a, **kw):
        raise OSError("SMTP down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", broken)
    with pytest.raises(OSError):
        followup.followup_digests_deliver()
    assert not FollowUpDigest.objects.exists()
    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    assert followup.followup_digests_deliver().sent == 1


def _resolve_with_note(case, alice, client, capture, note="We moved your slot."):
    with capture(execute=True):
        return client.post(
            reverse("case_status", args=[case.pk]),
            {"to": "resolved", "note": "Called", "customer_note": note},
        )


def test_a_resolved_case_mails_the_customer_the_owners_note(
    case, alice, alice_client, immediate_tasks, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    page = _resolve_with_note(
        case, alice, alice_client, django_capture_on_commit_callbacks
    )
    assert page.status_code == 302
    [message] = mail.outbox
    assert message.to == [f"Robin <{case.contact.email}>"]
    assert "We moved your slot." in message.body
    case.refresh_from_db()
    assert case.customer_mailed_at is not None
    assert case.events.filter(kind=CaseEvent.Kind.MAILED).exists()
    # Safe to repeat: the task finds it mailed.
    assert followup.case_closing_deliver(case.pk) is False


def test_an_opted_out_customer_gets_no_closing_mail(
    case, alice, alice_client, immediate_tasks, django_capture_on_commit_callbacks
):
    Contact.objects.filter(pk=case.contact_id).update(opted_out_at=timezone.now())
    mail.outbox.clear()
    _resolve_with_note(case, alice, alice_client, django_capture_on_commit_callbacks)
    assert mail.outbox == []
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED and case.customer_note == ""


def test_no_closing_mail_when_the_rules_say_so(
    case, alice, alice_client, immediate_tasks, django_capture_on_commit_callbacks
):
    set_rules(case.study, alice.user, mail_customer=False)
    mail.outbox.clear()
    _resolve_with_note(case, alice, alice_client, django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_names_in_mails_are_escaped_and_stay_out_of_headers(
    case, alice, immediate_tasks, django_capture_on_commit_callbacks
):
    Study.objects.filter(pk=case.study_id).update(
        name="<b>Wave</b>\nBcc: evil@example.com"
    )
    Contact.objects.filter(pk=case.contact_id).update(name="Robin\r\nBcc: x@y.z")
    case.refresh_from_db()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        followup.case_assign(case=case, actor=alice.user, owner_id=alice.user.pk)
        followup.case_resolve(
            case=case, actor=alice.user, note="x", customer_note="<i>Sorry</i>"
        )
    followup.case_assignment_deliver(case.pk)
    for message in mail.outbox:
        assert "\n" not in message.subject
        assert message.bcc == []
        html = message.alternatives[0][0]
        assert "<b>Wave" not in html and "<i>Sorry" not in html


# --- 6. response times and export ---------------------------------------------------


def _row(opened, due_h, first_h=None, resolved_h=None, segment="Retail", dept="Ops"):
    return {
        "status": "resolved" if resolved_h else "new",
        "opened_at": opened,
        "due_at": opened + datetime.timedelta(hours=due_h),
        "first_contact_at": opened + datetime.timedelta(hours=first_h)
        if first_h is not None
        else None,
        "resolved_at": opened + datetime.timedelta(hours=resolved_h)
        if resolved_h is not None
        else None,
        "segment_name": segment,
        "owner_department": dept,
    }


def test_response_times_on_hand_built_cases():
    from analysis.followup import closed_loop_summary, response_times

    t0 = datetime.datetime(2026, 3, 1, 9, tzinfo=datetime.UTC)
    now = t0 + datetime.timedelta(days=10)
    rows = [
        _row(t0, 48, 2, 10),
        _row(t0, 48, 6, 30),
        _row(t0, 48, 50),  # late
        _row(t0, 48),  # never contacted, past due
        _row(now - datetime.timedelta(hours=1), 48),  # not due yet: undecided
        _row(t0, 48, 4, 20, segment="Trade", dept=None),
    ]
    figures = response_times(rows, now)
    assert figures["opened"] == 6
    assert figures["decided"] == 5
    assert figures["in_time"] == 3
    assert figures["in_time_share"] == pytest.approx(0.6)
    assert figures["median_first_contact_hours"] == pytest.approx(5.0)  # 2,4,6,50
    assert figures["median_resolution_hours"] == pytest.approx(20.0)  # 10,20,30
    summary = closed_loop_summary(rows, k=5, now=now)
    retail, trade = summary["segments"]
    assert retail["group"] == "Retail" and not retail["suppressed"]
    assert trade == {"group": "Trade", "suppressed": True, "opened": 1}
    assert summary["departments"][1] == {"group": None, "suppressed": True, "opened": 1}


def test_the_dashboard_shows_the_closed_loop_panel(open_study, alice, alice_client):
    Study.objects.filter(pk=open_study.pk).update(min_group_size=3)
    for hours in (1, 2, 3):
        c = factories.make_case(
            open_study,
            owner=alice.user,
            opened_at=timezone.now() - datetime.timedelta(hours=10),
        )
        with freeze_time(c.opened_at + datetime.timedelta(hours=hours)):
            followup.case_contacted(case=c, actor=alice.user)
    html = alice_client.get(reverse("dashboard", args=[open_study.pk])).content.decode()
    assert 'data-testid="closed-loop"' in html
    panel = html.split('data-testid="closed-loop-table"')[1].split("</table>")[0]
    assert "All cases" in panel and "100%" in panel and "2.0" in panel


def test_small_groups_show_counts_only(open_study, alice, alice_client):
    factories.make_case(open_study, owner=alice.user)
    html = alice_client.get(reverse("dashboard", args=[open_study.pk])).content.decode()
    panel = html.split('data-testid="closed-loop-table"')[1].split("</table>")[0]
    assert "Times shown from 5 cases" in panel


def test_the_case_export_is_formula_safe_and_filtered(
    open_study, alice, bob, alice_client
):
    Study.objects.filter(pk=open_study.pk).update(name="=HYPERLINK(1)")
    a = factories.make_case(open_study, owner=alice.user, trigger="+cmd|' /C calc'!A0")
    factories.make_case(open_study, owner=bob.user)
    response = alice_client.get(reverse("case_export"), {"owner": alice.user.pk})
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = text.strip().split("\r\n")
    assert lines[0].startswith("case,study,status")
    assert len(lines) == 2
    assert lines[1].startswith(f"{a.pk},'=HYPERLINK(1),New")
    assert "'+cmd" in lines[1]
    assert a.contact.email not in text
    assert AuditEvent.objects.filter(action="cases_export").exists()


# --- 7. data rights and audit -----------------------------------------------------


def test_erasing_a_contact_erases_their_cases_identity_and_notes(
    invited, open_study, alice, alice_client
):
    invitation, token = invited
    submit(
        token,
        answers(open_study, "1")
        | consent(contact_channel="phone", contact_phone="0123 456 789"),
    )
    case = Case.objects.get()
    followup.case_note_add(case=case, actor=alice.user, text="Pat prefers mornings")
    contact = Contact.objects.get(pk=invitation.contact_id)
    contact_erase(contact=contact, actor=alice.user)
    case.refresh_from_db()
    assert case.contact_id is None and case.response_id is None
    assert case.erased_at is not None and case.phone == ""
    assert set(case.events.values_list("text", flat=True)) == {""}
    html = alice_client.get(reverse("case_detail", args=[case.pk])).content.decode()
    for secret in ("Pat", "pat@example.com", "0123 456 789", "came late", "mornings"):
        assert secret not in html
    assert 'data-testid="case-erased"' in html
    # The case still counts for the response times.
    assert Case.objects.filter(study=open_study).count() == 1


def test_case_events_are_in_the_audit_log(case, alice, alice_client):
    followup.case_note_add(case=case, actor=alice.user, text="Robin's new address")
    followup.case_contacted(case=case, actor=alice.user)
    actions = list(
        AuditEvent.objects.filter(detail__case_id=case.pk).values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["case_contacted", "case_note"]
    page = alice_client.get(reverse("audit_log"), {"kind": "cases"}).content.decode()
    assert "Logged contact on a case" in page
    assert "Robin" not in page  # notes stay out of the audit log


# --- 10. the submit ---------------------------------------------------------------


def _submit_queries(token, data) -> int:
    client = Client()
    with CaptureQueriesContext(connection) as captured:
        assert submit(token, data, client).status_code == 302
    return len(captured.captured_queries)


def test_a_submit_opening_a_case_adds_at_most_two_queries(
    org_a, alice, django_assert_max_num_queries
):
    questionnaire = factories.make_questionnaire()
    plain = factories.make_study(org_a, questionnaire=questionnaire)
    followed = factories.make_study(org_a, questionnaire=questionnaire)
    set_rules(followed, alice.user)
    _, warm = factories.make_invitation(plain)
    _submit_queries(warm, answers(plain))  # items read into the process cache
    _, token = factories.make_invitation(plain)
    baseline = _submit_queries(token, answers(plain, "1"))

    low = answers(followed, "1")
    _, token = factories.make_invitation(followed)
    with django_assert_max_num_queries(baseline):
        submit(token, low)  # no consent: nothing more
    _, token = factories.make_invitation(followed)
    # Two inserts (the case, and the owner's mail's task row in the same
    # transaction), and here, inside the test's own transaction, a savepoint
    # and its release around them: in production that transaction is the
    # outermost and has none (see the test below, counted as production runs).
    with django_assert_max_num_queries(baseline + 4) as captured:
        submit(token, low | consent())
    statements = [q["sql"] for q in captured.captured_queries]
    assert sum(s.startswith('INSERT INTO "surveys_case"') for s in statements) == 1
    assert Case.objects.filter(study=followed).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_racing_submits_open_exactly_one_case(on_postgres):
    organization = factories.make_organization()
    owner = factories.make_member(organization, Role.MANAGER)
    study = factories.make_study(organization)
    set_rules(study, owner.user)
    _, token = factories.make_invitation(study, sent_at=timezone.now())
    data = answers(study, "1") | consent()
    barrier = threading.Barrier(2)
    statuses = []

    def go():
        try:
            barrier.wait(timeout=10)
            statuses.append(submit(token, data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=go) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 302]
    assert Response.objects.filter(study=study).count() == 1
    assert Case.objects.filter(study=study).count() == 1


# --- anonymity: a case shows one person's answers; no one else may fall out ---------


def test_known_respondents_beside_one_other_give_that_one_away():
    from surveys.disclosure import Release, disclosures

    released = [Release(cutoff=1, visible=frozenset({"a"}), total=True)]
    assert disclosures({("a", 1): 3}, released, 3) == []
    assert disclosures({("a", 1): 3}, released, 3, known={("a", 1): 2}) == [
        frozenset({("a", 1)})
    ]
    # All of them known, or enough others: nobody is given away.
    assert disclosures({("a", 1): 3}, released, 3, known={("a", 1): 3}) == []
    assert disclosures({("a", 1): 5}, released, 3, known={("a", 1): 2}) == []


def test_a_group_of_k_with_all_but_one_on_cases_is_not_published(org_a, alice):
    from surveys.services.snapshots import published, snapshot_publish

    study = factories.make_study(org_a, min_group_size=3)
    set_rules(study, alice.user, trigger="always", threshold=None)
    retail = factories.make_segment(org_a, "Retail")

    def customer(agrees: bool):
        contact = factories.make_contact(org_a, segment=retail)
        _, token = factories.make_invitation(study, contact)
        assert submit(token, answers(study, "3") | (consent() if agrees else {}))
        return contact

    customer(True)
    customer(True)
    customer(False)
    assert Case.objects.filter(study=study).count() == 2
    # Three answers, two of them on cases: the third would be the published
    # total minus what the case pages show. Nothing is published.
    assert snapshot_publish(study) is None
    assert published(study).answered("customer") is None
    customer(False)
    customer(False)
    snapshot = snapshot_publish(study)
    assert snapshot is not None
    assert published(study).answered("customer") == 5
    assert snapshot.state["known"]["respondents"]["customer"] == {str(retail.pk): 2}
    assert study.snapshot_entries.filter(known=True).count() == 2


def test_a_case_whose_answers_were_published_unknown_withholds_them(
    open_study, alice, alice_client
):
    from surveys.models import SnapshotEntry

    case = factories.make_case(open_study, owner=alice.user)
    SnapshotEntry.objects.create(
        response=case.response, study=open_study, seq=1, audience="customer"
    )
    html = alice_client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert 'data-testid="case-answers"' not in html
    assert "not shown" in html


CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT")


@pytest.mark.django_db(transaction=True)
def test_as_production_runs_it_a_case_and_its_queued_mail_add_two_statements():
    """The submit's own transaction the outermost (as in production), the
    database task backend, transaction control aside: the case's insert and the
    task's, nothing sent in the request."""
    organization = factories.make_organization()
    owner = factories.make_member(organization, Role.MANAGER)
    study = factories.make_study(organization)
    set_rules(study, owner.user)
    low = answers(study, "1")
    client = Client()
    _, warm = factories.make_invitation(study)
    submit(warm, low, client)

    def statements(data) -> int:
        _, token = factories.make_invitation(study)
        with CaptureQueriesContext(connection) as captured:
            assert submit(token, data, client).status_code == 302
        return sum(
            not q["sql"].lstrip().upper().startswith(CONTROL)
            for q in captured.captured_queries
        )

    mail.outbox.clear()
    without = statements(low)
    with_case = statements(low | consent())
    assert with_case - without <= 2
    assert Case.objects.filter(study=study).count() == 1
    assert mail.outbox == []  # the worker mails, not the request


def test_the_contacts_own_copy_holds_their_cases_the_managers_does_not(case, alice):
    from surveys.services.rights import contact_data

    followup.case_note_add(case=case, actor=alice.user, text="Prefers mornings")
    own = contact_data(case.contact)
    [held] = own["follow_up_cases"]
    assert held["status"] == "New"
    assert held["timeline"] == [
        {"what": "Note", "at": held["timeline"][0]["at"], "note": "Prefers mornings"}
    ]
    assert "follow_up_cases" not in contact_data(case.contact, answers=False)


def test_a_draft_then_a_submit_with_consent_opens_the_case(invited, open_study):
    _, token = invited
    first = answers(open_study, "2")
    item_names = [k for k in first if k.startswith("item_")]
    partial = {k: v for k, v in first.items() if k != item_names[0]}
    page = submit(token, partial | {"action": "later"})
    assert page.status_code == 302
    assert Response.objects.get().status == Response.Status.DRAFT
    assert submit(token, first | consent()).status_code == 302
    case = Case.objects.get()
    assert case.response.status == Response.Status.SUBMITTED


def test_an_owner_who_left_the_organization_is_not_mailed(case, alice, bob):
    from surveys.models import Membership

    Case.objects.filter(pk=case.pk).update(owner=bob.user)
    Membership.objects.filter(pk=bob.pk).delete()
    mail.outbox.clear()
    assert followup.case_assignment_deliver(case.pk) is False
    assert mail.outbox == []
