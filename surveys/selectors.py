"""Reads shared by several pages (the response-rate panel, the dashboard)."""

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet

from surveys.models import Audience, Invitation, Item, Questionnaire, Study
from surveys.services.snapshots import RESPONDENTS, Published, published

COUNT_KEYS = ("invited", "sent", "failed", "opened")

# Items by (questionnaire id, items revision): what a form and a submit need,
# read once per process and questionnaire version instead of once per request.
# Any change of the items bumps the revision (surveys.models), which the
# questionnaire row carries, so a stale list is never used.
_ITEMS: dict[tuple[int, int], tuple[Item, ...]] = {}
_ITEMS_KEPT = 256


def questionnaire_items(questionnaire: Questionnaire) -> list[Item]:
    """The questionnaire's items in order; no query when this process has read
    them since their last change. Treat them as read-only."""
    key = (questionnaire.pk, questionnaire.items_revision)
    items = _ITEMS.get(key)
    if items is None:
        items = tuple(
            Item.objects.filter(questionnaire_id=questionnaire.pk).order_by(
                "position", "id"
            )
        )
        if len(_ITEMS) >= _ITEMS_KEPT:
            _ITEMS.clear()
        _ITEMS[key] = items
    return list(items)


def _rate(answered: int, sent: int) -> float | None:
    return answered / sent if sent else None


def invitation_counts(
    study: Study, state: Published | None = None, *, max_age: int = 0
) -> dict:
    """Invitation funnel of a study, overall and per customer segment.

    Output: {"overall": row, "segments": [row, ...]} where each row is
    {"segment": name or None (no segment), "invited", "sent", "failed", "opened",
    "answered": ints, "rate": answered / sent as a fraction 0..1, or None when
    nothing was sent}. Segments come from each contact's current segment, sorted by
    name with "no segment" last.

    "answered" is what the published snapshot shows (`state`, read when not
    given), so it moves in steps of at least the minimum group size, and is
    None where the snapshot hides the segment (or the total); the sending
    counts are live, or up to `max_age` seconds old (for big studies, whose
    invitations take long to count).
    """
    if max_age:
        grouped = cache.get_or_set(
            f"gapsurvey:sending-counts:{study.pk}",
            lambda: _sending_counts(study),
            max_age,
        )
    else:
        grouped = _sending_counts(study)
    overall = {"segment": None, "answered": None, **dict.fromkeys(COUNT_KEYS, 0)}
    segments = []
    for group in grouped:
        row = {"segment": group["contact__segment__name"]}
        for key in COUNT_KEYS:
            row[key] = group[key]
            overall[key] += group[key]
        segments.append(row)
    state = state or published(study)
    _published_answered(study, state, overall, segments)
    for row in [overall, *segments]:
        row["rate"] = (
            None if row["answered"] is None else _rate(row["answered"], row["sent"])
        )
    segments.sort(key=lambda row: (row["segment"] is None, (row["segment"] or "")))
    return {"overall": overall, "segments": segments}


def _sending_counts(study: Study) -> list[dict]:
    return list(
        Invitation.objects.filter(study=study)
        .values("contact__segment__name")
        .annotate(
            invited=Count("pk"),
            sent=Count("pk", filter=Q(sent_at__isnull=False)),
            failed=Count("pk", filter=Q(failed_at__isnull=False)),
            opened=Count("pk", filter=Q(opened_at__isnull=False)),
        )
        .order_by("contact__segment__name")
    )


def _published_answered(study: Study, state: Published, overall, segments) -> None:
    customer = Audience.CUSTOMER.value
    counts = state.counts(customer)
    release = state.release(RESPONDENTS, customer)
    overall["answered"] = sum(counts.values()) if release.total else None
    names = dict(study.organization.segments.values_list("id", "name"))
    by_name: dict = {}
    for group, n in counts.items():
        if group in release.visible:
            by_name[names.get(group)] = n
    for row in segments:
        row["answered"] = by_name.get(row["segment"])
    overall["note"] = f"fewer than {study.min_group_size}"


def invitation_failures(study: Study) -> QuerySet[Invitation]:
    """The study's failed sends, with their errors, newest first."""
    return (
        Invitation.objects.filter(study=study, failed_at__isnull=False)
        .select_related("contact")
        .order_by("-failed_at", "pk")
    )
