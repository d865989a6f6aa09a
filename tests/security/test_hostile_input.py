"""Hostile input, generated: random and malformed posts to the staff
self-assessment, the customer survey and the two CSV imports.

Each property: never a 500 (the test client re-raises any exception a view lets
through), and never a partial write — the database after the request is either
exactly as before, or exactly what a valid request asks for.

Every example runs inside a savepoint that is rolled back, so examples do not see
each other's writes. The number of examples comes from the Hypothesis profile
(tests/security/conftest.py): `ci` by default, HYPOTHESIS_PROFILE=thorough for
thousands.
"""

from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import event, given, settings
from hypothesis import strategies as st

from surveys.models import Answer, Contact, Invitation, Membership, Response, Segment
from surveys.services.responses import staff_response_save
from tests import factories
from tests.test_isolation_matrix import (  # noqa: F401 (world is a fixture)
    ACCESS,
    MANAGER_A,
    URLS,
    world,
)

pytestmark = pytest.mark.django_db

SCALE = [str(v) for v in range(1, 8)]
VALID_VALUES = [*SCALE, "dk"]
NASTY_STRINGS = [
    "",
    " ",
    "0",
    "8",
    "-1",
    "5.0",
    " 5",
    "5 ",
    "DK",
    "None",
    "null",
    "1e3",
    "99999999999999999999999999",
    "\x00",
    "5\x00",
    "\u202e5",
    "٥",  # Arabic-Indic five: int() accepts it, the form must not
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE surveys_answer; --",
    "x" * 5000,
]
any_value = st.one_of(
    st.sampled_from(VALID_VALUES),
    st.sampled_from(NASTY_STRINGS),
    st.text(max_size=20),
)
# A form field may come once, several times (a tampered form), or not at all.
field_values = st.lists(any_value, min_size=1, max_size=3)


class _Rollback(Exception):
    """Raised at the end of an example to undo its writes."""


def in_savepoint(check):
    """Run `check()` inside a savepoint and roll it back, however it ends."""
    try:
        with transaction.atomic():
            check()
            raise _Rollback
    except _Rollback:
        pass


@st.composite
def answer_posts(draw, with_action: bool):
    """POST data for an answers form, as {name: [values]}: answers to item indexes
    (mapped to real field names by the test), plus stray and tampered fields."""
    # Half the posts start from a complete, valid page and change a little of it
    # (so the accepted path is exercised too); the rest are random throughout.
    near_valid = draw(st.booleans())
    if near_valid:
        answers = {index: [draw(st.sampled_from(VALID_VALUES))] for index in range(5)}
        for index in draw(st.lists(st.integers(0, 5), max_size=2)):
            answers[index] = draw(field_values)
        for index in draw(st.lists(st.integers(0, 4), max_size=1)):
            answers.pop(index, None)
    else:
        answers = draw(st.dictionaries(st.integers(0, 5), field_values, max_size=6))
    extras = draw(
        st.dictionaries(
            st.one_of(
                st.sampled_from(
                    [
                        "item_0",
                        "item_-1",
                        "item_abc",
                        "item_",
                        "item_99999999999999999999",
                        "item_OTHER",  # an item of another questionnaire
                        "questionnaire_key",
                        "comment",
                        "action",
                        "csrfmiddlewaretoken",
                    ]
                ),
                st.text(max_size=12),
            ),
            field_values,
            max_size=1 if near_valid else 4,
        )
    )
    if near_valid and draw(st.booleans()):
        extras = {}
    post = {"answers": answers, "extras": extras}
    keys = ["right", "absent", "wrong", "empty"]
    post["key"] = draw(st.sampled_from(["right"] * 6 + keys if near_valid else keys))
    post["comment"] = draw(
        st.one_of(
            st.none(),
            st.text(max_size=60),
            st.sampled_from(["x" * 4001, " padded ", "a\x00b", "<b>hi</b>"]),
        )
    )
    if with_action:
        post["action"] = draw(
            st.one_of(
                st.sampled_from(["draft", "submit", "submit"]), st.text(max_size=8)
            )
        )
    return post


