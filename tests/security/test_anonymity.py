"""The five anonymity attacks of a manager, through the pages and exports.

Each test plays the attack as a manager would — export, wait for someone to
answer, export again; subtract a cut from its parent; subtract one export from
another; regroup; download a named contact's data — and shows it recovers
nothing. Before published snapshots and complementary suppression, every one
of them recovered a person's answers (see SECURITY.md).
"""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from surveys.models import Audience, Department
from surveys.services import studies as study_services
from tests import factories
from tests.analysis.conftest import submit

pytestmark = pytest.mark.django_db

K = 3


def export(client, study, kind="gaps", **cut) -> list[dict]:
    query = "&".join(f"{k}={v}" for k, v in cut.items())
    url = reverse("export", args=[study.pk, kind, "csv"]) + (
        f"?{query}" if query else ""
    )
    response = client.get(url)
    assert response.status_code == 200, response.content
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def dashboard(client, study, **cut) -> str:
    query = "&".join(f"{k}={v}" for k, v in cut.items())
    url = reverse("dashboard", args=[study.pk]) + (f"?{query}" if query else "")
    return client.get(url).content.decode()


def items_of(rows: list[dict]) -> dict:
    """Item rows of a gap-table export by position: (staff n, staff mean)."""
    return {
        row["item_position"]: (row["staff_n"], row["staff_mean"])
        for row in rows
        if row["level"] == "item"
    }


def number(value: str):
    try:
        return float(value)
    except ValueError:
        return None


@pytest.fixture
def study(org_a):
    return factories.make_study(org_a, min_group_size=K)


@pytest.fixture
def questionnaire_items(study):
    return list(study.questionnaire.items.order_by("position"))


def answers(items, value: int) -> dict:
    return {item: value for item in items}


def test_attack_1_over_time_a_newcomer_moves_no_published_number(
    alice_client, study, questionnaire_items, org_a
):
    """Export, let one more staff member answer, export again: n·mean after −
    n·mean before would be that person's answers. The newcomer waits."""
    front = factories.make_department(org_a, "Front desk")
    small = factories.make_department(org_a, "Back office")  # of 3: suppressed
    for value in (4, 5, 6, 5, 4):
        submit(
            study,
            Audience.INTERNAL,
            answers(questionnaire_items, value),
            department=front,
        )
    for value in (2, 3):
        submit(
            study,
            Audience.INTERNAL,
            answers(questionnaire_items, value),
            department=small,
        )
    before = export(alice_client, study)
    submit(study, Audience.INTERNAL, answers(questionnaire_items, 7), department=small)
    after = export(alice_client, study)
    assert items_of(after) == items_of(before)
    assert "1 new answer is waiting" in dashboard(alice_client, study)
    # Two more of the back office: three new answers, published together.
    for value in (1, 1):
        submit(
            study,
            Audience.INTERNAL,
            answers(questionnaire_items, value),
            department=small,
        )
    later = export(alice_client, study)
    moved = {
        pos: int(later_n) - int(items_of(before)[pos][0])
        for pos, (later_n, _) in items_of(later).items()
    }
    assert set(moved.values()) == {3}  # a step of at least K, never one


def test_attack_2_by_complement_the_smallest_shown_group_is_hidden_too(
    alice_client, study, questionnaire_items, org_a
):
    """Every department shown but one: the total minus the shown ones would
    be the hidden one. The smallest shown department is hidden with it."""
    departments = {
        name: factories.make_department(org_a, name)
        for name in ("Front desk", "Claims", "Billing")
    }
    for name, count in (("Front desk", 6), ("Claims", 4), ("Billing", 1)):
        for _ in range(count):
            submit(
                study,
                Audience.INTERNAL,
                answers(questionnaire_items, 5),
                department=departments[name],
            )
    html = dashboard(alice_client, study)
    matrix = (
        html.split('id="departments-table"')[1]
        if 'id="departments-table"' in html
        else html
    )
    assert "hidden to protect a smaller group" in matrix
    shown = [
        name
        for name, dept in departments.items()
        if export_or_none(alice_client, study, department=dept.pk) is not None
    ]
    assert shown == ["Front desk"]  # Claims (4) is hidden with Billing (1)


