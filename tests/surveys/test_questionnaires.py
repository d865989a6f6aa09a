"""Questionnaires for managers: list, read, copy, edit the copy, new versions."""

import pytest

from surveys.models import AuditEvent, Gap, Item, Questionnaire, Response
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def default():
    return factories.make_questionnaire(name="Five gaps — standard")


@pytest.fixture
def own(org_a):
    return factories.make_questionnaire(organization=org_a, name="Acme's own")


@pytest.fixture
def theirs(org_b):
    return factories.make_questionnaire(organization=org_b, name="Brightside's own")


def freeze(questionnaire, organization):
    study = factories.make_study(organization, questionnaire=questionnaire)
    factories.make_response(study)


def positions(questionnaire):
    return list(questionnaire.items.values_list("internal_text", flat=True))


def settings_data(**overrides):
    data = {
        "name": "Acme's own",
        "scale_points": "5",
        "label_min": "Never",
        "label_mid": "Sometimes",
        "label_max": "Always",
        "allow_dont_know": "",
    }
    data.update(overrides)
    return data


def item_data(prefix="new-", **overrides):
    data = {
        "gap": Gap.DELIVERY,
        "dimension": "reliability",
        "internal_text": "We answer within a day.",
        "customer_text": "They answer within a day.",
    }
    data.update(overrides)
    return {f"{prefix}{key}": value for key, value in data.items()}


# --- list and detail ---------------------------------------------------------


def test_the_list_shows_the_default_and_the_organizations_own(
    alice_client, default, own, theirs
):
    body = alice_client.get("/questionnaires/").content.decode()
    assert "Five gaps — standard" in body
    assert "Acme&#x27;s own" in body
    assert "Brightside" not in body


