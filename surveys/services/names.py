"""Group names that a file would create, and the existing ones they are close to:
a typo in a CSV ("Retial") should be caught before it becomes a new segment."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

# difflib's ratio from which two names are probably the same name mistyped.
CLOSE_RATIO = 0.8


@dataclass
class NewName:
    name: str
    close_to: list[str] = field(default_factory=list)


def new_names_with_neighbours(
    new: Iterable[str], existing: Iterable[str], ratio: float = CLOSE_RATIO
) -> list[NewName]:
    """Each new name (in the order given) with the existing names whose difflib
    ratio to it, ignoring case, is at least `ratio`, closest first."""
    existing = list(existing)
    result = []
    for name in new:
        scored = []
        for other in existing:
            score = SequenceMatcher(None, name.lower(), other.lower()).ratio()
            if score >= ratio:
                scored.append((-score, other))
        result.append(
            NewName(name=name, close_to=[other for _, other in sorted(scored)])
        )
    return result
