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
    """The output of every analysis query that reads responses or answers
    (the published ones, and the tests' reference over every submitted one)."""
    from analysis.dashboard import trend_table
    from surveys.services.snapshots import published
    from tests import reference

    state = published(study)
    items = queries.study_items(study)
    groups = {
        audience: [*ids, None]
        for audience, ids in (
            (Audience.INTERNAL, [d for d, _ in queries.organization_groups(study)[0]]),
            (Audience.CUSTOMER, [s for s, _ in queries.organization_groups(study)[1]]),
        )
    }
    results = study_results(study, published=state)
    return {
        "seq": state.seq,
        "waiting": state.waiting,
        "scores": reference.respondent_gap_scores(study),
        "item_sums": reference.item_sums(study),
        "complete": reference.complete_item_sums(study),
        "study_sums": pd.concat(
            queries.study_sums(study, items, state.seq), keys=["s", "i"]
        ),
        "comments": queries.comments(study, state, queries.ALL, allowed=groups),
        "answers": pd.DataFrame(
            list(
                queries.anonymized_answers(
                    study, state, queries.ALL, allowed=groups, shown=lambda *_: True
                )
            )
        ),
        "staff_rate": pd.DataFrame([queries.staff_rate(study, state)]),
        "trend": trend_table(study),
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
        if isinstance(frame, pd.DataFrame):
            pd.testing.assert_frame_equal(frame, after[name], obj=name)
        else:
            assert frame == after[name], name  # no snapshot, nothing waiting
