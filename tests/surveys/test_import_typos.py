"""Issue 19.5: an import preview lists the segments and departments it would
create, and warns when a new name is close to an existing one."""

import pytest

from surveys.services.names import new_names_with_neighbours
from tests import factories
from tests.surveys.test_contacts_import import _preview as contacts_preview
from tests.surveys.test_staff import preview as staff_preview

pytestmark = pytest.mark.django_db


def test_close_names_use_a_difflib_ratio_of_at_least_0_8():
    [retial, wholesale] = new_names_with_neighbours(
        ["Retial", "Wholesale"], ["Retail", "Public sector"]
    )
    assert retial.close_to == ["Retail"]
    assert wholesale.close_to == []


def test_the_contacts_preview_lists_new_segments_and_warns_of_a_typo(
    alice_client, org_a
):
    factories.make_segment(org_a, "Retail")
    response = contacts_preview(
        alice_client,
        "email,name,segment\n"
        "a@example.com,A,Retial\n"
        "b@example.com,B,Partners\n"
        "c@example.com,C,retail\n",
    )
    plan = response.context["plan"]
    assert [new.name for new in plan.new_segments] == ["Retial", "Partners"]
    html = response.content.decode()
    assert 'data-testid="new-segments"' in html
    assert "<strong>Retial</strong>" in html and "<strong>Partners</strong>" in html
    assert html.count('data-testid="close-name"') == 1
    assert "“Retial” is close to the existing segment “Retail”" in html


def test_the_staff_preview_lists_new_departments_and_warns_of_a_typo(
    alice_client, support
):
    response = staff_preview(
        alice_client,
        "email,name,department\nn1@acme.example,N,Suport\nn2@acme.example,M,Sales\n",
    )
    html = response.content.decode()
    assert 'data-testid="new-departments"' in html
    assert "“Suport” is close to the existing department “Support”" in html
    assert html.count('data-testid="close-name"') == 1


def test_no_warning_when_nothing_new(alice_client, org_a):
    factories.make_segment(org_a, "Retail")
    response = contacts_preview(alice_client, "email,segment\na@example.com,Retail\n")
    assert 'data-testid="new-segments"' not in response.content.decode()
