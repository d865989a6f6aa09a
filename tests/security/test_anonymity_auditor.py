"""The suppression auditor over a generated study, run by hypothesis.

Staff and customers answer (with "don't know" here and there) in small and
large groups, departments are deleted, the study is read and closed, in any
order. After every read, every number the dashboard shows is checked against
the people it stands for (from the published snapshots), and the auditor
(tests/security/auditor.py) tries to solve, from all the states published so
far, for any person or any group below the minimum size. It must find none.
"""

import itertools

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from analysis import queries
from analysis.dashboard import study_numbers
from surveys.models import Answer, Department, SnapshotEntry, Study
from surveys.services.snapshots import (
    OVERALL,
    RESPONDENTS,
    gap_unit,
    item_unit,
    published,
)
from tests import factories
from tests.analysis.conftest import submit
from tests.security.auditor import solvable

K = 3
ITEMS = 6  # the first items of the default questionnaire: enough gaps, fast
_organizations = itertools.count()


class AnonymityMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        n = next(_organizations)
        self.org = factories.make_organization(name=f"Audit {n}", slug=f"audit-{n}")
        self.study = factories.make_study(self.org, min_group_size=K)
        self.items = list(self.study.questionnaire.items.order_by("position"))[:ITEMS]
        self.departments = [
            factories.make_department(self.org, f"Team {i}") for i in range(3)
        ]
        self.segments = [factories.make_segment(self.org, f"Seg {i}") for i in range(2)]
        self.closed = False
        self.reads = 0

    values = st.lists(
        st.one_of(st.none(), st.integers(1, 7)), min_size=ITEMS, max_size=ITEMS
    )

    @precondition(lambda self: not self.closed)
    @rule(group=st.integers(0, 3), values=values, count=st.integers(1, 4))
    def staff_answer(self, group, values, count):
        department = self.departments[group] if group < 3 else None
        for _ in range(count):
            submit(
                self.study,
                "internal",
                dict(zip(self.items, values, strict=True)),
                department=department,
            )

    @precondition(lambda self: not self.closed)
    @rule(group=st.integers(0, 2), values=values, count=st.integers(1, 4))
    def customer_answers(self, group, values, count):
        segment = self.segments[group] if group < 2 else None
        for _ in range(count):
            submit(
                self.study,
                "customer",
                dict(zip(self.items, values, strict=True)),
                segment=segment,
            )

    @rule(which=st.integers(0, 2))
    def delete_a_department(self, which):
        """Regrouping: its past answers keep their published group."""
        if self.departments[which] is not None:
            Department.objects.filter(pk=self.departments[which].pk).delete()
            self.departments[which] = None

    @precondition(lambda self: not self.closed)
    @rule()
    def close(self):
        Study.objects.filter(pk=self.study.pk).update(status=Study.Status.CLOSED)
        self.study.refresh_from_db()
        self.closed = True

    @rule()
    def read(self):
        self.study.refresh_from_db()
        state = published(self.study)
        self.reads += 1
        self.check_the_page_against_the_snapshot(state)

    def check_the_page_against_the_snapshot(self, state):
        """Every number shown stands for exactly the people the snapshot
        says: no hidden group or waiting answer slips into a shown number."""
        numbers = study_numbers(self.study, queries.ALL, state)
        people = self.people()
        for row in numbers["gap_table"].to_dict("records"):
            unit = OVERALL if row["gap"] == "overall" else gap_unit(row["gap"])
            for audience in ("internal", "customer"):
                if row[f"{audience}_suppressed"]:
                    continue
                release = state.release(unit, audience)
                assert release.total
                assert row[f"{audience}_n"] == len(
                    self.members(people, unit, audience, release.cutoff)
                )
        for row in numbers["item_table"].to_dict("records"):
            unit = item_unit(row["item_id"])
            for audience in ("internal", "customer"):
                if not row[f"{audience}_suppressed"]:
                    release = state.release(unit, audience)
                    assert row[f"{audience}_n"] == len(
                        self.members(people, unit, audience, release.cutoff)
                    )

    def people(self) -> dict:
        """Published respondents: id → (audience, frozen group, seq, units).
        A gap's (or the overall) score counts from half of its items on."""
        sizes: dict = {}
        for gap in self.study.questionnaire.items.values_list("gap", flat=True):
            sizes[gap] = sizes.get(gap, 0) + 1
        answered: dict[int, set] = {}
        per_gap: dict[int, dict] = {}
        for response_id, item_id, gap in Answer.objects.filter(
            response__study=self.study, value__isnull=False
        ).values_list("response_id", "item_id", "item__gap"):
            units = answered.setdefault(response_id, {RESPONDENTS})
            units.add(item_unit(item_id))
            counts = per_gap.setdefault(response_id, {})
            counts[gap] = counts.get(gap, 0) + 1
        for response_id, counts in per_gap.items():
            for gap, m in counts.items():
                if 2 * m >= sizes[gap]:
                    answered[response_id].add(gap_unit(gap))
            if 2 * sum(counts.values()) >= sum(sizes.values()):
                answered[response_id].add(OVERALL)
        return {
            pk: (audience, group, seq, answered.get(pk, set()) | {RESPONDENTS})
            for pk, audience, group, seq in SnapshotEntry.objects.filter(
                study=self.study
            ).values_list("response_id", "audience", "group_id", "seq")
        }

    @staticmethod
    def members(people, unit, audience, cutoff, group=...):
        return {
            pk
            for pk, (who, in_group, seq, units) in people.items()
            if who == audience
            and seq <= cutoff
            and unit in units
            and (group is ... or in_group == group)
        }

    @invariant()
    def nobody_can_be_solved_for(self):
        if not getattr(self, "reads", 0):
            return
        people = self.people()
        snapshots = list(self.study.snapshots.order_by("seq"))
        units = {u for s in snapshots for u in s.state.get("releases", {})}
        for unit in units:
            for audience in ("internal", "customer"):
                rows = []
                for snapshot in snapshots:
                    data = snapshot.state["releases"].get(unit, {}).get(audience)
                    if not data:
                        continue
                    cutoff = data["cutoff"]
                    if data["total"]:
                        rows.append(self.members(people, unit, audience, cutoff))
                    for key in data["visible"]:
                        group = None if key == "-" else int(key)
                        rows.append(self.members(people, unit, audience, cutoff, group))
                assert solvable(rows, K) == [], (unit, audience)


@pytest.mark.django_db
def test_the_auditor_solves_for_nobody_across_submits_regroupings_and_reads(
    org_a,
):
    run_state_machine_as_test(
        AnonymityMachine,
        settings=settings(
            max_examples=12,
            stateful_step_count=14,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
