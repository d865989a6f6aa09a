"""Published snapshots: the only state of a study that results are drawn from.

A submitted response is not shown anywhere until a snapshot takes it in. A
snapshot is published when taking in the waiting responses would not let
anyone solve, from all the snapshots published so far, for a person or for a
group smaller than the study's minimum group size K (`surveys.disclosure`).
So published numbers move in steps of at least K respondents in every group
that is shown, groups that would be given away are hidden (complementary
suppression), and a response's group is frozen when it is taken in.

Each *unit* (respondent counts, each item, each gap's scores, the overall
score) is released on its own: an item whose new answers number 1 to K−1
(because of "don't know") keeps its previous figures until it catches up.

Questionnaires that ask more than the perception (DESIGN.md, "Expectations,
importance and priorities") add units of their own, each counting the
respondents who enter its numbers: an item's E, A or D ratings, an item's
pairs (customers with P and E, or with A, D and P and no inversion), each
area's score per rating kind and its perception gap, the importance
allocations, the weighted gap-model score, the overall rating, and each
area's derived importance (P area score and overall rating).
"""

import secrets
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Max, Q

from surveys.areas import area_of, by_dimension
from surveys.disclosure import (
    NOTHING,
    Release,
    group_from_key,
    group_key,
    plan_release,
)
from surveys.models import (
    Allocation,
    Answer,
    Audience,
    Item,
    MeasurementMode,
    RatingKind,
    Response,
    Snapshot,
    SnapshotEntry,
    Study,
)
from surveys.signals import snapshot_published

RESPONDENTS = "respondents"
OVERALL = "overall"
AUDIENCES = (Audience.INTERNAL.value, Audience.CUSTOMER.value)


def gap_unit(gap: str) -> str:
    return f"gap:{gap}"


def item_unit(item_id: int, kind: str = RatingKind.PERCEPTION) -> str:
    """An item's answers of one rating kind (P: the perception, as ever)."""
    if kind == RatingKind.PERCEPTION:
        return f"item:{item_id}"
    return f"item:{item_id}:{kind}"


# The units of the expectation, tolerance and importance figures.
IMPORTANCE = "importance"
OVERALL_RATING = "overall_rating"
WEIGHTED = "weighted"
DIFFERENCE = "d"


def pair_unit(item_id: int) -> str:
    """Customers with an item's perception gap: P and E (expectation mode),
    or A, D and P with A ≤ D (tolerance mode)."""
    return f"pair:{item_id}"


def area_unit(area: str, kind: str) -> str:
    """Respondents with an area score of a rating kind, or (kind "d") with
    the area's perception gap."""
    return f"area:{area}:{kind}"


def derived_unit(area: str) -> str:
    """Customers with both the area's P score and the overall rating."""
    return f"derived:{area}"


def _asks_more(questionnaire) -> bool:
    return (
        questionnaire.mode != MeasurementMode.PERCEPTION
        or questionnaire.ask_importance
        or questionnaire.ask_overall
    )


def _item_areas(study: Study) -> dict[int, str]:
    rows = list(
        Item.objects.filter(questionnaire_id=study.questionnaire_id).values_list(
            "id", "gap", "dimension"
        )
    )
    dimensions = by_dimension([(gap, dimension) for _, gap, dimension in rows])
    return {pk: area_of((gap, dimension), dimensions) for pk, gap, dimension in rows}


def paired(values: dict, item_id: int, mode: str) -> bool:
    """Whether one respondent's ratings {(item_id, kind): value} give the
    item's perception gap (see pair_unit); "don't know" is absent."""
    get = values.get
    if mode == MeasurementMode.EXPECTATION:
        return (item_id, "P") in values and (item_id, "E") in values
    if mode == MeasurementMode.TOLERANCE:
        a, d = get((item_id, "A")), get((item_id, "D"))
        return (item_id, "P") in values and a is not None and d is not None and a <= d
    return False


def priority_units(study: Study) -> list[str]:
    """The extra units of the study's questionnaire, in a fixed order."""
    questionnaire = study.questionnaire
    if not _asks_more(questionnaire):
        return []
    areas = _item_areas(study)
    names = list(dict.fromkeys(areas.values()))
    kinds = questionnaire.kinds
    units = [item_unit(pk, k) for pk in areas for k in kinds if k != "P"]
    units += [area_unit(a, k) for a in names for k in kinds]
    if len(kinds) > 1:
        units += [pair_unit(pk) for pk in areas]
        units += [area_unit(a, DIFFERENCE) for a in names]
    if questionnaire.ask_importance:
        units.append(IMPORTANCE)
        if len(kinds) > 1:
            units.append(WEIGHTED)
    if questionnaire.ask_overall:
        units.append(OVERALL_RATING)
        units += [derived_unit(a) for a in names]
    return units


