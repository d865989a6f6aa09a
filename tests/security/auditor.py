"""A suppression auditor: what could an attacker solve for?

Independent of `surveys.disclosure` on purpose: it works on people, not
cells, and tests membership of the span exactly, by Gaussian elimination in
rational numbers (not a floating-point SVD). Given the sets of people whose
sums were published — every number of every published state, each the sum of
some people's answers — it returns each set of 1 to k−1 people whose sum
follows from them by linear algebra: one person's answers, or a group below
the minimum size. It tries every union of the people no set tells apart.

An attacker also knows who answered when and in which group, so the sets are
taken as fully known to them: the strongest attacker there is.
"""

from collections.abc import Iterable
from fractions import Fraction
from itertools import combinations


def _classes(rows: list[frozenset], people: list) -> list[frozenset]:
    """People no published set tells apart: the same membership in every set."""
    by_signature: dict[tuple, set] = {}
    for person in people:
        signature = tuple(person in row for row in rows)
        by_signature.setdefault(signature, set()).add(person)
    return [
        frozenset(group)
        for signature, group in by_signature.items()
        if any(signature)  # people in no published set are not published
    ]


def _echelon(rows: list[list[Fraction]]) -> list[tuple[int, list[Fraction]]]:
    """The rows in reduced echelon form, as (pivot column, row)."""
    basis: list[tuple[int, list[Fraction]]] = []
    for row in rows:
        row = _reduce(row, basis)
        pivot = next((j for j, x in enumerate(row) if x), None)
        if pivot is None:
            continue
        row = [x / row[pivot] for x in row]
        basis = [
            (p, [a - b[pivot] * c for a, c in zip(b, row, strict=True)])
            if b[pivot]
            else (p, b)
            for p, b in basis
        ]
        basis.append((pivot, row))
    return basis


def _reduce(vector: list[Fraction], basis) -> list[Fraction]:
    vector = list(vector)
    for pivot, row in basis:
        if vector[pivot]:
            factor = vector[pivot]
            vector = [a - factor * b for a, b in zip(vector, row, strict=True)]
    return vector


def solvable(rows: Iterable[Iterable], k: int) -> list[frozenset]:
    """Every set of 1 to k−1 people whose sum the published `rows` give away."""
    rows = [frozenset(row) for row in rows if row]
    people = sorted({p for row in rows for p in row}, key=repr)
    if not rows:
        return []
    classes = _classes(rows, people)
    small = [c for c in classes if len(c) < k]
    index = {p: j for j, p in enumerate(people)}
    zero, one = Fraction(0), Fraction(1)
    basis = _echelon([[one if p in row else zero for p in people] for row in rows])
    found = []
    for size in range(1, k):
        for combo in _unions(small, size):
            members = frozenset().union(*combo)
            target = [zero] * len(people)
            for p in members:
                target[index[p]] = one
            if not any(_reduce(target, basis)):
                found.append(members)
    return found


def _unions(small: list[frozenset], size: int):
    """Every combination of the small classes with `size` people in all."""
    for count in range(1, size + 1):
        for combo in combinations(small, count):
            if sum(len(c) for c in combo) == size:
                yield combo
