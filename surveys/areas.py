"""The areas of a questionnaire: what importance is allocated over and what
the priority matrix ranks (DESIGN.md, "Expectations, importance and
priorities").

An area is a service dimension when every item of the questionnaire has one,
otherwise a gap. Plain functions on (gap, dimension) pairs; `analysis` uses
the same rule through `area_of`.
"""

from collections.abc import Iterable

from surveys.models import Dimension, Gap

AREA_LABELS = {**dict(Dimension.choices), **dict(Gap.choices)}
# What each area means in plain words, for respondents (customers never see
# the gaps' names).
AREA_HINTS = {
    Dimension.TANGIBLES: "Premises, equipment, documents and how staff present",
    Dimension.RELIABILITY: "Doing what was promised, dependably and accurately",
    Dimension.RESPONSIVENESS: "Willingness to help and prompt service",
    Dimension.ASSURANCE: "Knowledge, courtesy and trust",
    Dimension.EMPATHY: "Individual care and attention",
    Gap.KNOWLEDGE: "Understanding what customers expect",
    Gap.STANDARDS: "Clear, consistent ways of working",
    Gap.DELIVERY: "Getting the service itself right",
    Gap.COMMUNICATION: "Keeping promises and keeping customers informed",
    Gap.PERCEPTION: "The experience as a whole",
}


def by_dimension(items: Iterable) -> bool:
    """Whether the areas are the service dimensions: every item has one.
    `items` holds objects with .dimension, or (gap, dimension) pairs."""
    dimensions = [_dimension(item) for item in items]
    return bool(dimensions) and all(dimensions)


def _dimension(item) -> str:
    return item[1] if isinstance(item, tuple) else item.dimension


def _gap(item) -> str:
    return item[0] if isinstance(item, tuple) else item.gap


def area_of(item, dimensions: bool) -> str:
    return _dimension(item) if dimensions else _gap(item)


def areas(items: Iterable) -> list[tuple[str, str]]:
    """The questionnaire's areas as (key, label), in the dimensions' or gaps'
    own order, only those that have an item."""
    items = list(items)
    dimensions = by_dimension(items)
    present = {area_of(item, dimensions) for item in items}
    order = Dimension.values if dimensions else Gap.values
    return [(key, AREA_LABELS[key]) for key in order if key in present]
