"""The default questionnaire in fixtures/ is complete and paired."""

import pytest
from django.core.management import call_command

from surveys.models import Gap, Item, Questionnaire

pytestmark = pytest.mark.django_db


@pytest.fixture
def standard():
    call_command("loaddata", "default_questionnaire", verbosity=0)
    return Questionnaire.objects.get(name="Five gaps — standard")


def test_it_is_available_to_every_organization(standard):
    assert standard.organization is None


def test_it_has_at_least_four_items_for_every_gap(standard):
    for gap in Gap:
        assert standard.items.filter(gap=gap).count() >= 4, gap


def test_every_item_has_both_wordings_and_they_differ(standard):
    for item in standard.items.all():
        assert item.internal_text.strip() and item.customer_text.strip()
        assert item.internal_text != item.customer_text


def test_it_uses_a_seven_point_agreement_scale_with_labels(standard):
    assert (standard.scale_min, standard.scale_max) == (1, 7)
    assert standard.label_min == "Strongly disagree"
    assert standard.label_max == "Strongly agree"
    assert standard.label_mid


def test_loading_it_twice_changes_nothing(standard):
    call_command("loaddata", "default_questionnaire", verbosity=0)
    assert Questionnaire.objects.count() == 1
    assert Item.objects.count() == standard.items.count()