def _priority_cells(study: Study, responses, info: dict, add) -> None:
    """Count the respondents of each extra unit (see priority_units)."""
    questionnaire = study.questionnaire
    if not _asks_more(questionnaire):
        return
    mode, multi = questionnaire.mode, len(questionnaire.kinds) > 1
    areas = _item_areas(study)
    values: dict[int, dict] = defaultdict(dict)
    for response_id, item_id, kind, value in (
        Answer.objects.filter(response__in=responses, value__isnull=False)
        .values_list("response_id", "item_id", "kind", "value")
        .iterator(chunk_size=10000)
    ):
        values[response_id][(item_id, kind)] = value
    points: dict[int, dict] = defaultdict(dict)
    for response_id, area, n in Allocation.objects.filter(
        response__in=responses
    ).values_list("response_id", "area", "points"):
        points[response_id][area] = n
    rated = set(
        responses.filter(overall_rating__isnull=False).values_list("id", flat=True)
    )
    for pk, (audience, group) in info.items():
        mine = values.get(pk, {})
        scored = set()
        for item_id, kind in mine:
            if kind != "P":
                add(item_unit(item_id, kind), audience, group)
            scored.add((areas[item_id], kind))
        for area, kind in scored:
            add(area_unit(area, kind), audience, group)
        customer = audience == Audience.CUSTOMER
        gapped = set()
        if multi and customer:
            for item_id, area in areas.items():
                if paired(mine, item_id, mode):
                    add(pair_unit(item_id), audience, group)
                    gapped.add(area)
            for area in gapped:
                add(area_unit(area, DIFFERENCE), audience, group)
        if pk in points:
            add(IMPORTANCE, audience, group)
            if gapped and sum(points[pk].get(area, 0) for area in gapped) > 0:
                add(WEIGHTED, audience, group)
        if customer and pk in rated:
            add(OVERALL_RATING, audience, group)
            for area in {area for area, kind in scored if kind == "P"}:
                add(derived_unit(area), audience, group)


def has_score(answered: int, n_items: int) -> bool:
    """Whether a respondent who answered `answered` of a gap's (or the whole
    questionnaire's) `n_items` items has a score there: at least half of them,
    rounded up (one item of a one-item gap). `analysis.queries` applies the
    same rule in SQL."""
    return answered >= 1 and 2 * answered >= n_items


@dataclass
class Published:
    """What a study has published: its latest snapshot (None before the
    first), and how many submitted responses are waiting for the next."""

    study: Study
    snapshot: Snapshot | None
    waiting: int
    releases: dict = field(default_factory=dict)
    _cells: list | None = field(default=None, repr=False)
    _parsed: dict = field(default_factory=dict, repr=False)

    @property
    def seq(self) -> int:
        return self.snapshot.seq if self.snapshot else 0

    def release(self, unit: str, audience: str) -> Release:
        key = (unit, audience)
        if key not in self._parsed:
            data = self.releases.get(unit, {}).get(audience)
            self._parsed[key] = Release.from_json(data) if data else NOTHING
        return self._parsed[key]

    def shown(self, unit: str, audience: str, group=...) -> bool:
        """Whether the unit may be shown for the audience's total (group
        omitted) or for one group (None = no group)."""
        release = self.release(unit, audience)
        if group is ...:
            return release.total
        return group in release.visible

    def answered(self, audience: str) -> int | None:
        """Published respondents of an audience; None while fewer than the
        minimum group size (the total is not shown)."""
        if not self.shown(RESPONDENTS, audience):
            return None
        return sum(self.counts(audience).values())

    def counts(self, audience: str) -> dict:
        """{group: published respondents} of an audience (all groups)."""
        if self._cells is None:
            self._cells = [
                snapshot.state.get("cells", {}).get(RESPONDENTS, {})
                for snapshot in self.study.snapshots.filter(seq__lte=self.seq).only(
                    "state"
                )
            ]
        found: dict = {}
        for cells in self._cells:
            for key, n in cells.get(audience, {}).items():
                group = group_from_key(key)
                found[group] = found.get(group, 0) + n
        return found


