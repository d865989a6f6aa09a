"""Issue 19.1: answers saved but not submitted — a staff draft, a customer's
"finish later", a refused submit — never reach any analysis query."""

import pandas as pd
import pytest

from analysis import queries
from analysis.dashboard import study_results
from surveys.models import Audience, Response, Role
from surveys.services.responses import customer_response_save, staff_response_save
from tests import factories
from tests.analysis.conftest import gap_items

pytestmark = pytest.mark.django_db


def everything(study) -> dict:
    """The output of every analysis query that reads responses or answers."""
    items = queries.study_items(study)
    groups = {
        audience: [*ids, None]
        for audience, ids in (
            (Audience.INTERNAL, [d for d, _ in queries.organization_groups(study)[0]]),
            (Audience.CUSTOMER, [s for s, _ in queries.organization_groups(study)[1]]),
        )
    }
    results = study_results(study)
    return {
        "scores": queries.respondent_gap_scores(study),
        "item_sums": queries.item_sums(study),
        "complete": queries.complete_item_sums(study),
        "study_sums": pd.concat(queries.study_sums(study, items), keys=["s", "i"]),
        "comments": queries.comments(study, queries.ALL, allowed=groups),
        "group_sizes": queries.group_sizes(study),
        "answers": pd.DataFrame(
            list(queries.anonymized_answers(study, queries.ALL, allowed=groups))
        ),
        "staff_rate": pd.DataFrame([queries.staff_rate(study)]),
        "trend": queries.trend_sums(study),
        "gap_table": results["gap_table"],
        "item_table": results["item_table"],
    }


def test_drafts_of_staff_and_customers_reach_no_analysis_query(hand_study, org_a):
    staff = factories.make_member(
        org_a, Role.STAFF, factories.make_department(org_a, "Front desk 2")
    )
    invitations = [factories.make_invitation(hand_study)[0] for _ in range(2)]
    before = everything(hand_study)
    k1, k2 = gap_items(hand_study, "knowledge")
    every_item = list(hand_study.questionnaire.items.all())
    staff_response_save(
        study=hand_study,
        membership=staff,
        answers={item.pk: 1 for item in every_item[:-1]},
        comment="Draft comment of staff",
        submit=False,
    )
    for value, invitation in zip((1, 7), invitations, strict=True):
        customer_response_save(
            invitation=invitation,
            answers={k1.pk: value, k2.pk: value},
            comment=f"Draft comment {value}",
            submit=False,
        )
    assert Response.objects.filter(status=Response.Status.DRAFT).count() == 3

    after = everything(hand_study)

    for name, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[name], obj=name)
