"""Closed-loop figures: how fast follow-up cases are answered, and the case
list's CSV export.

`case_rows` is the only function here that touches the ORM; `response_times`
and `closed_loop_summary` are plain functions on its rows. Times are in hours.
A case is *contacted in time* when its first contact came by its due time; the
share counts the cases already decided (contacted, or past their due time).
A group (segment, owner's department) with fewer cases than the study's
minimum group size shows its count only.
"""

import datetime
from collections.abc import Iterable, Iterator
from statistics import median

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.http import StreamingHttpResponse
from django.utils import timezone

from surveys.models import Case, Membership, Study

NO_GROUP = "None"

CASE_HEADER = [
    "case",
    "study",
    "status",
    "segment",
    "owner",
    "trigger",
    "opened_at",
    "due_at",
    "first_contact_at",
    "resolved_at",
    "closed_at",
    "hours_to_first_contact",
    "hours_to_resolution",
    "overdue",
]


def _with_department(cases: QuerySet) -> QuerySet:
    department = Membership.objects.filter(
        organization_id=OuterRef("organization_id"), user_id=OuterRef("owner_id")
    ).values("department__name")[:1]
    return cases.annotate(owner_department=Subquery(department))


def case_rows(cases: QuerySet) -> list[dict]:
    """One dict per case: status, segment, owner_department (names or None),
    opened_at, due_at, first_contact_at, resolved_at (datetimes or None)."""
    return list(
        _with_department(cases).values(
            "status",
            "opened_at",
            "due_at",
            "first_contact_at",
            "resolved_at",
            "owner_department",
            segment_name=F("segment__name"),
        )
    )


def _hours(start: datetime.datetime, end: datetime.datetime | None) -> float | None:
    if end is None:
        return None
    return (end - start).total_seconds() / 3600


def response_times(rows: Iterable[dict], now: datetime.datetime) -> dict:
    """Figures of a set of case rows (see `case_rows`).

    Out: {"opened": n, "decided": n contacted or past due, "in_time": n,
    "in_time_share": in_time / decided (None when nothing is decided),
    "median_first_contact_hours", "median_resolution_hours": floats or None}.
    """
    rows = list(rows)
    first = [_hours(r["opened_at"], r["first_contact_at"]) for r in rows]
    resolved = [_hours(r["opened_at"], r["resolved_at"]) for r in rows]
    decided = [r for r in rows if r["first_contact_at"] or r["due_at"] <= now]
    in_time = [
        r
        for r in decided
        if r["first_contact_at"] and r["first_contact_at"] <= r["due_at"]
    ]
    first = [h for h in first if h is not None]
    resolved = [h for h in resolved if h is not None]
    return {
        "opened": len(rows),
        "decided": len(decided),
        "in_time": len(in_time),
        "in_time_share": len(in_time) / len(decided) if decided else None,
        "median_first_contact_hours": median(first) if first else None,
        "median_resolution_hours": median(resolved) if resolved else None,
    }


def _by(rows: list[dict], key: str, k: int, now) -> list[dict]:
    groups: dict = {}
    for row in rows:
        groups.setdefault(row[key], []).append(row)
    out = []
    for name in sorted(groups, key=lambda g: (g is None, g or "")):
        members = groups[name]
        if len(members) >= k:
            out.append(
                {"group": name, "suppressed": False, **response_times(members, now)}
            )
        else:
            out.append({"group": name, "suppressed": True, "opened": len(members)})
    return out


def closed_loop_summary(rows: list[dict], k: int, now: datetime.datetime) -> dict:
    """The panel's figures: overall, per segment and per owner's department;
    a group (or the whole) with fewer than `k` cases is counts only."""
    overall = response_times(rows, now)
    return {
        "overall": overall,
        "suppressed": overall["opened"] < k,
        "segments": _by(rows, "segment_name", k, now),
        "departments": _by(rows, "owner_department", k, now),
        "k": k,
    }


def closed_loop_panel(study: Study) -> dict:
    """The closed-loop panel of a study's dashboard (see `closed_loop_summary`);
    `enabled` is False (and no query is made) for a study whose follow-up rules
    were never set, since it cannot have cases."""
    if not study.followup_rules:
        return {"enabled": False}
    rows = case_rows(Case.objects.filter(study=study))
    summary = closed_loop_summary(rows, study.min_group_size, timezone.now())
    summary["enabled"] = True
    return summary


# --- the case list as CSV ---------------------------------------------------------


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _round(value: float | None):
    return None if value is None else round(value, 2)


def case_export_rows(cases: QuerySet) -> Iterator[list]:
    """The header, then one row per case: no customer name, address or phone,
    no answers (those stay on the case page)."""
    yield CASE_HEADER
    now = timezone.now()
    for case in cases.select_related("study", "segment", "owner").order_by("pk"):
        owner = case.owner
        yield [
            case.pk,
            case.study.name,
            case.get_status_display(),
            case.segment.name if case.segment else None,
            (owner.get_full_name() or owner.email) if owner else None,
            case.trigger,
            _iso(case.opened_at),
            _iso(case.due_at),
            _iso(case.first_contact_at),
            _iso(case.resolved_at),
            _iso(case.closed_at),
            _round(_hours(case.opened_at, case.first_contact_at)),
            _round(_hours(case.opened_at, case.resolved_at)),
            "yes" if case.status == Case.Status.NEW and case.due_at <= now else "no",
        ]


def case_export_response(cases: QuerySet) -> StreamingHttpResponse:
    """The cases as a formula-safe CSV download (analysis.exports' writer)."""
    from analysis.exports import CONTENT_TYPES, _csv_blocks

    response = StreamingHttpResponse(
        _csv_blocks(case_export_rows(cases)), content_type=CONTENT_TYPES["csv"]
    )
    response["Content-Disposition"] = 'attachment; filename="cases.csv"'
    return response
