"""A suppression auditor: what could an attacker solve for?

Independent of `surveys.disclosure` on purpose: it works on people, not cells;
it enumerates every union of indistinguishable people (not a chosen list of
targets); and it tests membership of the span with a QR decomposition (not an
SVD). Given the sets of people whose sums were published — every number of
every published state, each the sum of some people's answers — it returns
each set of 1 to k−1 people whose sum follows from them by linear algebra:
one person's answers, or a group below the minimum size.

An attacker also knows who answered when and in which group, so the sets are
taken as fully known to them: the strongest attacker there is.
"""

from collections.abc import Iterable
from itertools import combinations

import numpy as np


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


def solvable(rows: Iterable[Iterable], k: int) -> list[frozenset]:
    """Every set of 1 to k−1 people whose sum the published `rows` give away."""
    rows = [frozenset(row) for row in rows if row]
    people = sorted({p for row in rows for p in row}, key=repr)
    if not rows:
        return []
    classes = _classes(rows, people)
    small = [c for c in classes if len(c) < k]
    index = {p: j for j, p in enumerate(people)}
    matrix = np.zeros((len(rows), len(people)))
    for i, row in enumerate(rows):
        matrix[i, [index[p] for p in row]] = 1.0
    q, r = np.linalg.qr(matrix.T)  # columns of q span the rows of matrix
    keep = np.abs(np.diag(r)) > 1e-9 if r.size else np.array([], dtype=bool)
    # QR without pivoting can drop a direction when a diagonal is zero; add the
    # residual directions back by a second pass (Gram–Schmidt on the rest).
    basis = q[:, keep] if keep.size else np.zeros((len(people), 0))
    for i in range(matrix.shape[0]):
        vector = matrix[i] - basis @ (basis.T @ matrix[i])
        norm = np.linalg.norm(vector)
        if norm > 1e-9:
            basis = np.column_stack([basis, vector / norm])
    found = []
    for size in range(1, k):
        for combo in _unions(small, size):
            target = np.zeros(len(people))
            members = frozenset().union(*combo)
            target[[index[p] for p in members]] = 1.0
            residual = target - basis @ (basis.T @ target)
            if np.linalg.norm(residual) < 1e-6:
                found.append(members)
    return found


def _unions(small: list[frozenset], size: int):
    """Every combination of the small classes with `size` people in all."""
    for count in range(1, size + 1):
        for combo in combinations(small, count):
            if sum(len(c) for c in combo) == size:
                yield combo
