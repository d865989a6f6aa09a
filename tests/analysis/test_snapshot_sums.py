"""Each published snapshot's sums are read from the answers once and stored
(`analysis.models.SnapshotSums`): the numbers of a later snapshot add the
new snapshot's sums to the stored ones, and equal those read from every
answer again."""

import math
import random

import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analysis import dashboard
from analysis.models import SnapshotSums
from surveys.models import Study
from surveys.services import snapshots
from tests.analysis.test_priorities_sums import _make, respond

pytestmark = pytest.mark.django_db


def _answer_reads(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "surveys_answer" in q["sql"]]


def _same(found, expected):
    """Frames with the same rows (in any order); float sums to rounding (a
    database adds floats in any order)."""

    def rows(frame):
        plain = frame.astype(object).where(frame.notna(), None)
        return sorted(
            map(tuple, plain.to_numpy().tolist()),
            key=lambda row: [
                f"{v:.6f}" if isinstance(v, float) else str(v) for v in row
            ],
        )

    assert list(found.columns) == list(expected.columns)
    assert len(found) == len(expected)
    for mine, theirs in zip(rows(found), rows(expected), strict=True):
        for a, b in zip(mine, theirs, strict=True):
            if isinstance(a, float) and isinstance(b, float):
                assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12), (mine, theirs)
            else:
                assert a == b, (mine, theirs)


@pytest.fixture
def two_snapshots(org_a):
    study, segments, _ = _make(org_a)
    first = snapshots.published(study)
    dashboard.snapshot_sums(study, first)
    departments = list(org_a.departments.order_by("pk"))
    # New responses (submissions leave the study's settings alone).
    respond(study, random.Random(2), segments, departments, 4, 3, touch=False)
    second = snapshots.published(study)
    assert (first.seq, second.seq) == (1, 2)
    return study, first, second


def test_a_later_snapshot_reads_only_its_own_answers(two_snapshots):
    study, first, second = two_snapshots
    stored = SnapshotSums.objects.get(snapshot=first.snapshot)
    with CaptureQueriesContext(connection) as captured:
        dashboard.snapshot_sums(study, second)
    assert len(_answer_reads(captured)) == 1
    # The first snapshot's sums are not read or written again; the second's
    # hold its own rows only.
    assert SnapshotSums.objects.get(snapshot=first.snapshot).pk == stored.pk
    rows = SnapshotSums.objects.get(snapshot=second.snapshot).rows
    assert rows and {row[4] for row in rows} == {2}
    assert {row[4] for row in stored.rows} == {1}
    # Read again: every snapshot's sums are stored, no answer is read.
    with CaptureQueriesContext(connection) as again:
        dashboard.snapshot_sums(study, second)
    assert _answer_reads(again) == []


def test_stored_and_fresh_sums_give_the_same_numbers(two_snapshots):
    study, _, second = two_snapshots
    (items, (scores, answers)), priorities = dashboard.snapshot_sums(study, second)
    SnapshotSums.objects.all().delete()
    (_, (fresh_scores, fresh_answers)), fresh = dashboard.snapshot_sums(study, second)
    _same(scores, fresh_scores)
    _same(answers, fresh_answers)
    assert set(priorities) == set(fresh)
    for name, frame in fresh.items():
        assert isinstance(frame, pd.DataFrame)
        _same(priorities[name], frame)
    assert len(fresh["scores"]) > 10 and len(fresh["item_d"]) > 10


def test_changed_settings_read_the_answers_again(two_snapshots):
    study, _, second = two_snapshots
    dashboard.snapshot_sums(study, second)
    Study.objects.filter(pk=study.pk).update(
        min_group_size=4, changed_at=timezone.now()
    )
    study.refresh_from_db()
    with CaptureQueriesContext(connection) as captured:
        dashboard.snapshot_sums(study, second)
    assert len(_answer_reads(captured)) == 1
    assert SnapshotSums.objects.filter(snapshot__study=study).count() == 2