def export_or_none(client, study, **cut):
    query = "&".join(f"{k}={v}" for k, v in cut.items())
    url = reverse("export", args=[study.pk, "gaps", "csv"]) + f"?{query}"
    response = client.get(url)
    if response.status_code == 400:
        assert "not shown on its own" in response.content.decode()
        return None
    assert response.status_code == 200
    return response


def test_attack_3_subtracting_cuts_leaves_at_least_k_people(
    alice_client, study, questionnaire_items, org_a
):
    """The whole study minus every department that can be filtered on must
    never be fewer than K people (a lone unassigned staff member was)."""
    front = factories.make_department(org_a, "Front desk")
    claims = factories.make_department(org_a, "Claims")
    for dept, count in ((front, 5), (claims, 5), (None, 1)):
        for _ in range(count):
            submit(
                study,
                Audience.INTERNAL,
                answers(questionnaire_items, 4),
                department=dept,
            )
    total = {
        pos: int(n) for pos, (n, _) in items_of(export(alice_client, study)).items()
    }
    covered = dict.fromkeys(total, 0)
    for dept in (front, claims):
        response = export_or_none(alice_client, study, department=dept.pk)
        if response is None:
            continue
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        for pos, (n, _) in items_of(list(csv.DictReader(io.StringIO(text)))).items():
            covered[pos] += int(n)
    for pos, n in total.items():
        assert n - covered[pos] == 0 or n - covered[pos] >= K


def test_attack_3_no_page_prints_the_size_of_a_hidden_group(
    alice_client, study, questionnaire_items, org_a
):
    """The heatmap's hover said "fewer than 5 (n = 4)" and the rates table
    "Answered 4"; neither prints a hidden group's size now."""
    retail = factories.make_segment(org_a, "Retail")
    tiny = factories.make_segment(org_a, "Tiny")
    for segment, count in ((retail, 5), (tiny, 2)):
        for _ in range(count):
            contact = factories.make_contact(org_a, segment=segment)
            invitation, _ = factories.make_invitation(
                study, contact, sent_at=timezone.now(), responded_at=timezone.now()
            )
            submit(
                study,
                Audience.CUSTOMER,
                answers(questionnaire_items, 3),
                segment=segment,
                invitation=invitation,
            )
    html = dashboard(alice_client, study)
    assert "(n = 2)" not in html and "(n = 5)" not in html.split("rates-table")[0]
    rates = html.split('data-testid="rates-table"')[1].split("</table>")[0]
    tiny_row = rates.split(">Tiny<")[1].split("</tr>")[0]
    cells = [cell.split("</td>")[0] for cell in tiny_row.split("<td")[1:]]
    invited, sent, failed, opened, answered, rate = cells
    assert invited.endswith(">2") and sent.endswith(">2")  # sending is not answering
    assert "fewer than 3" in answered and "2" not in answered
    assert rate.endswith(">—")


def test_attack_3_the_gap_table_minus_the_answers_export_is_k_or_more(
    alice_client, study, questionnaire_items, org_a
):
    """The gap table's totals minus the anonymized answers (rows of the shown
    groups only) gave the hidden groups' exact sums: what the two differ by
    is never fewer than K answers."""
    retail = factories.make_segment(org_a, "Retail")
    tiny = factories.make_segment(org_a, "Tiny")
    for segment, count in ((retail, 5), (tiny, 1)):
        for _ in range(count):
            submit(
                study,
                Audience.CUSTOMER,
                answers(questionnaire_items, 2),
                segment=segment,
            )
    gaps = export(alice_client, study)
    rows = export(alice_client, study, kind="answers")
    for row in gaps:
        if row["level"] != "item":
            continue
        n = number(row["customers_n"])
        exported = sum(
            1 for r in rows if r["item"] == row["item_position"] and r["value"]
        )
        if n is not None:
            assert n - exported == 0 or n - exported >= K