def build_data(post: dict, items: list, other_item) -> dict[str, list[str]]:
    """The request body: field name -> list of values (repeated fields kept)."""
    questionnaire = items[0].questionnaire
    data: dict[str, list[str]] = {}
    for index, values in post["answers"].items():
        if index < len(items):
            data[f"item_{items[index].pk}"] = list(values)
    if post["key"] == "right":
        data["questionnaire_key"] = [f"{questionnaire.pk}:{len(items)}"]
    elif post["key"] == "wrong":
        data["questionnaire_key"] = [f"{questionnaire.pk}:{len(items) + 1}"]
    elif post["key"] == "empty":
        data["questionnaire_key"] = [""]
    if post["comment"] is not None:
        data["comment"] = [post["comment"]]
    if "action" in post:
        data["action"] = [post["action"]]
    for name, values in post["extras"].items():
        name = name.replace("OTHER", str(other_item.pk))
        data.setdefault(name, list(values))
    return data


def form_outcome(data: dict[str, list[str]], items: list, require_all: bool):
    """What a valid form would save, {item_id: value or None}; or None when the
    request carries something the form must refuse."""
    known = {f"item_{item.pk}" for item in items}
    if any(n.startswith("item_") and n not in known for n in data):
        return None
    key = data.get("questionnaire_key", [""])[-1]
    if key and key != f"{items[0].questionnaire_id}:{len(items)}":
        return None
    comment = data.get("comment", [""])[-1]
    if "\x00" in comment or len(comment.strip()) > 4000:
        return None
    answers = {}
    for item in items:
        value = data.get(f"item_{item.pk}", [""])[-1]
        if value == "":
            continue
        if value not in VALID_VALUES:
            return None
        answers[item.pk] = None if value == "dk" else int(value)
    if require_all and len(answers) != len(items):
        return None
    return answers


def post_form(http, url: str, data: dict[str, list[str]]):
    """POST url-encoded, as a browser does (any field name survives the trip)."""
    return http.post(
        url,
        urlencode(data, doseq=True),
        content_type="application/x-www-form-urlencoded",
    )


def stored_answers(response: Response | None) -> dict | None:
    if response is None:
        return None
    return dict(response.answers.values_list("item_id", "value"))


@pytest.fixture
def small_study(org_a):
    """An open study of five items (one per gap), and an item of another
    questionnaire to smuggle in."""
    study = factories.make_study(
        org_a, questionnaire=factories.make_questionnaire(items_per_gap=1)
    )
    other = factories.make_questionnaire(items_per_gap=1).items.first()
    return study, list(study.questionnaire.items.order_by("position")), other


# --- the staff self-assessment ------------------------------------------------------


@given(
    post=answer_posts(with_action=True),
    before=st.sampled_from(["none", "draft", "submitted"]),
)
def test_the_staff_form_never_fails_and_never_half_writes(
    bob, bob_client, small_study, post, before
):
    study, items, other = small_study
    data = build_data(post, items, other)
    submit = data.get("action", [""])[-1] == "submit"
    url = reverse("assessment", args=[study.pk])

    def check():
        if before != "none":
            staff_response_save(
                study=study,
                membership=bob,
                answers={i.pk: 3 for i in items} if before == "submitted" else {},
                submit=before == "submitted",
            )
        old = Response.objects.filter(study=study, user=bob.user).first()
        old_answers, old_comment = stored_answers(old), old.comment if old else None

        response = post_form(bob_client, url, data)

        assert response.status_code in (200, 302, 409), response.status_code
        event(f"staff form answered {response.status_code}")
        new = Response.objects.filter(study=study, user=bob.user).first()
        expected = form_outcome(data, items, require_all=submit)
        draft = form_outcome(data, items, require_all=False)
        if response.status_code == 302:
            assert before != "submitted"
            assert expected is not None, f"accepted a post it must refuse: {data!r}"
            assert stored_answers(new) == expected
            assert new.comment == data.get("comment", [""])[-1].strip()
            assert new.status == ("submitted" if submit else "draft")
            if submit:
                assert len(expected) == len(items)
        elif submit and before != "submitted" and draft is not None:
            # A submit refused only for unanswered items keeps the rest as the draft.
            assert response.status_code == 200
            assert stored_answers(new) == draft
            assert new.comment == data.get("comment", [""])[-1].strip()
            assert new.status == "draft"
        else:
            if new is None:
                assert old is None
            else:
                assert stored_answers(new) == old_answers
                assert new.comment == old_comment
                assert new.status == (old.status if old else None)
            if before == "submitted":
                assert response.status_code == 409
            elif expected is not None and (not submit or len(expected) == len(items)):
                pytest.fail(f"refused a valid post: {data!r}")

    in_savepoint(check)


# --- the customer survey --------------------------------------------------------------


