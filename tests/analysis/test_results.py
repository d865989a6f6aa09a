"""Stored results (issue 16): computed once per published snapshot and cut,
read back exactly as computed, by the page and the exports alike."""

import math

import numpy as np
import pandas as pd
import pytest

from analysis import queries, results
from analysis.dashboard import _study_numbers, result_cuts, snapshot_results_build
from analysis.models import SnapshotResult
from analysis.tasks import snapshot_results_build as build_task
from surveys.models import Audience
from surveys.services import snapshots
from tests import factories
from tests.analysis.conftest import gap_items, submit
from tests.analysis.test_dashboard import figures, url


def strict(value):
    """A value with every cell's type kept: None, NaN and 1.0 all differ."""
    if isinstance(value, pd.DataFrame):
        return (
            list(value.columns),
            [str(dtype) for dtype in value.dtypes],
            [[strict(cell) for cell in row] for row in value.itertuples(index=False)],
        )
    if isinstance(value, dict):
        return {key: strict(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(item) for item in value]
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    if isinstance(value, np.generic):
        return (type(value.item()).__name__, value.item())
    return (type(value).__name__, value)


def test_every_kind_of_value_comes_back_as_it_went():
    frame = pd.DataFrame(
        {
            "gap": ["knowledge", "overall"],
            "mean": [1.5, float("nan")],
            "delta": pd.Series([0.25, None], dtype=object),
            "n": np.array([3, 0], dtype="int64"),
            "shown": [True, False],
            "note": pd.Series(["", None], dtype=object),
        }
    )
    value = {
        "table": frame,
        "empty": frame.iloc[0:0],
        "by_id": {None: [1, 2], 7: "x"},
        "inf": float("inf"),
        "np": np.float64(0.5),
    }
    back = results.decode(results.encode(value))
    assert strict(back["table"]) == strict(frame)
    assert strict(back["empty"]) == strict(frame.iloc[0:0])
    assert back["by_id"] == {None: [1, 2], 7: "x"}
    assert back["inf"] == float("inf") and back["np"] == 0.5


def test_a_real_studys_numbers_come_back_exactly(hand_study):
    published = snapshots.published(hand_study)
    for cut in result_cuts(published):
        numbers = _study_numbers(hand_study, cut, published)
        back = results.decode(results.encode(numbers))
        assert strict(back) == strict(
            {
                key: value.reset_index(drop=True)
                if isinstance(value, pd.DataFrame)
                else value
                for key, value in numbers.items()
            }
        )


@pytest.fixture
def grouped_study(org_a):
    """Two departments and two segments, each big enough to be shown."""
    study = factories.make_study(org_a, status="open")
    k1, k2 = gap_items(study, "knowledge")
    for name in ("North", "South"):
        segment = factories.make_segment(org_a, name)
        department = factories.make_department(org_a, f"{name} desk")
        for value in range(1, 6):
            submit(
                study, Audience.CUSTOMER, {k1: value, k2: 7 - value}, segment=segment
            )
            submit(study, Audience.INTERNAL, {k1: 6, k2: value}, department=department)
    study.refresh_from_db()  # submit() marks the study changed
    return study


def test_the_worker_stores_every_cut_the_filters_allow(grouped_study, settings):
    settings.DASHBOARD_CACHE_SECONDS = 0
    published = snapshots.published(grouped_study)
    cuts = result_cuts(published)
    # Everyone, two departments, two segments and their four pairs.
    assert len(cuts) == 9
    SnapshotResult.objects.all().delete()

    assert build_task.call(published.snapshot.pk) == 9
    assert build_task.call(published.snapshot.pk) == 0  # nothing left to do
    stored = set(
        SnapshotResult.objects.filter(snapshot=published.snapshot).values_list(
            "cut", flat=True
        )
    )
    assert stored == {results.cut_key(cut) for cut in cuts}
    for cut in cuts:
        assert strict(
            results.read(grouped_study, published.snapshot.pk, cut, "numbers")
        ) == (
            strict(
                results.decode(
                    results.encode(_study_numbers(grouped_study, cut, published))
                )
            )
        )


def test_pairs_of_filters_are_left_to_first_view_past_the_limit(
    grouped_study, settings
):
    settings.RESULTS_MAX_CUTS = 5
    published = snapshots.published(grouped_study)
    assert len(result_cuts(published)) == 5  # everyone and the four single groups
    SnapshotResult.objects.all().delete()
    assert snapshot_results_build(grouped_study, published) == 5


def test_every_filtered_page_reads_only_stored_results(
    alice_client, grouped_study, settings
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.DASHBOARD_CACHE_SECONDS = 0
    published = snapshots.published(grouped_study)
    snapshot_results_build(grouped_study, published)
    for cut in result_cuts(published):
        query = {}
        if cut.department_id:
            query["department"] = cut.department_id
        if cut.segment_id:
            query["segment"] = cut.segment_id
        with CaptureQueriesContext(connection) as captured:
            page = alice_client.get(url(grouped_study), query)
        assert page.status_code == 200
        assert not any("surveys_answer" in q["sql"] for q in captured.captured_queries)
        assert figures(page)


def test_publishing_queues_the_results_for_the_worker(
    grouped_study, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        snapshot = snapshots.snapshot_publish(grouped_study)
    assert snapshot is not None
    [queued] = DBTaskResult.objects.filter(
        task_path="analysis.tasks.snapshot_results_build"
    )
    assert queued.args_kwargs["args"] == [snapshot.pk]


def test_changing_the_minimum_group_size_computes_again(
    alice_client, grouped_study, settings
):
    from surveys.models import Study

    settings.DASHBOARD_CACHE_SECONDS = 0
    published = snapshots.published(grouped_study)
    before = alice_client.get(url(grouped_study), {"segment": ""})
    assert before.status_code == 200
    Study.objects.filter(pk=grouped_study.pk).update(min_group_size=6)
    grouped_study.refresh_from_db()
    numbers = results.read(grouped_study, published.snapshot.pk, queries.ALL, "numbers")
    assert numbers is None  # stored under the old setting: not used


def test_the_gap_table_export_reads_the_same_stored_results(
    alice_client, grouped_study, settings
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    settings.DASHBOARD_CACHE_SECONDS = 0
    published = snapshots.published(grouped_study)
    snapshot_results_build(grouped_study, published)
    with CaptureQueriesContext(connection) as captured:
        export = alice_client.get(
            reverse("export", args=[grouped_study.pk, "gaps", "csv"])
        )
    body = b"".join(export.streaming_content).decode("utf-8-sig")
    assert export.status_code == 200 and "knowledge" in body.lower()
    assert not any("surveys_answer" in q["sql"] for q in captured.captured_queries)


def test_a_big_snapshot_without_results_says_they_are_being_prepared(
    alice_client, grouped_study, settings, django_capture_on_commit_callbacks
):
    """No page waits for a big computation: it asks the worker and says so;
    once the worker has run, the page shows the results."""
    from django_tasks_db.models import DBTaskResult

    settings.DASHBOARD_CACHE_SECONDS = 0
    published = snapshots.published(grouped_study)
    SnapshotResult.objects.all().delete()
    settings.INLINE_MAX_RESPONDENTS = 10  # 20 respondents: "big"

    with django_capture_on_commit_callbacks(execute=True):
        page = alice_client.get(url(grouped_study))
    assert page.status_code == 200
    assert "Results are being prepared" in page.content.decode()
    assert not SnapshotResult.objects.exists()
    [asked] = DBTaskResult.objects.filter(
        task_path="analysis.tasks.snapshot_results_build"
    )
    assert asked.args_kwargs["args"] == [published.snapshot.pk, "all"]
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.get(url(grouped_study))  # asked once, not on every view
    assert (
        DBTaskResult.objects.filter(
            task_path="analysis.tasks.snapshot_results_build"
        ).count()
        == 1
    )

    assert build_task.call(*asked.args_kwargs["args"]) == len(result_cuts(published))
    ready = alice_client.get(url(grouped_study))
    assert "Results are being prepared" not in ready.content.decode()
    assert figures(ready)


def test_while_a_new_snapshot_is_prepared_the_last_stored_one_is_shown(
    alice_client, grouped_study, org_a, settings
):
    settings.DASHBOARD_CACHE_SECONDS = 0
    first = snapshots.published(grouped_study)
    snapshot_results_build(grouped_study, first)
    k1, k2 = gap_items(grouped_study, "knowledge")
    segment = factories.make_segment(org_a, "West")
    for value in range(1, 6):
        submit(grouped_study, Audience.CUSTOMER, {k1: value, k2: 3}, segment=segment)
    grouped_study.refresh_from_db()
    snapshot_results_build(grouped_study, first)  # same settings basis again

    page = alice_client.get(url(grouped_study))  # small: publishes the second
    settings.INLINE_MAX_RESPONDENTS = 10
    SnapshotResult.objects.filter(snapshot__seq=2).delete()
    page = alice_client.get(url(grouped_study))
    second = snapshots.published(grouped_study)
    assert second.seq == first.seq + 1
    text = page.content.decode()
    assert f"Snapshot {second.seq} is published" in text
    assert f"These results are published snapshot {first.seq}" in text
    assert figures(page)


def test_a_big_study_is_published_by_the_worker_never_by_a_page(
    alice_client, grouped_study, org_a, settings, django_capture_on_commit_callbacks
):
    """Past settings.INLINE_MAX_RESPONDENTS a page neither counts the waiting
    responses nor publishes: it asks the worker (once a minute) and shows the
    newest snapshot with the worker's last count of what waits."""
    from django_tasks_db.models import DBTaskResult

    from surveys.tasks import snapshots_publish

    settings.DASHBOARD_CACHE_SECONDS = 0
    settings.INLINE_MAX_RESPONDENTS = 10
    # The first snapshot of a big study is the worker's too.
    with django_capture_on_commit_callbacks(execute=True):
        assert snapshots.published(grouped_study).snapshot is None
    [asked] = DBTaskResult.objects.filter(task_path="surveys.tasks.snapshots_publish")
    assert snapshots_publish.call(grouped_study.pk) == 1
    first = snapshots.published(grouped_study)
    assert first.seq == 1 and first.snapshot.respondents == 20
    snapshot_results_build(grouped_study, first)

    k1, k2 = gap_items(grouped_study, "knowledge")
    segment = factories.make_segment(org_a, "West")
    for value in range(1, 6):
        submit(grouped_study, Audience.CUSTOMER, {k1: value, k2: 3}, segment=segment)
    grouped_study.refresh_from_db()
    snapshot_results_build(grouped_study, first)  # under the study's new basis

    from django.core.cache import cache

    cache.clear()  # the minute since the last request has passed
    with django_capture_on_commit_callbacks(execute=True):
        page = alice_client.get(url(grouped_study))
    assert snapshots.published(grouped_study, publish=False).seq == 1
    assert "These results are published snapshot 1" in page.content.decode()
    assert (
        DBTaskResult.objects.filter(task_path="surveys.tasks.snapshots_publish").count()
        == 2
    )
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.get(url(grouped_study))  # within the minute: not asked again
    assert (
        DBTaskResult.objects.filter(task_path="surveys.tasks.snapshots_publish").count()
        == 2
    )
    assert snapshots_publish.call(grouped_study.pk) == 2
    assert snapshots.published(grouped_study).snapshot.respondents == 25


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_a_big_snapshot_refreshes_the_planners_statistics(
    grouped_study, monkeypatch, vendor
):
    from django.db import connection

    if connection.vendor != vendor:
        pytest.skip(f"runs on {vendor}")
    seen = []

    def wrapper(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    monkeypatch.setattr(snapshots, "ANALYZE_AFTER", 20)
    with connection.execute_wrapper(wrapper):
        assert snapshots.snapshot_publish(grouped_study).respondents == 20
    analyzed = [sql for sql in seen if sql.startswith("ANALYZE")]
    assert analyzed == (
        ["ANALYZE surveys_snapshotentry"] if vendor == "postgresql" else []
    )
