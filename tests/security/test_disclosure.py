"""The publisher's rule against the auditor: whatever arrives in whatever
order, the released sums never let anyone solve for a person or a group below
the minimum size — and what can be published safely is published."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveys.disclosure import Release, disclosures, plan_release, visible_groups
from tests.security.auditor import solvable

K = 3
GROUPS = [None, 1, 2, 3]


def simulate(steps: list[dict], k: int = K):
    """Feed arrivals (group → people) step by step to the planner, as the
    snapshot service does for the respondent counts. Returns the people
    (id → (group, seq or None)) and the releases."""
    people: dict[int, list] = {}
    cells: dict = {}
    history: list[Release] = []
    for arrivals in steps:
        for group, count in arrivals.items():
            for _ in range(count):
                people[len(people)] = [group, None]
        seq = len(history) + 1
        pending: dict = {}
        for group, seen in people.values():
            if seen is None:
                pending[group] = pending.get(group, 0) + 1
        release, taken = plan_release(cells, history, seq, k, pending=pending)
        if release is None or not taken:
            continue
        for person in people.values():
            if person[1] is None and person[0] in taken:
                person[1] = seq
        for group in taken:
            cells[(group, seq)] = pending[group]
        history.append(release)
    return people, history


def released_rows(people: dict, history: list[Release]) -> list[frozenset]:
    rows = []
    for release in history:
        upto = {p for p, (_, seq) in people.items() if seq and seq <= release.cutoff}
        if release.total:
            rows.append(frozenset(upto))
        for group in release.visible:
            rows.append(frozenset(p for p in upto if people[p][0] == group))
    return rows


arrivals = st.lists(
    st.dictionaries(st.sampled_from(GROUPS), st.integers(0, 5), max_size=4),
    min_size=1,
    max_size=7,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrivals, st.sampled_from([3, 5]))
def test_no_sequence_of_arrivals_lets_anyone_solve_for_a_small_group(steps, k):
    people, history = simulate(steps, k)
    assert solvable(released_rows(people, history), k) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(GROUPS), st.integers(3, 6))))
def test_arrivals_of_at_least_k_per_group_are_published_at_once(steps):
    people, history = simulate(steps)
    assert all(seq is not None for _, seq in people.values())


def test_one_new_person_waits_until_the_step_reaches_k():
    people, history = simulate([{1: 5, 2: 5}, {1: 1}])
    assert [seq for _, seq in people.values()] == [1] * 10 + [None]
    people, history = simulate([{1: 5, 2: 5}, {1: 1}, {1: 2}])
    assert [seq for _, seq in people.values()] == [1] * 10 + [2] * 3


def test_a_hidden_group_is_never_the_only_one_hidden():
    """Attack 2: the total minus the shown groups is the hidden group."""
    people, history = simulate([{1: 6, 2: 5, 3: 1}])
    assert history[-1].visible == frozenset({1})  # 2 is hidden with 3
    assert solvable(released_rows(people, history), K) == []


def test_visible_groups_hide_the_smallest_until_the_hidden_reach_k():
    assert visible_groups({1: 10, 2: 4, 3: 1}, 5) == frozenset({1})
    assert visible_groups({1: 10, 2: 6, 3: 1}, 5) == frozenset({1})
    assert visible_groups({1: 10, 2: 6, 3: 5}, 5) == frozenset({1, 2, 3})
    assert visible_groups({1: 4, 2: 1}, 5) == frozenset()


@pytest.mark.parametrize(
    ("cells", "releases", "expected"),
    [
        # One snapshot minus the one before: the newcomer.
        (
            {(1, 1): 5, (1, 2): 1},
            [Release(1, frozenset(), True), Release(2, frozenset(), True)],
            [frozenset({(1, 2)})],
        ),
        # The total minus the shown group: the hidden one.
        ({(1, 1): 5, (2, 1): 2}, [Release(1, frozenset({1}), True)], None),
    ],
)
def test_disclosures_finds_the_classic_attacks(cells, releases, expected):
    found = disclosures(cells, releases, 5)
    if expected is None:
        assert frozenset({(2, 1)}) in found
    else:
        assert found == expected


def test_the_auditor_catches_what_the_old_rules_published():
    """Without snapshots and complementary suppression (every arrival shown at
    once, every group of at least K shown), the auditor solves for people."""
    people = {p: (1 if p < 5 else 2 if p < 7 else 1) for p in range(8)}
    first = frozenset(range(7))  # 5 in group 1, 2 in group 2
    second = frozenset(range(8))  # one more in group 1
    rows = [first, frozenset(range(5)), second, frozenset([*range(5), 7])]
    found = solvable(rows, K)
    assert frozenset({5, 6}) in found  # group 2: the total minus group 1
    assert frozenset({7}) in found  # the newcomer: one state minus the other
    assert people[7] == 1
