"""Every URL × every kind of visitor: anything not explicitly allowed is denied.

The URLs are read from the URL configuration itself, so a new page cannot be
forgotten: a URL name missing from ACCESS fails `test_every_url_is_classified`.
Visitors: anonymous, bob (staff of A), alice (manager of A), charlie (manager of
B) and a customer holding a personal link of A. Objects in the URLs are A's.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from surveys.audit import audit_record
from surveys.models import (
    Action,
    Gap,
    ImportJob,
    MembershipInvite,
    OrganizationLogo,
    Role,
)
from tests import factories

pytestmark = pytest.mark.django_db

ANONYMOUS, STAFF_A, MANAGER_A, MANAGER_B, CUSTOMER_A = (
    "anonymous",
    "staff_a",
    "manager_a",
    "manager_b",
    "customer_a",
)
ROLES = [ANONYMOUS, STAFF_A, MANAGER_A, MANAGER_B, CUSTOMER_A]

EVERYONE = frozenset(ROLES)
LOGGED_IN = frozenset({STAFF_A, MANAGER_A, MANAGER_B})
MEMBERS = frozenset({STAFF_A, MANAGER_A, MANAGER_B})
MANAGERS = frozenset({MANAGER_A, MANAGER_B})

# name: (kind, who may use it). "page" answers GET; "action" is POST-only.
# A manager of B may use a manager page only where it names no object of A.
ACCESS: dict[str, tuple[str, frozenset]] = {
    # accounts
    "login": ("page", EVERYONE),
    "logout": ("action", EVERYONE),
    "password_change": ("page", LOGGED_IN),
    "password_change_done": ("page", LOGGED_IN),
    "password_reset": ("page", EVERYONE),
    "password_reset_done": ("page", EVERYONE),
    "password_reset_confirm": ("page", EVERYONE),
    "password_reset_complete": ("page", EVERYONE),
    "home": ("page", LOGGED_IN),
    # Posted with A's id: only A's members may make A active.
    "organization_switch": ("action", frozenset({STAFF_A, MANAGER_A})),
    # the manager's workspace
    "organization_edit": ("page", MANAGERS),
    "organization_branding": ("action", MANAGERS),
    # Customer pages and mails show it: public, by the hash of its bytes.
    "organization_logo": ("page", EVERYONE),
    "audit_log": ("page", MANAGERS),
    "department_add": ("action", MANAGERS),
    "department_rename": ("action", MANAGERS),
    "department_remove": ("action", MANAGERS),
    "segment_add": ("action", MANAGERS),
    "segment_edit": ("action", MANAGERS),
    "segment_remove": ("action", MANAGERS),
    "questionnaire_list": ("page", MANAGERS),
    "questionnaire_detail": ("page", MANAGERS),
    "questionnaire_copy": ("action", MANAGERS),
    "questionnaire_edit": ("page", MANAGERS),
    "questionnaire_new_version": ("action", MANAGERS),
    "questionnaire_item_add": ("action", MANAGERS),
    "questionnaire_item_edit": ("page", MANAGERS),
    "questionnaire_item_remove": ("action", MANAGERS),
    "questionnaire_item_move": ("action", MANAGERS),
    "study_list": ("page", MANAGERS),
    "study_create": ("page", MANAGERS),
    "study_detail": ("page", MANAGERS),
    "study_edit": ("page", MANAGERS),
    "study_open": ("action", MANAGERS),
    "study_close": ("action", MANAGERS),
    "study_reopen": ("action", MANAGERS),
    # staff
    "staff_list": ("page", MANAGERS),
    "staff_add": ("page", MANAGERS),
    "staff_import": ("page", MANAGERS),
    "staff_import_confirm": ("action", MANAGERS),
    "staff_resend": ("action", MANAGERS),
    "staff_invite_resend": ("action", MANAGERS),
    # Invitations to join: each person answers only their own (charlie's to A).
    "membership_invites": ("page", LOGGED_IN),
    "membership_invite_answer": ("action", frozenset({MANAGER_B})),
    # Self-assessment is for staff; managers are not respondents.
    "staff_home": ("page", frozenset({STAFF_A})),
    "assessment": ("page", frozenset({STAFF_A})),
    # customers
    "contact_list": ("page", MANAGERS),
    "contact_create": ("page", MANAGERS),
    "contact_edit": ("page", MANAGERS),
    "contact_delete": ("action", MANAGERS),
    "contact_export": ("page", MANAGERS),
    "contact_erase_confirm": ("page", MANAGERS),
    "contact_erase": ("action", MANAGERS),
    "contact_import": ("page", MANAGERS),
    "contact_import_confirm": ("action", MANAGERS),
    "contact_import_status": ("page", MANAGERS),
    "staff_import_status": ("page", MANAGERS),
    "invitation_list": ("page", MANAGERS),
    "invitation_remind": ("action", MANAGERS),
    "invitation_retry": ("action", MANAGERS),
    "response_rates": ("page", MANAGERS),
    # the dashboard and actions
    "dashboard": ("page", MANAGERS),
    "export": ("page", MANAGERS),
    "action_list": ("page", MANAGERS),
    "action_create": ("page", MANAGERS),
    "action_edit": ("page", MANAGERS),
    "action_close": ("action", MANAGERS),
    # The personal link is the credential: whoever holds it may answer.
    "survey": ("page", EVERYONE),
    "survey_thanks": ("page", EVERYONE),
    "survey_opt_out": ("page", EVERYONE),
    "contact_export_mail": ("action", MANAGERS),
    # The contact's own data: the single-use link is the credential.
    "my_data": ("page", EVERYONE),
    "survey_opt_in": ("action", EVERYONE),
    # closing the loop: the rules and every case for managers; "My cases" for
    # any member (their own only); a case A's manager owns is no one else's.
    "followup_rules": ("page", MANAGERS),
    "case_list": ("page", MANAGERS),
    "case_export": ("page", MANAGERS),
    "my_cases": ("page", MEMBERS),
    "case_detail": ("page", MANAGERS),
    "case_note": ("action", MANAGERS),
    "case_status": ("action", MANAGERS),
    "case_assign": ("action", MANAGERS),
    "case_action": ("action", MANAGERS),
}


def url_names() -> list[tuple[str, list[str]]]:
    """(name, the names of its URL parameters) for every named URL but the admin's."""
    found = []

    def walk(patterns, params):
        for pattern in patterns:
            converters = list(getattr(pattern.pattern, "converters", {}))
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                walk(pattern.url_patterns, params + converters)
            elif isinstance(pattern, URLPattern) and pattern.name:
                found.append((pattern.name, params + converters))

    walk(get_resolver().url_patterns, [])
    return found


