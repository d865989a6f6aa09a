"""`manage.py demo` builds a realistic, idempotent demo organization."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import Avg
from django.utils import timezone

from surveys.models import (
    Action,
    Answer,
    Audience,
    Contact,
    Gap,
    Invitation,
    Membership,
    Organization,
    Response,
    Study,
)
from surveys.services.invitations import invitation_token_new

pytestmark = pytest.mark.django_db

MODELS = (Organization, Membership, Contact, Study, Invitation, Response, Answer)


@pytest.fixture
def demo_output():
    call_command("loaddata", "default_questionnaire", verbosity=0)
    out = StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (*MODELS, Action)}


def test_running_it_twice_gives_the_same_counts(demo_output):
    before = counts()
    call_command("demo", stdout=StringIO())
    assert counts() == before


def test_it_prints_logins_that_work(demo_output):
    assert "manager@demo.example" in demo_output
    assert authenticate(username="manager@demo.example", password="gapsurvey-manager")
    assert authenticate(username="staff1@demo.example", password="gapsurvey-staff")


def test_it_has_departments_segments_staff_and_about_200_contacts(demo_output):
    organization = Organization.objects.get(slug="demo")
    assert 3 <= organization.departments.count() <= 4
    assert 3 <= organization.segments.count() <= 4
    assert organization.memberships.filter(role="staff").count() >= 10
    assert 180 <= organization.contacts.count() <= 220


def perception_studies():
    """The two waves on the default questionnaire (the third study, the
    expectations pilot, has tests of its own)."""
    return Study.objects.filter(questionnaire__mode="perception")


def test_it_has_one_closed_earlier_study_and_one_open_study(demo_output):
    closed, opened = perception_studies().order_by("opens_on")
    assert closed.status == Study.Status.CLOSED
    assert opened.status == Study.Status.OPEN
    assert closed.closes_on < opened.opens_on


def test_staff_rate_themselves_higher_than_customers_on_most_gaps(demo_output):
    study = perception_studies().get(status=Study.Status.OPEN)
    means = {
        (row["response__audience"], row["item__gap"]): row["mean"]
        for row in Answer.objects.filter(
            response__study=study, response__status="submitted"
        )
        .values("response__audience", "item__gap")
        .annotate(mean=Avg("value"))
    }
    deltas = [
        means[(Audience.INTERNAL, gap)] - means[(Audience.CUSTOMER, gap)] for gap in Gap
    ]
    assert sum(delta > 0 for delta in deltas) >= 4
    assert max(deltas) - min(deltas) > 0.5  # by different amounts per gap


def test_it_has_dont_knows_comments_drafts_and_unanswered_invitations(demo_output):
    study = perception_studies().get(status=Study.Status.OPEN)
    assert Answer.objects.filter(response__study=study, value__isnull=True).exists()
    assert Response.objects.filter(study=study).exclude(comment="").exists()
    assert Response.objects.filter(study=study, status="draft").exists()
    assert Invitation.objects.filter(study=study, responded_at__isnull=True).exists()


def test_unanswered_demo_invitations_carry_working_links(demo_output, client):
    invitation = (
        Invitation.objects.filter(
            study__in=perception_studies(),
            study__status=Study.Status.OPEN,
            response=None,
        )
        .order_by("pk")
        .first()
    )
    token = invitation_token_new(
        study_id=invitation.study_id,
        contact_id=invitation.contact_id,
        created_at=invitation.created_at,
    )
    response = client.get(f"/s/{token}/")
    assert response.status_code == 200
    assert invitation.study.respondent_title in response.content.decode()


def test_the_logins_are_printed_with_the_servers_address(settings):
    """Issue 19.7: not port 8000 whatever the port: SITE_URL's."""
    settings.SITE_URL = "http://127.0.0.1:8123"
    call_command("loaddata", "default_questionnaire", verbosity=0)
    out = StringIO()
    call_command("demo", stdout=out)
    assert "Demo logins (http://127.0.0.1:8123/accounts/login/)" in out.getvalue()
    assert ":8000" not in out.getvalue()


def test_the_expectations_pilot_shows_a_clear_priority(demo_output):
    from analysis.priorities_view import priorities_context
    from surveys.services import snapshots

    study = Study.objects.get(questionnaire__mode="expectation")
    assert study.status == Study.Status.OPEN
    context = priorities_context(study, snapshots.published(study))
    first = context["act_first"][0]
    assert first["area"] == "reliability" and not first["uncertain"]
    areas = {row["area"]: row for row in context["areas"]}
    assert areas["reliability"]["quadrant"] == "concentrate here"
    # Tangibles: beyond expectations, and the least important.
    assert areas["tangibles"]["gap_d"]["mean"] > 0
    assert areas["tangibles"]["quadrant"] == "possible overkill"
    assert context["score"]["weighted"]["shown"]


def test_the_open_wave_has_follow_up_rules_and_cases_in_every_status(demo_output):
    from surveys.models import Case
    from surveys.services.followup import FollowUpRules

    study = Study.objects.get(
        organization__slug="demo",
        status=Study.Status.OPEN,
        questionnaire__mode="perception",
    )
    assert FollowUpRules.of(study).enabled
    cases = Case.objects.filter(study=study)
    assert set(cases.values_list("status", flat=True)) == {
        "new",
        "contacted",
        "resolved",
        "closed",
    }
    staff1 = Membership.objects.get(user__email="staff1@demo.example")
    assert cases.filter(owner=staff1.user).exists()
    for case in cases:
        assert case.due_at > case.opened_at
        assert case.response.invitation.contact_id == case.contact_id
        assert case.first_contact_at is None or case.first_contact_at <= timezone.now()
        assert case.resolved_at is None or case.resolved_at <= timezone.now()
        assert case.closed_at is None or case.closed_at <= timezone.now()