def _units(study: Study) -> tuple[list[tuple[int, str]], list[str]]:
    items = list(
        Item.objects.filter(questionnaire_id=study.questionnaire_id)
        .order_by("position", "id")
        .values_list("id", "gap")
    )
    gaps = list(dict.fromkeys(gap for _, gap in items))
    return items, gaps


def _group_of(audience: str, department_id, segment_id):
    return department_id if audience == Audience.INTERNAL else segment_id


def _cells_of(study: Study, responses) -> dict:
    """{unit: {audience: {group: respondents}}} of the responses of a
    queryset, counted in the database: answers per item grouped by audience
    and group, and answered items per response and gap (to apply the
    half-of-items rule). No list of ids is sent, however many respond."""
    items, gaps = _units(study)
    sizes = {gap: sum(1 for _, g in items if g == gap) for gap in gaps}
    cells: dict = {}

    def add(unit, audience, group, n=1):
        by_group = cells.setdefault(unit, {}).setdefault(audience, {})
        by_group[group] = by_group.get(group, 0) + n

    info = {
        pk: (audience, _group_of(audience, dept, seg))
        for pk, audience, dept, seg in responses.values_list(
            "id", "audience", "department_id", "segment_id"
        )
    }
    answered = Answer.objects.filter(response__in=responses, value__isnull=False)
    if len(study.questionnaire.kinds) > 1:
        # A perception questionnaire's answers are all P: no filter to pay.
        answered = answered.filter(kind=RatingKind.PERCEPTION)
    for audience, dept, seg, item_id, n in (
        answered.values_list(
            "response__audience",
            "response__department_id",
            "response__segment_id",
            "item_id",
        )
        .annotate(n=Count("id"))
        .order_by()
    ):
        add(item_unit(item_id), audience, _group_of(audience, dept, seg), n)
    per: dict[int, dict] = {pk: {} for pk in info}
    for response_id, gap, n in (
        answered.values_list("response_id", "item__gap")
        .annotate(n=Count("id"))
        .order_by()
        .iterator(chunk_size=10000)
    ):
        per[response_id][gap] = n
    _priority_cells(study, responses, info, add)
    for pk, (audience, group) in info.items():
        add(RESPONDENTS, audience, group)
        counts = per[pk]
        if has_score(sum(counts.values()), len(items)):
            add(OVERALL, audience, group)
        for gap in gaps:
            if has_score(counts.get(gap, 0), sizes[gap]):
                add(gap_unit(gap), audience, group)
    return cells


def group_q(field: str, groups) -> Q:
    """`field` (a group's id column) in `groups`, where None stands for "no
    group" (a NULL, which IN never matches)."""
    q = Q(**{f"{field}__in": [g for g in groups if g is not None]})
    if None in groups:
        q |= Q(**{f"{field}__isnull": True})
    return q


def _in_groups(responses, accepted: dict[str, frozenset]):
    """The responses whose (audience, group) a snapshot takes in."""
    found = Q(pk__in=[])
    for audience, column in (
        (Audience.INTERNAL, "department"),
        (Audience.CUSTOMER, "segment"),
    ):
        groups = accepted.get(audience, frozenset())
        if not groups:
            continue
        found |= Q(audience=audience) & group_q(f"{column}_id", groups)
    return responses.filter(found)


def _history(snapshots: list[Snapshot], unit: str, audience: str):
    """A unit's cells, releases and known respondents (see surveys.disclosure)
    as the snapshots published them."""
    cells, releases, known = {}, [], {}
    for snapshot in snapshots:
        state = snapshot.state
        for key, n in state.get("cells", {}).get(unit, {}).get(audience, {}).items():
            cells[(group_from_key(key), snapshot.seq)] = n
        for key, n in state.get("known", {}).get(unit, {}).get(audience, {}).items():
            known[(group_from_key(key), snapshot.seq)] = n
        data = state.get("releases", {}).get(unit, {}).get(audience)
        releases.append(Release.from_json(data) if data else NOTHING)
    return cells, releases, known


def _add(known: dict, new: dict, unit: str, audience: str, seq: int) -> dict:
    for group, n in new.get(unit, {}).get(audience, {}).items():
        known[(group, seq)] = n
    return known


# A snapshot taking in this many responses refreshes PostgreSQL's statistics
# of the entries table.
ANALYZE_AFTER = 10_000


def _pending(study: Study):
    return Response.objects.filter(
        study=study, status=Response.Status.SUBMITTED, snapshot_entry__isnull=True
    )


