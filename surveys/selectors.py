"""Reads shared by several pages (the response-rate panel, the dashboard)."""

from django.db.models import Count, Q, QuerySet

from surveys.models import Invitation, Study

COUNT_KEYS = ("invited", "sent", "failed", "opened", "answered")


def _rate(answered: int, sent: int) -> float | None:
    return answered / sent if sent else None


def invitation_counts(study: Study) -> dict:
    """Invitation funnel of a study, overall and per customer segment, in ONE query.

    Output: {"overall": row, "segments": [row, ...]} where each row is
    {"segment": name or None (no segment), "invited", "sent", "failed", "opened",
    "answered": ints, "rate": answered / sent as a fraction 0..1, or None when
    nothing was sent}. Segments come from each contact's current segment, sorted by
    name with "no segment" last.
    """
    grouped = (
        Invitation.objects.filter(study=study)
        .values("contact__segment__name")
        .annotate(
            invited=Count("pk"),
            sent=Count("pk", filter=Q(sent_at__isnull=False)),
            failed=Count("pk", filter=Q(failed_at__isnull=False)),
            opened=Count("pk", filter=Q(opened_at__isnull=False)),
            answered=Count("pk", filter=Q(responded_at__isnull=False)),
        )
        .order_by("contact__segment__name")
    )
    overall = {"segment": None, **{key: 0 for key in COUNT_KEYS}}
    segments = []
    for group in grouped:
        row = {"segment": group["contact__segment__name"]}
        for key in COUNT_KEYS:
            row[key] = group[key]
            overall[key] += group[key]
        row["rate"] = _rate(row["answered"], row["sent"])
        segments.append(row)
    overall["rate"] = _rate(overall["answered"], overall["sent"])
    segments.sort(key=lambda row: (row["segment"] is None, (row["segment"] or "")))
    return {"overall": overall, "segments": segments}


def invitation_failures(study: Study) -> QuerySet[Invitation]:
    """The study's failed sends, with their errors, newest first."""
    return (
        Invitation.objects.filter(study=study, failed_at__isnull=False)
        .select_related("contact")
        .order_by("-failed_at", "pk")
    )