URLS = url_names()


def _data_export_token(contact) -> str:
    from surveys.models import DataExport
    from surveys.services.rights import data_export_request, data_export_token

    data_export_request(contact=contact, actor=None)
    return data_export_token(DataExport.objects.get(contact=contact))


@pytest.fixture
def world(org_a, org_b, alice, bob, charlie, support):
    questionnaire = factories.make_questionnaire(organization=org_a)
    study = factories.make_study(org_a, questionnaire=questionnaire)
    segment = factories.make_segment(org_a, "Retail")
    contact = factories.make_contact(org_a, segment=segment)
    invitation, token = factories.make_invitation(study, contact)
    export_token = _data_export_token(contact)
    action = Action.objects.create(
        organization=org_a, study=study, gap=Gap.DELIVERY, description="Fix it"
    )
    case = factories.make_case(study, owner=alice.user)
    b_study = factories.make_study(org_b, name="Brightside wave")
    invite = MembershipInvite.objects.create(
        organization=org_a, user=charlie.user, email=charlie.user.email
    )
    logo = OrganizationLogo.objects.create(
        organization=org_a, key="a" * 64, content_type="image/png", data=b"png"
    )
    # A's audit log names A's study: charlie's audit log must not show it.
    audit_record(
        organization=org_a, actor=alice.user, action="study_open", target=study
    )
    return {
        "study_id": study.pk,
        "questionnaire_id": questionnaire.pk,
        "item_id": questionnaire.items.first().pk,
        "department_id": support.pk,
        "segment_id": segment.pk,
        "contact_id": contact.pk,
        "job_id": ImportJob.objects.create(organization=org_a, text="email\n").pk,
        "staff_job_id": ImportJob.objects.create(
            organization=org_a, kind=ImportJob.Kind.STAFF, text="email,name\n"
        ).pk,
        "membership_id": bob.pk,
        "invitation_id": invitation.pk,
        "action_id": action.pk,
        "token": token,
        "export_token": export_token,
        "key": logo.key,
        "uidb64": "MQ",
        "kind": "gaps",
        "fmt": "csv",
        "invite_id": invite.pk,
        "case_id": case.pk,
        "_post": {
            "organization_switch": {"organization": org_a.pk},
            "membership_invite_answer": {"invite": invite.pk, "answer": "decline"},
        },
        "_study": study,
        "_b_study": b_study,
        "_members": {STAFF_A: bob, MANAGER_A: alice, MANAGER_B: charlie},
    }


def client_for(role: str, world, client):
    member = world["_members"].get(role)
    if member is not None:
        client.force_login(member.user)
    return client


def test_every_url_is_classified():
    unclassified = sorted({name for name, _ in URLS} - set(ACCESS))
    assert unclassified == [], "add these URL names to ACCESS"


def test_the_personas_have_the_roles_the_matrix_assumes(world):
    members = world["_members"]
    assert members[STAFF_A].role == Role.STAFF
    assert members[MANAGER_A].role == Role.MANAGER
    assert members[MANAGER_B].organization != members[MANAGER_A].organization


def denied(status: int, role: str, url: str, response) -> bool:
    if role in (ANONYMOUS, CUSTOMER_A):
        return status == 404 or (
            status == 302 and response["Location"].startswith(reverse("login"))
        )
    return status in (403, 404)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "params"), URLS, ids=[name for name, _ in URLS])
def test_access(name, params, role, world, client):
    kind, allowed = ACCESS[name]
    url = reverse(name, kwargs={param: world[param] for param in params})
    names_a_object = any(p.endswith("_id") for p in params)
    if role == MANAGER_B and names_a_object:
        allowed = allowed - {MANAGER_B}
    client = client_for(role, world, client)

    response = client.get(url)
    if kind == "action":
        if role in (ANONYMOUS, CUSTOMER_A) and role not in allowed:
            assert denied(response.status_code, role, url, response)
        else:
            assert response.status_code == 405, f"GET {url} must be refused"
        response = client.post(url, world["_post"].get(name, {}))

    if role in allowed:
        assert response.status_code not in (403, 404, 405, 500), (
            f"{role} must reach {url}, got {response.status_code}"
        )
        if kind == "page" and role != ANONYMOUS:
            assert response.status_code in (200, 302)
    else:
        assert denied(response.status_code, role, url, response), (
            f"{role} must not reach {url}, got {response.status_code}"
        )
    if (
        role == MANAGER_B
        and response.status_code == 200
        and not any("token" in p for p in params)
    ):
        # Whatever charlie sees, nothing of A's is in it (a personal link is
        # a credential: its holder sees that study, whoever they are).
        body = (
            b"".join(response.streaming_content)
            if response.streaming
            else response.content
        )
        content = body.decode()
        assert world["_study"].name not in content