def _publish(study: Study, *, final: bool) -> Snapshot | None:
    snapshots = list(study.snapshots.order_by("seq"))
    last = snapshots[-1] if snapshots else None
    if last is not None and last.final:
        return None
    waiting = _pending(study)
    pending_count = waiting.count()
    if not pending_count and not final:
        return None
    seq = (last.seq if last else 0) + 1
    size = study.min_group_size
    candidate = _cells_of(study, waiting)
    # Customers with a follow-up case: their owner sees their answers, so the
    # publisher counts them as known (only studies that ever had rules).
    track = bool(study.followup_rules)
    waiting_known = (
        _cells_of(study, waiting.filter(case__isnull=False)) if track else {}
    )
    accepted: dict[str, frozenset] = {}
    releases: dict = {}
    for audience in AUDIENCES:
        cells, history, known = _history(snapshots, RESPONDENTS, audience)
        _add(known, waiting_known, RESPONDENTS, audience, seq)
        arrivals = candidate.get(RESPONDENTS, {}).get(audience, {})
        release, groups = plan_release(
            cells, history, seq, size, pending=arrivals, known=known or None
        )
        accepted[audience] = groups
        if release is not None and groups:
            releases.setdefault(RESPONDENTS, {})[audience] = release.to_json()
    taken_responses = _in_groups(waiting, accepted)
    taken = list(
        taken_responses.values_list(
            "id",
            "audience",
            "department_id",
            "segment_id",
            "department__name",
            "segment__name",
            "case__id",
        )
    )
    if not taken and not final:
        return None
    # The entries first: the snapshot's cells are then counted on exactly the
    # responses it took in, whatever arrives meanwhile.
    SnapshotEntry.objects.bulk_create(
        (
            SnapshotEntry(
                response_id=pk,
                study=study,
                seq=seq,
                audience=audience,
                group_id=_group_of(audience, dept, seg),
                group_name=(dept_name if audience == Audience.INTERNAL else seg_name)
                or "",
                known=case_id is not None,
            )
            for pk, audience, dept, seg, dept_name, seg_name, case_id in taken
        ),
        batch_size=2000,
    )
    if len(taken) >= ANALYZE_AFTER and connection.vendor == "postgresql":
        # A big snapshot changes the entries table's size at once: without
        # fresh planner statistics the reads that join it (every result) were
        # three times slower at 100,000 (91 s against 31 s, loaded machine).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE surveys_snapshotentry")
    new_cells = _cells_of(
        study,
        Response.objects.filter(snapshot_entry__study=study, snapshot_entry__seq=seq),
    )
    new_known = (
        _cells_of(
            study,
            Response.objects.filter(
                snapshot_entry__study=study,
                snapshot_entry__seq=seq,
                snapshot_entry__known=True,
            ),
        )
        if any(row[-1] is not None for row in taken)
        else {}
    )
    items, gaps = _units(study)
    units = [
        OVERALL,
        *map(gap_unit, gaps),
        *(item_unit(pk) for pk, _ in items),
        *priority_units(study),
    ]
    for unit in [RESPONDENTS, *units]:
        for audience in AUDIENCES:
            if unit in releases and audience in releases[unit]:
                continue
            cells, history, known = _history(snapshots, unit, audience)
            for group, n in new_cells.get(unit, {}).get(audience, {}).items():
                cells[(group, seq)] = n
            _add(known, new_known, unit, audience, seq)
            release = None
            if unit != RESPONDENTS:
                release, _ = plan_release(
                    cells, history, seq, size, known=known or None
                )
            previous = history[-1] if history else NOTHING
            releases.setdefault(unit, {})[audience] = (release or previous).to_json()
    snapshot = Snapshot.objects.create(
        study=study,
        seq=seq,
        final=final,
        left_out=pending_count - len(taken) if final else 0,
        respondents=(last.respondents if last else 0) + len(taken),
        seed=secrets.token_hex(16),
        state={
            "cells": {
                unit: {
                    audience: {group_key(g): n for g, n in by_group.items()}
                    for audience, by_group in per_audience.items()
                }
                for unit, per_audience in new_cells.items()
            },
            "releases": releases,
            **(
                {
                    "known": {
                        unit: {
                            audience: {group_key(g): n for g, n in by_group.items()}
                            for audience, by_group in per_audience.items()
                        }
                        for unit, per_audience in new_known.items()
                    }
                }
                if new_known
                else {}
            ),
        },
    )
    transaction.on_commit(
        lambda: snapshot_published.send(sender=Snapshot, snapshot=snapshot)
    )
    return snapshot


