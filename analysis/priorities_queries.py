"""The ORM reads of the expectations, importance and priorities figures: the
sibling of `analysis.queries` for `analysis.priorities_view`.

Everything read here is what the study's published snapshots hold (the
responses of `SnapshotEntry` rows up to the published seq, in the group
frozen there); `priorities_view` then keeps each unit to its own published
cutoff. Rows are per respondent and item at most.
"""

import pandas as pd

from surveys.areas import area_of, by_dimension
from surveys.models import Allocation, Answer, Item, Response, Segment, SnapshotEntry
from surveys.services.snapshots import Published


def study_items(study) -> pd.DataFrame:
    """item_id, position, gap, dimension, area, customer_text, internal_text,
    in questionnaire order."""
    rows = list(
        Item.objects.filter(questionnaire_id=study.questionnaire_id)
        .order_by("position", "id")
        .values_list(
            "id", "position", "gap", "dimension", "customer_text", "internal_text"
        )
    )
    dimensions = by_dimension([(gap, dimension) for _, _, gap, dimension, *_ in rows])
    return pd.DataFrame.from_records(
        [
            (pk, position, gap, dimension, area_of((gap, dimension), dimensions), c, i)
            for pk, position, gap, dimension, c, i in rows
        ],
        columns=[
            "item_id",
            "position",
            "gap",
            "dimension",
            "area",
            "customer_text",
            "internal_text",
        ],
    )


def published_rows(study, published: Published) -> dict[str, pd.DataFrame]:
    """The published respondents' ratings, allocations and overall ratings.

    Out: {"entries": response_id, audience, group_id, seq;
    "ratings": response_id, item_id, kind, value (NaN: "don't know");
    "points": response_id, area, points; "overall": response_id, overall}."""
    entries = pd.DataFrame.from_records(
        list(
            SnapshotEntry.objects.filter(
                study=study, seq__lte=published.seq
            ).values_list("response_id", "audience", "group_id", "seq")
        ),
        columns=["response_id", "audience", "group_id", "seq"],
    )
    chosen = {
        "response__snapshot_entry__study": study,
        "response__snapshot_entry__seq__lte": published.seq,
    }
    ratings = pd.DataFrame.from_records(
        list(
            Answer.objects.filter(**chosen).values_list(
                "response_id", "item_id", "kind", "value"
            )
        ),
        columns=["response_id", "item_id", "kind", "value"],
    )
    ratings["value"] = ratings["value"].astype(float)
    points = pd.DataFrame.from_records(
        list(
            Allocation.objects.filter(**chosen).values_list(
                "response_id", "area", "points"
            )
        ),
        columns=["response_id", "area", "points"],
    )
    overall = pd.DataFrame.from_records(
        list(
            Response.objects.filter(
                snapshot_entry__study=study,
                snapshot_entry__seq__lte=published.seq,
                overall_rating__isnull=False,
            ).values_list("id", "overall_rating")
        ),
        columns=["response_id", "overall"],
    )
    return {
        "entries": entries,
        "ratings": ratings,
        "points": points,
        "overall": overall,
    }


def segment_weights(study) -> dict[int, tuple[str, float | None]]:
    """{segment id: (name, weight or None)} of the study's organization."""
    return {
        pk: (name, None if weight is None else float(weight))
        for pk, name, weight in Segment.objects.filter(
            organization_id=study.organization_id
        ).values_list("id", "name", "weight")
    }