def test_the_detail_shows_both_wordings_side_by_side_per_gap(alice_client, default):
    response = alice_client.get(f"/questionnaires/{default.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    for gap in Gap:
        assert f'id="gap-{gap.value}"' in body
    assert (
        "<td>We do delivery thing 1 well.</td><td>They do delivery thing 1 well.</td>"
        in body
    )


def test_the_detail_warns_about_a_gap_without_items(alice_client, own):
    own.items.filter(gap=Gap.COMMUNICATION).delete()
    body = alice_client.get(f"/questionnaires/{own.pk}/").content.decode()
    assert "No item for the Communication gap." in body


def test_a_complete_questionnaire_has_no_warning(alice_client, own):
    body = alice_client.get(f"/questionnaires/{own.pk}/").content.decode()
    assert "questionnaire-problems" not in body


def test_wordings_are_escaped(alice_client, own):
    own.items.filter(position=1).update(customer_text="<script>alert(1)</script>")
    body = alice_client.get(f"/questionnaires/{own.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


# --- copy ---------------------------------------------------------------------


def test_copying_the_default_gives_the_organization_its_own(
    alice_client, alice, org_a, default
):
    response = alice_client.post(f"/questionnaires/{default.pk}/copy/")
    copy = Questionnaire.objects.get(organization=org_a)
    assert response.status_code == 302
    assert response["Location"] == f"/questionnaires/{copy.pk}/edit/"
    assert copy.name == f"{default.name} (copy for {org_a.name})"
    assert (copy.scale_min, copy.scale_max) == (default.scale_min, default.scale_max)
    assert positions(copy) == positions(default)
    assert list(copy.items.values_list("position", flat=True)) == list(range(1, 11))
    assert default.items.count() == 10  # the default is untouched
    event = AuditEvent.objects.get(action="questionnaire_copy")
    assert (event.organization, event.actor) == (org_a, alice.user)


def test_copying_its_own_adds_copy_to_the_name(alice_client, org_a, own):
    alice_client.post(f"/questionnaires/{own.pk}/copy/")
    assert org_a.questionnaires.filter(
        name="Acme's own (copy for Acme Services)"
    ).exists()


def test_a_second_copy_gets_a_name_of_its_own(alice_client, org_a, default):
    alice_client.post(f"/questionnaires/{default.pk}/copy/")
    alice_client.post(f"/questionnaires/{default.pk}/copy/")
    names = sorted(org_a.questionnaires.values_list("name", flat=True))
    assert len(set(names)) == 2
    assert default.name not in names


def test_the_copys_name_can_be_edited(alice_client, org_a, default):
    response = alice_client.post(f"/questionnaires/{default.pk}/copy/")
    copy = org_a.questionnaires.get()
    page = alice_client.get(response["Location"]).content.decode()
    assert f'value="{copy.name}"' in page


def test_the_new_study_form_preselects_the_organizations_latest_questionnaire(
    alice_client, org_a, default, own
):
    newer = factories.make_questionnaire(organization=org_a, name="Acme newer")
    form = alice_client.get("/studies/new/").context["form"]
    assert form["questionnaire"].value() == newer.pk
    html = alice_client.get("/studies/new/").content.decode()
    assert f'<option value="{newer.pk}" selected>' in html


def test_without_its_own_the_new_study_form_preselects_the_default(
    alice_client, default
):
    form = alice_client.get("/studies/new/").context["form"]
    assert form["questionnaire"].value() == default.pk


def test_the_study_page_names_its_questionnaire_and_links_to_it(
    alice_client, org_a, own
):
    study = factories.make_study(org_a, questionnaire=own)
    html = alice_client.get(f"/studies/{study.pk}/").content.decode()
    assert f'href="/questionnaires/{own.pk}/"' in html
    assert "Acme&#x27;s own" in html
    assert "your organization’s" in html


def test_another_organizations_questionnaire_cannot_be_copied(
    alice_client, org_a, theirs
):
    assert alice_client.post(f"/questionnaires/{theirs.pk}/copy/").status_code == 404
    assert not org_a.questionnaires.exists()


# --- editing -----------------------------------------------------------------


def test_the_default_questionnaire_is_never_editable(alice_client, default):
    assert alice_client.get(f"/questionnaires/{default.pk}/edit/").status_code == 403
    response = alice_client.post(
        f"/questionnaires/{default.pk}/edit/", settings_data(name="Mine")
    )
    assert response.status_code == 403
    response = alice_client.post(
        f"/questionnaires/{default.pk}/items/add/", item_data()
    )
    assert response.status_code == 403
    default.refresh_from_db()
    assert default.name == "Five gaps — standard"
    assert default.items.count() == 10


def test_the_default_page_offers_no_edit_link(alice_client, default):
    body = alice_client.get(f"/questionnaires/{default.pk}/").content.decode()
    assert f"/questionnaires/{default.pk}/edit/" not in body


def test_a_manager_changes_the_scale_of_their_copy(alice_client, alice, own):
    response = alice_client.post(f"/questionnaires/{own.pk}/edit/", settings_data())
    assert response.status_code == 302
    own.refresh_from_db()
    assert (own.scale_min, own.scale_max) == (1, 5)
    assert (own.label_min, own.label_mid, own.label_max) == (
        "Never",
        "Sometimes",
        "Always",
    )
    assert own.allow_dont_know is False
    assert AuditEvent.objects.filter(
        action="questionnaire_update", actor=alice.user
    ).exists()


@pytest.mark.parametrize("points", ["3", "10"])
def test_scales_of_three_to_ten_points_are_accepted(alice_client, own, points):
    alice_client.post(
        f"/questionnaires/{own.pk}/edit/", settings_data(scale_points=points)
    )
    own.refresh_from_db()
    assert own.scale_points == int(points)


@pytest.mark.parametrize("points", ["2", "11", "seven"])
def test_a_scale_outside_three_to_ten_points_is_refused_keeping_the_input(
    alice_client, own, points
):
    response = alice_client.post(
        f"/questionnaires/{own.pk}/edit/",
        settings_data(scale_points=points, label_min="Hardly ever"),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "The scale must have between 3 and 10 points." in body
    assert 'value="Hardly ever"' in body
    own.refresh_from_db()
    assert own.scale_max == 7
    assert own.label_min == "Strongly disagree"


def test_an_item_is_added_at_the_end(alice_client, alice, own):
    response = alice_client.post(f"/questionnaires/{own.pk}/items/add/", item_data())
    assert response.status_code == 302
    item = own.items.last()
    assert (item.gap, item.dimension, item.position) == ("delivery", "reliability", 11)
    assert item.customer_text == "They answer within a day."
    assert AuditEvent.objects.filter(action="item_add", actor=alice.user).exists()


@pytest.mark.parametrize("field", ["internal_text", "customer_text"])
def test_an_item_without_both_wordings_is_refused_keeping_the_input(
    alice_client, own, field
):
    response = alice_client.post(
        f"/questionnaires/{own.pk}/items/add/",
        item_data(**{field: "   "}, gap=Gap.STANDARDS),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "This field is required" in body or "cannot be empty" in body
    assert "within a day" in body  # the other wording was kept
    assert own.items.count() == 10


def test_an_unknown_gap_is_refused(alice_client, own):
    response = alice_client.post(
        f"/questionnaires/{own.pk}/items/add/", item_data(gap="vibes")
    )
    assert response.status_code == 200
    assert own.items.count() == 10


def test_an_item_is_edited(alice_client, own):
    item = own.items.first()
    url = f"/questionnaires/{own.pk}/items/{item.pk}/edit/"
    assert alice_client.get(url).status_code == 200
    response = alice_client.post(url, item_data(prefix="", gap=Gap.PERCEPTION))
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.gap, item.internal_text) == ("perception", "We answer within a day.")


def test_an_item_edit_with_an_empty_wording_keeps_the_input(alice_client, own):
    item = own.items.first()
    response = alice_client.post(
        f"/questionnaires/{own.pk}/items/{item.pk}/edit/",
        item_data(prefix="", internal_text="Typed text", customer_text=""),
    )
    assert response.status_code == 200
    assert "Typed text" in response.content.decode()
    item.refresh_from_db()
    assert item.internal_text == "We do knowledge thing 1 well."


def test_an_item_of_another_questionnaire_is_a_404(alice_client, own, default):
    stranger = default.items.first()
    url = f"/questionnaires/{own.pk}/items/{stranger.pk}/"
    assert alice_client.get(url + "edit/").status_code == 404
    assert alice_client.post(url + "remove/").status_code == 404
    assert Item.objects.filter(pk=stranger.pk).exists()


def test_removing_an_item_renumbers_the_rest(alice_client, own):
    first = own.items.first()
    response = alice_client.post(f"/questionnaires/{own.pk}/items/{first.pk}/remove/")
    assert response.status_code == 302
    assert not Item.objects.filter(pk=first.pk).exists()
    assert list(own.items.values_list("position", flat=True)) == list(range(1, 10))


def test_items_move_up_and_down(alice_client, own):
    before = positions(own)
    second = own.items.all()[1]
    url = f"/questionnaires/{own.pk}/items/{second.pk}/move/"
    alice_client.post(url, {"direction": "up"})
    assert positions(own)[:2] == [before[1], before[0]]
    alice_client.post(url, {"direction": "down"})
    alice_client.post(url, {"direction": "down"})
    assert positions(own)[:3] == [before[0], before[2], before[1]]


def test_the_first_item_cannot_move_further_up(alice_client, own):
    before = positions(own)
    first = own.items.first()
    alice_client.post(
        f"/questionnaires/{own.pk}/items/{first.pk}/move/", {"direction": "up"}
    )
    assert positions(own) == before


def test_a_move_in_no_direction_is_refused(alice_client, own):
    before = positions(own)
    item = own.items.first()
    response = alice_client.post(
        f"/questionnaires/{own.pk}/items/{item.pk}/move/",
        {"direction": "sideways"},
        follow=True,
    )
    assert "An item moves up or down." in response.content.decode()
    assert positions(own) == before


# --- frozen questionnaires and versions -----------------------------------------


def test_a_questionnaire_with_answers_offers_a_new_version(alice_client, org_a, own):
    freeze(own, org_a)
    response = alice_client.get(f"/questionnaires/{own.pk}/edit/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Make a new version" in body
    assert f"/questionnaires/{own.pk}/items/add/" not in body


def test_a_frozen_questionnaire_refuses_every_change(alice_client, org_a, own):
    freeze(own, org_a)
    item = own.items.first()
    base = f"/questionnaires/{own.pk}"
    attempts = [
        (f"{base}/edit/", settings_data(name="Changed")),
        (f"{base}/items/add/", item_data()),
        (f"{base}/items/{item.pk}/edit/", item_data(prefix="")),
        (f"{base}/items/{item.pk}/remove/", {}),
        (f"{base}/items/{item.pk}/move/", {"direction": "down"}),
    ]
    for url, data in attempts:
        response = alice_client.post(url, data, follow=True)
        assert "can no longer change" in response.content.decode(), url
    own.refresh_from_db()
    assert own.name == "Acme's own"
    assert own.items.count() == 10
    assert positions(own)[0] == "We do knowledge thing 1 well."
    assert not AuditEvent.objects.filter(action__startswith="item_").exists()


def test_a_draft_response_is_enough_to_freeze(org_a, own):
    study = factories.make_study(org_a, questionnaire=own)
    factories.make_response(study, status=Response.Status.DRAFT)
    assert own.is_frozen


def test_a_new_version_copies_the_frozen_one_and_can_be_edited(
    alice_client, org_a, own
):
    freeze(own, org_a)
    response = alice_client.post(f"/questionnaires/{own.pk}/new-version/")
    new = Questionnaire.objects.exclude(pk=own.pk).get(organization=org_a)
    assert response["Location"] == f"/questionnaires/{new.pk}/edit/"
    assert (new.name, new.version, new.previous_version) == (own.name, 2, own)
    assert positions(new) == positions(own)
    assert AuditEvent.objects.filter(action="questionnaire_new_version").exists()
    alice_client.post(f"/questionnaires/{new.pk}/edit/", settings_data(name="v2"))
    new.refresh_from_db()
    assert new.name == "v2"


def test_the_default_questionnaire_has_no_new_version(alice_client, default):
    response = alice_client.post(f"/questionnaires/{default.pk}/new-version/")
    assert response.status_code == 403
    assert Questionnaire.objects.count() == 1


# --- permissions -------------------------------------------------------------

PAGES = [
    ("get", "/questionnaires/"),
    ("get", "/questionnaires/{q}/"),
    ("post", "/questionnaires/{q}/copy/"),
    ("get", "/questionnaires/{q}/edit/"),
    ("post", "/questionnaires/{q}/new-version/"),
    ("post", "/questionnaires/{q}/items/add/"),
    ("get", "/questionnaires/{q}/items/{item}/edit/"),
    ("post", "/questionnaires/{q}/items/{item}/remove/"),
    ("post", "/questionnaires/{q}/items/{item}/move/"),
]


@pytest.fixture
def ids(own):
    return {"q": own.pk, "item": own.items.first().pk}


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_anonymous_people_are_sent_to_log_in(client, ids, method, url):
    response = getattr(client, method)(url.format(**ids))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_staff_are_refused(bob_client, ids, method, url):
    # A page about an object is a 404 to staff; the others explain with a 403.
    expected = 404 if "{" in url else 403
    assert getattr(bob_client, method)(url.format(**ids)).status_code == expected


@pytest.mark.parametrize(("method", "url"), PAGES[1:])
def test_another_organizations_questionnaire_is_a_404(
    charlie_client, ids, own, method, url
):
    response = getattr(charlie_client, method)(url.format(**ids))
    assert response.status_code == 404
    assert own.items.count() == 10


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_alice_reaches_every_page(alice_client, ids, method, url):
    data = {"direction": "down"} if url.endswith("move/") else {}
    response = getattr(alice_client, method)(url.format(**ids), data)
    assert response.status_code in (200, 302)


@pytest.mark.parametrize(("method", "url"), [p for p in PAGES if p[0] == "post"])
def test_post_only_pages_refuse_get(alice_client, ids, method, url):
    assert alice_client.get(url.format(**ids)).status_code == 405


def test_the_default_is_listed_first_and_marked(alice_client, own, default):
    body = alice_client.get("/questionnaires/").content.decode()
    assert body.index("Five gaps — standard") < body.index("Acme&#x27;s own")
    assert "Default</span>" in body


def test_the_study_form_tells_the_default_from_the_organizations_copy(
    alice_client, default, alice
):
    alice_client.post(f"/questionnaires/{default.pk}/copy/")
    body = alice_client.get("/studies/new/").content.decode()
    assert "Five gaps — standard (v1, default)" in body
    assert "Five gaps — standard (copy for Acme Services) (v1, yours)" in body


def test_the_detail_lists_only_the_organizations_studies_using_it(
    alice_client, org_a, org_b, default
):
    factories.make_study(org_a, name="Our wave", questionnaire=default)
    theirs = factories.make_study(org_b, name="Their wave", questionnaire=default)
    factories.make_response(theirs)
    body = alice_client.get(f"/questionnaires/{default.pk}/").content.decode()
    assert "Our wave" in body
    assert "Their wave" not in body
    assert "Frozen" not in body  # another organization's answers are not told


def test_item_edits_removals_and_moves_are_audited(alice_client, alice, own):
    first, second = own.items.all()[:2]
    base = f"/questionnaires/{own.pk}/items"
    alice_client.post(f"{base}/{first.pk}/edit/", item_data(prefix=""))
    alice_client.post(f"{base}/{second.pk}/move/", {"direction": "up"})
    alice_client.post(f"{base}/{first.pk}/remove/")
    actions = AuditEvent.objects.filter(actor=alice.user).values_list(
        "action", flat=True
    )
    assert sorted(actions) == ["item_move", "item_remove", "item_update"]