@transaction.atomic
def snapshot_publish(study: Study, *, final: bool = False) -> Snapshot | None:
    """Publish the waiting responses that can be published safely; None when
    none can (or, unless `final`, none wait). A final snapshot is published
    even with nothing new, and counts what it had to leave out."""
    study = Study.objects.select_for_update().get(pk=study.pk)
    return _publish(study, final=final)


def _attempt_key(study: Study) -> str:
    return f"gapsurvey:snapshot-attempt:{study.pk}"


class SnapshotNotPublished(Exception):
    """A snapshot asked for by number that the study has not published."""


def published_at(study: Study, seq: int) -> Published:
    """An earlier published state of the study, as it was published."""
    snapshot = study.snapshots.filter(seq=seq).first()
    if snapshot is None:
        raise SnapshotNotPublished(
            f"This study has no published snapshot {seq}: results are read "
            "only from published snapshots."
        )
    return Published(
        study=study,
        snapshot=snapshot,
        waiting=_pending(study).count(),
        releases=snapshot.state.get("releases", {}),
    )


def is_big(snapshot: Snapshot | None) -> bool:
    """Whether a study's published snapshots hold more respondents than pages
    may wait for (settings.INLINE_MAX_RESPONDENTS): then publishing and
    computing results are the worker's alone."""
    return (
        snapshot is not None and snapshot.respondents > settings.INLINE_MAX_RESPONDENTS
    )


def _waiting_key(study: Study) -> str:
    return f"gapsurvey:snapshot-waiting:{study.pk}"


def published(study: Study, *, publish: bool = True) -> Published:
    """The study's published state, publishing first what can be.

    A closed study gets its final snapshot. Attempts that cannot publish are
    remembered (by the waiting responses' count and latest id) so that
    reading a page does not redo the work until something changes. Two
    queries when there is nothing to publish.

    A big study (`is_big`) is published by the worker: a read asks it to
    check (at most once a minute) and shows what it last found waiting, so
    that no page counts a million responses.
    """
    latest = study.snapshots.order_by("-seq").first()
    closing = study.status == Study.Status.CLOSED and not (latest and latest.final)
    if is_big(latest) and not closing:
        return _left_to_worker(
            study, latest, publish, cache.get(_waiting_key(study), 0)
        )
    waiting = _pending(study).aggregate(count=Count("id"), last=Max("id"))
    if latest is None and waiting["count"] > settings.INLINE_MAX_RESPONDENTS:
        # A big study's first snapshot: the worker's too.
        return _left_to_worker(study, latest, publish and not closing, waiting["count"])
    if publish and study.status != Study.Status.DRAFT:
        signature = (waiting["count"], waiting["last"], latest.seq if latest else 0)
        if closing or (
            waiting["count"] and cache.get(_attempt_key(study)) != signature
        ):
            snapshot = snapshot_publish(study, final=closing)
            if snapshot is None:
                cache.set(_attempt_key(study), signature, 24 * 3600)
            else:
                latest = snapshot
                waiting = _pending(study).aggregate(count=Count("id"))
    return Published(
        study=study,
        snapshot=latest,
        waiting=waiting["count"],
        releases=latest.state.get("releases", {}) if latest else {},
    )


def _left_to_worker(
    study: Study, latest: Snapshot | None, publish: bool, waiting: int
) -> Published:
    if publish and study.status != Study.Status.DRAFT:
        snapshot_publish_request(study)
    return Published(
        study=study,
        snapshot=latest,
        waiting=waiting,
        releases=latest.state.get("releases", {}) if latest else {},
    )


PUBLISH_CHECK_SECONDS = 60


def snapshot_publish_request(study: Study) -> None:
    """Ask the worker to publish what it can of a big study, at most once a
    minute."""
    from surveys.tasks import snapshots_publish

    if cache.add(f"gapsurvey:publish-asked:{study.pk}", 1, PUBLISH_CHECK_SECONDS):
        study_id = study.pk
        transaction.on_commit(lambda: snapshots_publish.enqueue(study_id))


def snapshot_publish_check(study: Study) -> Snapshot | None:
    """The worker's check of a big study: publish what can be, and keep how
    many responses still wait, for pages to show."""
    snapshot = snapshot_publish(study)
    cache.set(_waiting_key(study), _pending(study).count(), 24 * 3600)
    return snapshot


def snapshots_reopen(study: Study) -> None:
    """A reopened study may publish again: its final snapshot is final no more."""
    Snapshot.objects.filter(study=study, final=True).update(final=False)
