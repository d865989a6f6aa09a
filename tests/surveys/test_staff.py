"""Managers add staff, one by one or from CSV; each new person gets a one-time
set-password link; an existing account elsewhere is invited without a new one
(tests/surveys/test_accounts_across_organizations.py covers what it may learn)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from surveys.models import AuditEvent, Department, Membership, MembershipInvite, Role
from surveys.services.staff import StaffError, staff_add
from tests import factories
from tests.smtp_sink import SmtpSink, body_text

pytestmark = pytest.mark.django_db
User = get_user_model()

LINK = re.compile(r"https?://\S+/accounts/reset/\S+/")


def upload(text: str, name: str = "staff.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def preview(client, text: str):
    return client.post(reverse("staff_import"), {"file": upload(text)})


def confirm(client, response):
    key = response.context["key"]
    return client.post(reverse("staff_import_confirm"), {"key": key})


# --- The staff list ---


def test_the_staff_list_shows_members_with_role_department_and_password_state(
    alice_client, bob, org_a
):
    invited = staff_add(
        organization=org_a, actor=None, email="new@acme.example", name="Nia New"
    )
    html = alice_client.get(reverse("staff_list")).content.decode()
    assert "bob@acme.example" in html
    assert "Support" in html
    assert "Manager" in html
    assert "new@acme.example" in html
    assert "Not yet" in html  # Nia has not chosen a password
    assert f'data-testid="member-{invited.membership.pk}"' in html


def test_the_staff_list_never_shows_answers(alice_client, bob, study_a):
    item = study_a.questionnaire.items.first()
    response = factories.make_response(
        study_a, audience="internal", user=bob.user, comment="SECRET-COMMENT"
    )
    response.answers.create(item=item, value=7)
    html = alice_client.get(reverse("staff_list")).content.decode()
    assert "SECRET-COMMENT" not in html
    assert "Submitted" not in html and "Draft" not in html


def test_the_staff_list_shows_only_the_managers_own_organization(charlie_client, bob):
    html = charlie_client.get(reverse("staff_list")).content.decode()
    assert "bob@acme.example" not in html
    assert "charlie@bright.example" in html


# --- Adding one person ---


def test_adding_a_new_person_creates_an_account_without_password_and_mails_a_link(
    alice_client, org_a, support, mailoutbox
):
    response = alice_client.post(
        reverse("staff_add"),
        {"email": "Dana@Acme.example", "name": "Dana Doe", "department": support.pk},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("staff_list")
    user = User.objects.get(email__iexact="dana@acme.example")
    assert not user.has_usable_password()
    membership = Membership.objects.get(user=user, organization=org_a)
    assert membership.role == Role.STAFF
    assert membership.department == support
    assert user.get_full_name() == "Dana Doe"
    [mail] = mailoutbox
    assert mail.to == ["Dana@acme.example"]  # the domain is normalised
    assert "Acme Services" in mail.subject
    assert LINK.search(mail.body)
    html, mime = mail.alternatives[0]
    assert mime == "text/html"
    assert LINK.search(html)


def test_adding_records_an_audit_event_by_the_manager(alice, alice_client, org_a):
    alice_client.post(
        reverse("staff_add"), {"email": "eve@acme.example", "name": "Eve"}
    )
    event = AuditEvent.objects.get(action="staff_add")
    assert event.organization == org_a
    assert event.actor == alice.user
    assert event.target == "eve@acme.example"


def test_a_new_department_typed_in_is_created_once_case_insensitively(
    alice_client, org_a, support
):
    alice_client.post(
        reverse("staff_add"),
        {"email": "a@acme.example", "name": "A", "new_department": "  sales "},
    )
    alice_client.post(
        reverse("staff_add"),
        {"email": "b@acme.example", "name": "B", "new_department": "SALES"},
    )
    alice_client.post(
        reverse("staff_add"),
        {"email": "c@acme.example", "name": "C", "new_department": "support"},
    )
    assert Department.objects.filter(organization=org_a).count() == 2
    assert Membership.objects.get(user__email="c@acme.example").department == support


def test_choosing_a_department_and_typing_a_new_one_is_refused(alice_client, support):
    response = alice_client.post(
        reverse("staff_add"),
        {
            "email": "a@acme.example",
            "name": "A",
            "department": support.pk,
            "new_department": "Sales",
        },
    )
    assert response.status_code == 200
    assert "not both" in response.content.decode()
    assert not User.objects.filter(email="a@acme.example").exists()


def test_another_organizations_department_cannot_be_chosen(alice_client, org_b):
    foreign = factories.make_department(org_b, "Theirs")
    response = alice_client.post(
        reverse("staff_add"),
        {"email": "a@acme.example", "name": "A", "department": foreign.pk},
    )
    assert response.status_code == 200
    assert not Membership.objects.filter(user__email="a@acme.example").exists()


def test_adding_an_existing_member_again_is_refused_with_a_message(
    alice_client, bob, mailoutbox
):
    response = alice_client.post(
        reverse("staff_add"), {"email": "BOB@acme.example", "name": "Bob"}
    )
    assert response.status_code == 200
    assert "already a member" in response.content.decode()
    assert Membership.objects.filter(user=bob.user).count() == 1
    assert mailoutbox == []


def test_a_user_of_another_organization_is_invited_without_a_new_account(
    alice_client, charlie, org_a, mailoutbox
):
    users_before = User.objects.count()
    alice_client.post(
        reverse("staff_add"), {"email": "charlie@bright.example", "name": "Charlie"}
    )
    assert User.objects.count() == users_before
    invite = MembershipInvite.objects.get(user=charlie.user, organization=org_a)
    assert invite.role == Role.STAFF
    # Still a manager of B: the existing membership is untouched.
    charlie.refresh_from_db()
    assert charlie.role == Role.MANAGER
    [mail] = mailoutbox
    assert "invited to join" in mail.subject
    assert not LINK.search(mail.body)
    assert charlie.user.check_password(factories.PASSWORD)


def test_a_name_with_newlines_never_reaches_a_mail_header(org_a, mailoutbox):
    staff_add(
        organization=org_a,
        actor=None,
        email="x@acme.example",
        name="Mallory\r\nBcc: victim@evil.example",
    )
    [mail] = mailoutbox
    message = mail.message()
    assert message["Bcc"] is None
    assert mail.bcc == []
    assert mail.recipients() == ["x@acme.example"]
    assert "\n" not in User.objects.get(email="x@acme.example").get_full_name()


def test_a_name_with_newlines_is_kept_on_one_line_by_the_form(alice_client):
    alice_client.post(
        reverse("staff_add"),
        {"email": "y@acme.example", "name": "Yan\nYu"},
    )
    assert User.objects.get(email="y@acme.example").get_full_name() == "Yan Yu"


def test_adding_twice_in_the_service_raises(org_a, bob):
    with pytest.raises(StaffError):
        staff_add(organization=org_a, actor=None, email="bob@acme.example", name="Bob")


def test_the_person_is_added_even_if_the_mail_server_refuses(
    alice_client, org_a, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 1  # nothing listens there
    settings.EMAIL_TIMEOUT = 2
    response = alice_client.post(
        reverse("staff_add"), {"email": "z@acme.example", "name": "Zed"}, follow=True
    )
    assert Membership.objects.filter(user__email="z@acme.example").exists()
    assert "could not be sent" in response.content.decode()


def test_resending_the_link_mails_a_fresh_one(alice_client, org_a, mailoutbox):
    added = staff_add(
        organization=org_a, actor=None, email="r@acme.example", name="Rae"
    )
    mailoutbox.clear()
    response = alice_client.post(
        reverse("staff_resend", args=[added.membership.pk]), follow=True
    )
    assert "new link was sent" in response.content.decode()
    [mail] = mailoutbox
    assert LINK.search(mail.body)


def test_resending_to_someone_with_a_password_is_refused(alice_client, bob, mailoutbox):
    response = alice_client.post(reverse("staff_resend", args=[bob.pk]), follow=True)
    assert "already set a password" in response.content.decode()
    assert mailoutbox == []


def test_resend_for_another_organizations_member_is_404(charlie_client, bob):
    assert (
        charlie_client.post(reverse("staff_resend", args=[bob.pk])).status_code == 404
    )


# --- The invitation mail through a real SMTP server ---


@pytest.fixture
def smtp(settings):
    sink = SmtpSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    yield sink
    sink.stop()


def test_an_invited_person_sets_a_password_from_the_mail_and_logs_in(
    alice_client, org_a, smtp, client
):
    alice_client.post(
        reverse("staff_add"), {"email": "ivy@acme.example", "name": "Ivy Ng"}
    )
    [mail] = smtp.wait_for("ivy@acme.example")
    assert mail.get_body(preferencelist=("html",)) is not None
    link = LINK.search(body_text(mail)).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path, follow=True)
    assert page.status_code == 200
    assert "Choose your password" in page.content.decode()
    set_url = page.redirect_chain[-1][0]
    done = client.post(
        set_url,
        {
            "new_password1": "a-long-new-passphrase",
            "new_password2": "a-long-new-passphrase",
        },
    )
    assert done.status_code == 302
    assert client.login(username="ivy@acme.example", password="a-long-new-passphrase")
    home = client.get(reverse("staff_home"))
    assert home.status_code == 200
    # The link works once.
    again = client.get("/" + path, follow=True)
    assert "no longer works" in again.content.decode()


# --- CSV import ---


def test_the_preview_lists_every_row_as_create_skip_or_reject(
    alice_client, bob, charlie
):
    text = (
        "email,name,department\n"
        "new1@acme.example,New One,Support\n"
        "bob@acme.example,Bob,Support\n"
        "not-an-email,Bad,\n"
        "charlie@bright.example,Charlie,Sales\n"
        "NEW1@acme.example,Twice,\n"
        ",No Email,\n"
    )
    response = preview(alice_client, text)
    assert response.status_code == 200
    rows = {row.line: row for row in response.context["plan"].rows}
    assert rows[2].action == "create"
    assert rows[3].action == "skip"
    assert rows[4].action == "reject" and "not a valid email" in rows[4].reason
    assert rows[5].action == "create" and rows[5].reason == rows[2].reason
    assert rows[6].action == "reject" and "line 2" in rows[6].reason
    assert rows[7].action == "reject" and "missing" in rows[7].reason
    html = response.content.decode()
    assert 'data-testid="line-4"' in html
    assert "nothing can be imported" in html
    # Nothing is written by a preview.
    assert not User.objects.filter(email="new1@acme.example").exists()


def test_a_file_with_a_rejected_row_cannot_be_confirmed(alice_client, mailoutbox):
    text = "email,name,department\nok@acme.example,Ok,\nbroken,Bad,\n"
    response = preview(alice_client, text)
    assert "Import 1 staff member" not in response.content.decode()
    confirmed = confirm(alice_client, response)
    assert confirmed.status_code == 302
    assert not User.objects.filter(email="ok@acme.example").exists()
    assert mailoutbox == []


def test_a_clean_file_imports_all_rows_and_mails_each_new_person(
    alice_client, org_a, support, charlie, mailoutbox
):
    text = (
        "email,name,department\n"
        "p1@acme.example,Pat One,support\n"
        "p2@acme.example,Pat Two,Billing\n"
        "charlie@bright.example,Charlie,\n"
    )
    response = preview(alice_client, text)
    assert response.context["plan"].new_departments == ["Billing"]
    done = confirm(alice_client, response)
    assert done.status_code == 302
    assert done["Location"] == reverse("staff_list")
    assert Membership.objects.get(user__email="p1@acme.example").department == support
    assert Membership.objects.get(user__email="p2@acme.example").department.name == (
        "Billing"
    )
    assert MembershipInvite.objects.filter(user=charlie.user, organization=org_a)
    assert sorted(m.to[0] for m in mailoutbox) == [
        "charlie@bright.example",
        "p1@acme.example",
        "p2@acme.example",
    ]
    event = AuditEvent.objects.get(action="staff_import")
    assert event.detail["added"] == 3
    assert "new_accounts" not in event.detail  # managers read the audit log


def test_a_second_confirm_applies_nothing(alice_client, mailoutbox):
    response = preview(alice_client, "email,name\nonce@acme.example,Once\n")
    confirm(alice_client, response)
    second = confirm(alice_client, response)
    assert second.status_code == 302
    assert Membership.objects.filter(user__email="once@acme.example").count() == 1
    assert len(mailoutbox) == 1
    page = alice_client.get(second["Location"]).content.decode()
    assert "already applied" in page


def test_a_row_that_became_a_member_after_the_preview_is_skipped_at_confirm(
    alice_client, org_a, mailoutbox
):
    text = "email,name\nfirst@acme.example,First\nlater@acme.example,Later\n"
    response = preview(alice_client, text)
    # Someone adds "later" between preview and confirm: the confirm plans again.
    factories.make_member(org_a, Role.STAFF, email="later@acme.example")
    confirm(alice_client, response)
    assert Membership.objects.filter(user__email="first@acme.example").exists()
    assert len(mailoutbox) == 1


def test_the_import_is_all_or_nothing_when_a_write_fails(
    alice_client, org_a, monkeypatch, mailoutbox
):
    from surveys.services import staff as staff_services

    def failing(memberships):
        # The accounts and the department are written by now: all must go.
        assert User.objects.filter(email__startswith="q").count() == 2
        raise StaffError("simulated failure")

    monkeypatch.setattr(staff_services, "_memberships_create", failing)
    text = "email,name,department\nq1@acme.example,Q1,NewDept\nq2@acme.example,Q2,\n"
    response = preview(alice_client, text)
    confirm(alice_client, response)
    assert not User.objects.filter(email__startswith="q").exists()
    assert not Department.objects.filter(name="NewDept").exists()
    assert not AuditEvent.objects.filter(action="staff_import").exists()
    assert mailoutbox == []


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("name,department\nA,B\n", "missing column: email"),
        ("email,name,age\na@x.example,A,3\n", "Unknown column: age"),
    ],
)
def test_an_unreadable_file_is_refused_with_a_clear_message(
    alice_client, text, message
):
    response = preview(alice_client, text)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["plan"] is None


def test_a_file_that_is_not_utf8_is_refused(alice_client):
    response = alice_client.post(
        reverse("staff_import"),
        {"file": SimpleUploadedFile("s.csv", "email,name\né@x,É\n".encode("latin-1"))},
    )
    assert "not UTF-8" in response.content.decode()


def test_an_oversized_file_is_refused(alice_client, settings):
    settings.MAX_UPLOAD_BYTES = 50
    response = preview(alice_client, "email,name\n" + "a@acme.example,A\n" * 10)
    assert "too large" in response.content.decode()


def test_a_semicolon_separated_file_with_a_bom_is_read(alice_client):
    response = alice_client.post(
        reverse("staff_import"),
        {
            "file": SimpleUploadedFile(
                "s.csv", "\ufeffEmail;Name\nsemi@acme.example;Semi\n".encode()
            )
        },
    )
    [row] = response.context["plan"].rows
    assert row.action == "create"
    assert row.email == "semi@acme.example"


def test_a_row_with_too_many_cells_is_rejected(alice_client):
    response = preview(alice_client, "email,name\na@acme.example,A,extra\n")
    [row] = response.context["plan"].rows
    assert row.action == "reject"
    assert "more cells" in row.reason


def test_a_file_where_everyone_is_already_a_member_offers_nothing_to_import(
    alice_client, bob
):
    response = preview(alice_client, "email,name\nbob@acme.example,Bob\n")
    assert "nobody new to add" in response.content.decode()


def test_another_managers_stashed_import_cannot_be_confirmed(
    alice_client, charlie_client
):
    response = preview(alice_client, "email,name\nsteal@acme.example,S\n")
    charlie_client.post(
        reverse("staff_import_confirm"), {"key": response.context["key"]}
    )
    assert not User.objects.filter(email="steal@acme.example").exists()


def test_an_account_created_elsewhere_at_the_same_moment_is_a_clear_refusal(
    alice_client, monkeypatch, mailoutbox
):
    from django.db import IntegrityError

    from surveys.services import staff as staff_services

    def racing(**kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(staff_services, "user_get_or_create", racing)
    response = alice_client.post(
        reverse("staff_add"), {"email": "race@acme.example", "name": "Race"}
    )
    assert response.status_code == 200
    assert "at the same moment" in response.content.decode()
    assert not AuditEvent.objects.filter(action="staff_add").exists()
    assert mailoutbox == []


def test_names_are_escaped_in_the_html_mail(org_a, mailoutbox):
    staff_add(
        organization=org_a,
        actor=None,
        email="html@acme.example",
        name="<script>alert(1)</script> Eve",
    )
    html, _ = mailoutbox[0].alternatives[0]
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
