"""Which published numbers could give a person or a small group away.

Plain functions on counts (numpy only, no Django); `surveys.services.snapshots`
feeds them and stores what they decide.

The model. A *unit* is one family of published numbers (the respondent counts,
one item's answers, one gap's scores, the overall score) and is planned for
each audience separately, since no published number mixes staff and customers.
A *cell* is the respondents of one group (a department or segment; None for
none) that entered the published results in one snapshot (`seq`): for a unit,
only those who count in it (who answered the item, who have a gap score).

A snapshot *releases* for each unit a `Release`: sums over the cells up to a
cutoff — the audience total (when shown) and each shown group. Anyone holding
every release knows the sum over any set in the linear span of the released
sets (totals minus groups, one snapshot minus the previous, one cut minus
another). A *disclosure* is a target set of 1 to K−1 respondents in that span:
a cell, a group or the audience between two snapshots, or the hidden groups of
a release between two snapshots. `disclosures` finds them by projecting the
targets on the span; `plan_release` chooses the next release so that there is
none, by hiding groups (complementary suppression) and holding back new cells.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

Group = int | None
Cell = tuple[Group, int]  # (group, seq)
Cells = Mapping[Cell, int]  # respondents per cell

_TOLERANCE = 1e-7


@dataclass(frozen=True)
class Release:
    """What one snapshot publishes of one unit for one audience: sums over
    the cells with seq <= cutoff, for the audience (when `total`) and for each
    group in `visible`."""

    cutoff: int
    visible: frozenset = frozenset()
    total: bool = False

    def to_json(self) -> dict:
        return {
            "cutoff": self.cutoff,
            "visible": sorted(_key(g) for g in self.visible),
            "total": self.total,
        }

    @classmethod
    def from_json(cls, data: Mapping) -> "Release":
        return cls(
            cutoff=int(data["cutoff"]),
            visible=frozenset(group_from_key(k) for k in data["visible"]),
            total=bool(data["total"]),
        )


NOTHING = Release(cutoff=0)


def _key(group: Group) -> str:
    return "-" if group is None else str(group)


def group_key(group: Group) -> str:
    """A group as a JSON object key: its id, or "-" for no group."""
    return _key(group)


def group_from_key(key: str) -> Group:
    return None if key == "-" else int(key)


def visible_groups(
    sizes: Mapping[Group, int], k: int, hidden: Iterable[Group] = ()
) -> frozenset:
    """The groups that may be shown: at least k respondents, and — complementary
    suppression — the hidden ones together at least k (or none), hiding the
    smallest shown groups until they are. `hidden` are hidden regardless."""
    hidden = set(hidden)
    shown = {g for g, n in sizes.items() if n >= k and g not in hidden}
    rest = sum(n for g, n in sizes.items() if g not in shown)
    while 0 < rest < k and shown:
        smallest = min(shown, key=lambda g: (sizes[g], _key(g)))
        shown.remove(smallest)
        rest += sizes[smallest]
    return frozenset(shown)


def _released_sets(
    cells: list[Cell], releases: Iterable[Release]
) -> Iterable[frozenset]:
    for release in releases:
        upto = [cell for cell in cells if cell[1] <= release.cutoff]
        if release.total and upto:
            yield frozenset(upto)
        for group in release.visible:
            part = frozenset(cell for cell in upto if cell[0] == group)
            if part:
                yield part


def _targets(cells: Cells, releases: list[Release], k: int) -> set[frozenset]:
    """Sets of 1 to k−1 respondents an attacker would want: per family of
    groups (each group, the audience, each release's hidden groups), the cells
    between any two snapshots."""
    groups = {g for g, _ in cells}
    families = {frozenset([g]) for g in groups} | {frozenset(groups)}
    for release in releases:
        hidden = frozenset(groups - release.visible)
        if hidden:
            families.add(hidden)
    seqs = sorted({s for _, s in cells})
    targets = set()
    for family in families:
        per_seq = {s: sum(cells.get((g, s), 0) for g in family) for s in seqs}
        for start in range(len(seqs)):
            size, chosen = 0, []
            for s in seqs[start:]:
                size += per_seq[s]
                chosen.append(s)
                if size >= k:
                    break
                if size > 0:
                    targets.add(
                        frozenset(
                            (g, x)
                            for g in family
                            for x in chosen
                            if cells.get((g, x), 0) > 0
                        )
                    )
    return targets


def disclosures(cells: Cells, releases: Iterable[Release], k: int) -> list[frozenset]:
    """The target sets of 1 to k−1 respondents whose sum the releases give away."""
    cells = {cell: n for cell, n in cells.items() if n > 0}
    releases = list(releases)
    columns = sorted(cells, key=lambda c: (_key(c[0]), c[1]))
    index = {cell: j for j, cell in enumerate(columns)}
    rows = list(_released_sets(columns, releases))
    if not rows or not columns:
        return []
    targets = sorted(
        _targets(cells, releases, k), key=lambda t: (len(t), sorted(map(str, t)))
    )
    if not targets:
        return []
    matrix = np.zeros((len(rows), len(columns)))
    for i, row in enumerate(rows):
        matrix[i, [index[c] for c in row]] = 1.0
    _, singular, vt = np.linalg.svd(matrix, full_matrices=False)
    basis = vt[singular > _TOLERANCE * max(1.0, singular[0])]
    wanted = np.zeros((len(targets), len(columns)))
    for i, target in enumerate(targets):
        wanted[i, [index[c] for c in target]] = 1.0
    residual = wanted - (wanted @ basis.T) @ basis
    found = np.linalg.norm(residual, axis=1) < 1e-6
    return [target for target, hit in zip(targets, found, strict=True) if hit]


def plan_release(
    cells: Cells,
    history: list[Release],
    seq: int,
    k: int,
    *,
    pending: Mapping[Group, int] | None = None,
) -> tuple[Release | None, frozenset]:
    """The next release of a unit at snapshot `seq`, and the pending groups
    it takes in.

    `cells` are the cells already decided (earlier snapshots, and for a unit
    other than the respondents the new snapshot's own); `pending` (respondents
    only) are the new snapshot's candidate cells per group, which may be held
    back. Tries to release everything up to `seq` with the visible groups;
    while that discloses something it hides newly visible groups, then holds
    back pending cells, then hides the groups involved. Returns (None, ∅)
    when nothing new can be released safely: the caller keeps the previous
    release.
    """
    pending = {g: n for g, n in (pending or {}).items() if n > 0}
    previous = history[-1] if history else NOTHING
    hidden: set = set()
    held: set = set()
    for _ in range(2 * (len(pending) + len({g for g, _ in cells})) + 4):
        current = dict(cells)
        for group, n in pending.items():
            if group not in held:
                current[(group, seq)] = n
        sizes: dict = {}
        for (group, s), n in current.items():
            if s <= seq:
                sizes[group] = sizes.get(group, 0) + n
        total = sum(sizes.values())
        shown = visible_groups(sizes, k, hidden) if total >= k else frozenset()
        release = Release(cutoff=seq, visible=shown, total=total >= k)
        found = disclosures(current, [*history, release], k)
        if not found:
            return release, frozenset(set(pending) - held)
        target = found[0]
        involved = {group for group, _ in target}
        newly = (shown - previous.visible) & involved
        waiting = {g for g, s in target if s == seq and g in pending and g not in held}
        if newly:
            hidden |= newly
        elif waiting:
            held |= waiting
        elif shown - previous.visible:
            hidden |= shown - previous.visible
        elif shown & involved:
            hidden |= shown & involved
        else:
            break
    return None, frozenset()