def test_attack_4_regrouping_never_moves_a_published_response(
    alice_client, study, questionnaire_items, org_a, alice
):
    """Deleting departments pooled their past answers into "No department",
    which then reached the minimum and was exported row by row. Groups are
    frozen in the snapshot: the closed wave's numbers do not move."""
    front = factories.make_department(org_a, "Front desk")
    lone = factories.make_department(org_a, "Lone")
    others = [factories.make_department(org_a, f"Team {n}") for n in range(2)]
    for dept, count in ((front, 5), (lone, 1), (others[0], 1), (others[1], 1)):
        for _ in range(count):
            submit(
                study,
                Audience.INTERNAL,
                answers(questionnaire_items, 3),
                department=dept,
            )
    study_services.study_close(study=study, actor=alice.user)
    before_gaps = export(alice_client, study)
    before_rows = export(alice_client, study, kind="answers")
    Department.objects.filter(pk__in=[lone.pk, *(d.pk for d in others)]).delete()
    assert export(alice_client, study) == before_gaps
    after_rows = export(alice_client, study, kind="answers")
    assert sorted(r["department"] for r in after_rows) == sorted(
        r["department"] for r in before_rows
    )
    assert "No department" not in {r["department"] for r in after_rows}


def test_attack_5_the_data_rights_export_holds_no_answers(
    alice_client, study, questionnaire_items, org_a
):
    contact = factories.make_contact(org_a, email="named@example.com")
    invitation, _ = factories.make_invitation(study, contact, sent_at=timezone.now())
    submit(
        study,
        Audience.CUSTOMER,
        answers(questionnaire_items, 1),
        invitation=invitation,
        comment="Only I would write this",
    )
    body = alice_client.get(reverse("contact_export", args=[contact.pk])).content
    assert b"Only I would write this" not in body and b'"answers"' not in body


def test_an_earlier_snapshot_can_be_read_and_an_unpublished_one_is_refused(
    alice_client, study, questionnaire_items
):
    for value in (4, 5, 6):
        submit(study, Audience.CUSTOMER, answers(questionnaire_items, value))
    first = export(alice_client, study)
    for value in (1, 1, 1):
        submit(study, Audience.CUSTOMER, answers(questionnaire_items, value))
    latest = export(alice_client, study)
    assert latest != first
    assert export(alice_client, study, snapshot=1) == first
    html = dashboard(alice_client, study, snapshot=1)
    assert 'href="?snapshot=2"' in html and "published snapshot 1" in html
    for asked in ("3", "abc", "-1"):
        for url in (
            reverse("dashboard", args=[study.pk]) + f"?snapshot={asked}",
            reverse("export", args=[study.pk, "answers", "csv"]) + f"?snapshot={asked}",
        ):
            response = alice_client.get(url)
            assert response.status_code == 400
            assert "snapshot" in response.content.decode()


def test_closing_publishes_a_final_snapshot_and_says_what_was_left_out(
    alice_client, study, questionnaire_items, org_a, alice
):
    front = factories.make_department(org_a, "Front desk")
    for _ in range(5):
        submit(
            study, Audience.INTERNAL, answers(questionnaire_items, 5), department=front
        )
    export(alice_client, study)  # publishes the five
    submit(study, Audience.INTERNAL, answers(questionnaire_items, 1), department=front)
    study_services.study_close(study=study, actor=alice.user)
    final = study.snapshots.get(final=True)
    assert final.left_out == 1
    html = dashboard(alice_client, study)
    assert "the final one of this closed study" in html
    assert "1 answer was submitted but can never be published safely" in html