@given(post=answer_posts(with_action=False))
def test_the_customer_survey_never_fails_and_never_half_writes(
    client, small_study, post
):
    study, items, other = small_study
    data = build_data(post, items, other)

    def check():
        invitation, token = factories.make_invitation(study, sent_at=timezone.now())
        response = post_form(client, reverse("survey", args=[token]), data)

        assert response.status_code in (302, 400), response.status_code
        event(f"survey answered {response.status_code}")
        invitation.refresh_from_db()
        stored = Response.objects.filter(invitation=invitation)
        expected = form_outcome(data, items, require_all=True)
        if response.status_code == 302:
            assert expected is not None, f"accepted a post it must refuse: {data!r}"
            (saved,) = stored
            assert stored_answers(saved) == expected
            assert saved.status == "submitted"
            assert saved.comment == data.get("comment", [""])[-1].strip()
            assert invitation.responded_at is not None
        elif (draft := form_outcome(data, items, require_all=False)) is not None and (
            draft or data.get("comment", [""])[-1].strip()
        ):
            # Refused only for unanswered items: the rest is kept, not submitted.
            assert expected is None, f"refused a valid post: {data!r}"
            (saved,) = stored
            assert stored_answers(saved) == draft
            assert saved.status == "draft"
            assert invitation.responded_at is None
        else:
            assert expected is None, f"refused a valid post: {data!r}"
            assert not stored.exists()
            assert not Answer.objects.filter(response__invitation=invitation).exists()
            assert invitation.responded_at is None

    in_savepoint(check)


CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=BoUnDaRy",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "text/plain",
    "application/json",
    "application/x-www-form-urlencoded; charset=utf-16",
    "application/x-www-form-urlencoded; charset=no-such-charset",
]
raw_bodies = st.one_of(
    st.binary(max_size=400),
    st.sampled_from(
        [
            b"item_1=%ff%fe&comment=%00",
            b'--BoUnDaRy\r\nContent-Disposition: form-data; name="comment"\r\n\r\nx',
            b"--BoUnDaRy--\r\n",
            b"&&&===&&&",
            b"a=" + b"%" * 300,
            b'{"item_1": 5}',
        ]
    ),
)


@given(content_type=st.sampled_from(CONTENT_TYPES), body=raw_bodies)
def test_malformed_bodies_are_refused_without_a_write(
    client, bob_client, small_study, content_type, body
):
    study, items, _ = small_study

    def check():
        invitation, token = factories.make_invitation(study, sent_at=timezone.now())
        targets = [
            (client, reverse("survey", args=[token])),
            (bob_client, reverse("assessment", args=[study.pk])),
        ]
        for http, url in targets:
            response = http.generic("POST", url, body, content_type=content_type)
            assert response.status_code < 500
        # A body that parses to an empty form is a valid (empty) staff draft; for a
        # customer, a body that parses to some valid answers or a comment is kept
        # as a draft, and the complete-answers rule leaves no room for a submit.
        assert not Response.objects.filter(
            invitation=invitation, status="submitted"
        ).exists()
        for saved in Response.objects.filter(study=study):
            answers = stored_answers(saved)
            assert set(answers) <= {item.pk for item in items}
            assert all(v is None or 1 <= v <= 7 for v in answers.values())
            if saved.status == "submitted":
                assert len(answers) == len(items)

    in_savepoint(check)


# --- the CSV imports ------------------------------------------------------------------

EMAILS = [
    "pat@example.com",
    "PAT@EXAMPLE.COM",
    "known@example.com",  # already a contact / member (see the fixtures)
    "KNOWN@example.com",
    "new.person+tag@example.org",
    "ß@example.com",
    "\u212a@example.com",  # Kelvin sign: lower() is a plain k
    "İ@example.com",
    "not-an-email",
    "a@b",
    "@example.com",
    "a" * 250 + "@example.com",
    "x@example.com\nBcc: victim@example.org",
    "<script>@example.com",
]
cells = st.one_of(
    st.sampled_from(EMAILS),
    st.sampled_from(NASTY_STRINGS),
    st.sampled_from(['=HYPERLINK("http://x")', "+1", "@SUM(A1)", '"', '""', "a,b"]),
    st.text(max_size=15),
)
HEADERS = ["email", "name", "segment", "department", "EMAIL", " Name ", "extra", ""]


PAYLOAD_CELL = '<img src=x onerror=alert(1)> "quoted", and; more'
GOOD_EMAILS = [
    "a@example.com",
    "b@example.com",
    "c.d+e@example.org",
    "known@example.com",
    "Known@Example.com",
    "pat@example.com",
]


