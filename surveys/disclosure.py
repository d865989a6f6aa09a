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
another). A *disclosure* is a set of 1 to K−1 respondents in that span: a newcomer
between two snapshots, a hidden group as the total minus the shown ones, or
any other combination. `disclosures` finds every one of them (the span holds
only unions of the cells the released sets never tell apart, so it tries each
union of fewer than K respondents); `plan_release` chooses the next release so
that there is none, by hiding groups (complementary suppression) and holding
back new cells.

*Known* respondents are those whose own answers are shown elsewhere: a customer
who agreed to be contacted and got a follow-up case, whose owner sees their
answers. Each cell is then split in its known and its other respondents, the
known part counts as released on its own, and only sets holding someone who
is not known are disclosures: K−1 known people beside one other in a group of
K would give that one away.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Group = int | None
Cell = tuple[Group, int]  # (group, seq)
Cells = Mapping[Cell, int]  # respondents per cell
Known = Mapping[Cell, int]  # respondents of a cell whose own answers are shown

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


def _classes(cells: dict, rows: list[frozenset]) -> dict[tuple, list]:
    """Cells no released set tells apart (the same membership in every set),
    by signature; cells in no released set are not published and left out."""
    classes: dict[tuple, list] = {}
    for cell in cells:
        signature = tuple(cell in row for row in rows)
        if any(signature):
            classes.setdefault(signature, []).append(cell)
    return classes


def _unions(sizes: list[int], k: int, limit: int):
    """Index tuples of the classes (sizes sorted ascending) whose sizes add up
    to 1 … k−1; stops after `limit` and then yields None (give up: unsafe)."""
    found = 0
    stack = [((), 0, 0)]
    while stack:
        chosen, total, start = stack.pop()
        for j in range(start, len(sizes)):
            size = total + sizes[j]
            if size >= k:
                break  # sizes are sorted: every later class is larger
            combo = (*chosen, j)
            found += 1
            if found > limit:
                yield None
                return
            yield combo
            stack.append((combo, size, j + 1))


def _split(cells: Cells, known: Known) -> dict:
    """Each cell as (group, seq, False) for its respondents who are not known
    and (group, seq, True) for those who are."""
    split: dict = {}
    for (group, seq), n in cells.items():
        shown = min(known.get((group, seq), 0), n)
        if n - shown > 0:
            split[(group, seq, False)] = n - shown
        if shown > 0:
            split[(group, seq, True)] = shown
    return split


def disclosures(
    cells: Cells,
    releases: Iterable[Release],
    k: int,
    *,
    limit: int = 200_000,
    known: Known | None = None,
) -> list[frozenset]:
    """The sets of 1 to k−1 respondents whose sum the releases give away.

    Exhaustive: every linear combination of released sets is constant on the
    classes of cells they never tell apart, so the sets that can be solved
    for are unions of classes; each union of fewer than k respondents is
    tested against the span of the released sets. (Beyond `limit` unions the
    rest are reported as given away: refusing is the safe side.) `known`
    respondents (see the module docstring) count as released one by one.
    """
    import numpy as np  # here, not at import: the URLconf loads this module

    cells = {cell: n for cell, n in cells.items() if n > 0}
    if known:
        cells = _split(cells, known)
    releases = list(releases)
    columns = sorted(cells, key=lambda c: (_key(c[0]), *c[1:]))
    rows = list(_released_sets(columns, releases))
    if not rows:
        return []
    if known:
        rows += [frozenset({cell}) for cell in columns if cell[2]]
    classes = _classes(cells, rows)
    signatures = sorted(classes, key=lambda sig: sum(cells[c] for c in classes[sig]))
    sizes = [sum(cells[c] for c in classes[sig]) for sig in signatures]
    small = [j for j, size in enumerate(sizes) if size < k]
    if not small:
        return []
    # Released sets over the classes: a row holds a class or not.
    matrix = np.array(signatures, dtype=float).T
    _, singular, vt = np.linalg.svd(matrix, full_matrices=False)
    basis = vt[singular > _TOLERANCE * max(1.0, singular[0])]
    combos = list(_unions([sizes[j] for j in small], k, limit))
    if combos and combos[-1] is None:
        return [frozenset(c[:2] for sig in signatures for c in classes[sig])]
    wanted = np.zeros((len(combos), len(signatures)))
    for i, combo in enumerate(combos):
        wanted[i, [small[j] for j in combo]] = 1.0
    residual = wanted - (wanted @ basis.T) @ basis
    hits = np.linalg.norm(residual, axis=1) < 1e-6
    found = [
        frozenset(c for j in combo for c in classes[signatures[small[j]]])
        for combo, hit in zip(combos, hits, strict=True)
        if hit
    ]
    if not known:
        return found
    # The known give away only themselves; back to (group, seq) cells.
    return list(
        dict.fromkeys(
            frozenset(c[:2] for c in each)
            for each in found
            if not all(c[2] for c in each)
        )
    )


def plan_release(
    cells: Cells,
    history: list[Release],
    seq: int,
    k: int,
    *,
    pending: Mapping[Group, int] | None = None,
    known: Known | None = None,
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
    release. `known`: see `disclosures`.
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
        found = disclosures(current, [*history, release], k, known=known)
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