@st.composite
def csv_files(draw, columns: list[str]) -> bytes:
    """CSV-ish bytes: half with the import's own header and mostly good addresses
    (so whole files get applied), half with a header of known and unknown columns
    and rows of hostile cells; any delimiter and line ending, sometimes a BOM,
    another encoding or junk."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=300))
    delimiter = draw(st.sampled_from([",", ",", ";", "\t"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    well_formed = draw(st.booleans())
    if well_formed:
        header = list(columns)
        names = st.sampled_from(["Pat", "Ann Lee", "", PAYLOAD_CELL])
        groups = st.sampled_from(["Retail", "retail", "Gold", "", "=SUM(A1)"])
        rows = []
        for n in range(draw(st.integers(1, 5))):
            # A fresh address per row, mostly: duplicates are one kind of reject.
            own = st.just(f"person{n}@example.com")
            rows.append(
                [
                    draw(st.one_of(own, own, own, st.sampled_from(GOOD_EMAILS), cells)),
                    draw(st.one_of(names, names, names, cells)),
                    draw(st.one_of(groups, groups, groups, cells)),
                ]
            )
    else:
        header = draw(st.lists(st.sampled_from(HEADERS), min_size=0, max_size=4))
        if draw(st.booleans()):
            header = ["email", "name", *header[:2]]
        rows = draw(st.lists(st.lists(cells, min_size=0, max_size=5), max_size=6))
    lines = [delimiter.join(header)]
    for row in rows:
        quoted = draw(
            st.sampled_from([True, True, True, False] if well_formed else [True, False])
        )
        lines.append(
            delimiter.join(
                '"' + cell.replace('"', '""') + '"' if quoted else cell for cell in row
            )
        )
    text = newline.join(lines)
    if draw(st.booleans()):
        text = "\ufeff" + text
    encoding = draw(st.sampled_from(["utf-8"] * 6 + ["latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace")


def contacts_state(organization) -> list[tuple]:
    return sorted(
        Contact.objects.filter(organization=organization).values_list(
            "email", "name", "segment_id", "opted_out_at"
        )
    )


@pytest.fixture
def known_contact(org_a):
    return factories.make_contact(
        org_a, email="known@example.com", name="Known", opted_out_at=timezone.now()
    )


@given(content=csv_files(["email", "name", "segment"]), forged_key=st.booleans())
def test_the_contacts_import_never_fails_and_is_all_or_nothing(
    alice_client, org_a, known_contact, content, forged_key
):
    def check():
        before = contacts_state(org_a)
        segments = Segment.objects.count()
        upload = SimpleUploadedFile("contacts.csv", content, content_type="text/csv")
        preview = alice_client.post(reverse("contact_import"), {"file": upload})
        assert preview.status_code == 200
        assert contacts_state(org_a) == before  # a preview writes nothing
        assert Segment.objects.count() == segments
        plan, key = preview.context["plan"], preview.context["key"]
        event(
            "no plan (file refused)"
            if plan is None
            else "plan with rejected rows"
            if plan.rejects
            else "plan that can be applied"
            if key
            else "plan with nothing to apply"
        )
        if plan is not None and plan.rejects:
            assert key is None
        if forged_key or key is None:
            confirm = alice_client.post(
                reverse("contact_import_confirm"),
                {"key": "forged" if forged_key else ""},
            )
            assert confirm.status_code == 302
            assert contacts_state(org_a) == before
            return
        confirm = alice_client.post(reverse("contact_import_confirm"), {"key": key})
        assert confirm.status_code == 302
        after = contacts_state(org_a)
        if after == before:
            # Refused as a whole (e.g. two addresses equal only to the database).
            return
        assert len(after) == len(before) + plan.creates
        emails = {email.lower() for email, *_ in after}
        for row in plan.rows:
            assert row.email.lower() in emails
        # An import never clears an opt-out.
        known_contact.refresh_from_db()
        assert known_contact.opted_out_at is not None

    in_savepoint(check)


@given(content=csv_files(["email", "name", "department"]))
def test_the_staff_import_never_fails_and_is_all_or_nothing(
    alice_client, org_a, bob, content, mailoutbox
):
    def check():
        factories.make_member(org_a, email="known@example.com")
        before = Membership.objects.filter(organization=org_a).count()
        upload = SimpleUploadedFile("staff.csv", content, content_type="text/csv")
        preview = alice_client.post(reverse("staff_import"), {"file": upload})
        assert preview.status_code == 200
        assert Membership.objects.filter(organization=org_a).count() == before
        plan, key = preview.context["plan"], preview.context["key"]
        event(
            "no plan (file refused)"
            if plan is None
            else "plan with rejected rows"
            if plan.rejected
            else "plan that can be applied"
        )
        if key is None:
            return
        mailoutbox.clear()
        confirm = alice_client.post(reverse("staff_import_confirm"), {"key": key})
        assert confirm.status_code == 302
        after = Membership.objects.filter(organization=org_a).count()
        if plan.rejected:
            assert after == before
            assert mailoutbox == []
        else:
            assert after in (before, before + len(plan.to_create))
            if after > before:
                assert len(mailoutbox) == len(plan.to_create)

    in_savepoint(check)


def test_a_thousand_answers_in_one_post_are_refused_without_a_write(
    client, small_study
):
    """A fixed case the generator rarely reaches: far too many fields."""
    study, items, _ = small_study
    _, token = factories.make_invitation(study, sent_at=timezone.now())
    data = {f"item_{n}": "5" for n in range(1, 1200)}
    response = client.post(reverse("survey", args=[token]), data)
    assert response.status_code == 400
    assert not Invitation.objects.filter(study=study, responded_at__isnull=False)
    assert not Response.objects.filter(study=study).exists()


@pytest.mark.parametrize("view", ["contact_import", "staff_import"])
def test_a_csv_file_with_a_nul_character_is_refused_with_a_message(
    alice_client, org_a, view
):
    """A NUL in a cell was a 500 on PostgreSQL at confirm; now the file is refused
    at upload, with its line number."""
    content = b"email,name\nx@example.com,Pat\ny@example.com,a\x00b\n"
    upload = SimpleUploadedFile("people.csv", content, content_type="text/csv")
    response = alice_client.post(reverse(view), {"file": upload})
    assert response.status_code == 200
    assert response.context["key"] is None
    assert "Line 3 contains a NUL character" in response.content.decode()
    assert not Contact.objects.filter(organization=org_a).exists()


@given(
    path=st.sampled_from(["/accounts/login/", "/accounts/password_reset/"]),
    fields=st.dictionaries(
        st.sampled_from(["username", "password", "email", "next"]),
        st.one_of(st.sampled_from(NASTY_STRINGS + EMAILS), st.text(max_size=300)),
    ),
)
def test_login_and_password_reset_take_any_input_with_limits_on(
    client, settings, path, fields
):
    settings.RATE_LIMITS_ENABLED = True

    def check():
        response = post_form(client, path, {k: [v] for k, v in fields.items()})
        assert response.status_code in (200, 302, 429)

    in_savepoint(check)


# --- every manager page and action ---------------------------------------------

# Every field name a manager form reads, and the buttons' own fields.
FORM_FIELDS = (
    "allow_dont_know closes_on comment customer_text department description "
    "dimension due_on email gap internal_text introduction kind label_max label_mid "
    "label_min max_reminders min_group_size name new_department opens_on owner q "
    "reminder_interval_days scale_points segment status weight action direction key "
    "organization page audience to note text threshold due_hours enabled trigger "
    "mail_customer customer_note overdue"
).split()
form_values = st.one_of(
    st.sampled_from(
        NASTY_STRINGS
        + ["-5", "0", "1", "3", "7", "2026-02-30", "2026-01-05", "9999-12-31"]
        + ["0001-01-01", "on", "true", "knowledge", "up", "down", "done", "open"]
        + ["a@example.com", "last", "contacted", "resolved", "closed", "always"]
    ),
    st.text(max_size=10),
)
MANAGER_URLS = [
    (name, params)
    for name, params in URLS
    if MANAGER_A in ACCESS[name][1] and name not in ("logout", "survey")
]


@given(
    target=st.sampled_from(MANAGER_URLS),
    method=st.sampled_from(["GET", "POST"]),
    data=st.dictionaries(st.sampled_from(FORM_FIELDS), form_values, max_size=8),
)
@settings(max_examples=max(20, settings().max_examples // 2))
def test_every_manager_page_and_action_takes_any_fields_without_a_500(
    alice_client,
    world,  # noqa: F811 (the isolation matrix's fixture)
    target,
    method,
    data,
):
    """Random fields, as query string or form, to every URL a manager may use
    (read from the URLconf, like the isolation matrix)."""
    name, params = target
    url = reverse(name, kwargs={param: world[param] for param in params})

    def check():
        if method == "GET":
            response = alice_client.get(url + "?" + urlencode(data))
        else:
            response = post_form(alice_client, url, {k: [v] for k, v in data.items()})
        assert response.status_code < 500, (method, url, data)

    in_savepoint(check)
