"""Stored exports (issue 16): a big study's answers are built once by the
worker, kept in chunks and served as they are — the same bytes the request
would have written — and never built inside a request."""

import pytest
from django_tasks_db.models import DBTaskResult

from analysis import exports
from analysis.models import ExportChunk, ExportFile
from analysis.tasks import export_file_build, snapshot_results_build
from surveys.models import Study
from surveys.services import snapshots
from tests.analysis.test_exports import csv_rows, export_url, xlsx_rows
from tests.analysis.test_results import grouped_study  # noqa: F401 — fixture


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def big(grouped_study, settings):  # noqa: F811
    """The grouped study, published, then counted as big (20 respondents > 10)."""
    published = snapshots.published(grouped_study)
    settings.INLINE_MAX_RESPONDENTS = 10
    return grouped_study, published


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_big_studys_answers_are_built_by_the_worker_then_served_as_stored(
    alice_client, big, fmt, settings, django_capture_on_commit_callbacks
):
    study, published = big
    settings.INLINE_MAX_RESPONDENTS = 10**6
    written = alice_client.get(export_url(study, "answers", fmt))  # in the request
    settings.INLINE_MAX_RESPONDENTS = 10

    with django_capture_on_commit_callbacks(execute=True):
        first = alice_client.get(export_url(study, "answers", fmt))
    assert first.status_code == 202
    assert "being prepared" in first.content.decode()
    assert not ExportFile.objects.exists()
    [asked] = DBTaskResult.objects.filter(task_path="analysis.tasks.export_file_build")
    assert asked.args_kwargs["args"] == [published.snapshot.pk, "all", "answers", fmt]

    assert export_file_build.call(*asked.args_kwargs["args"]) > 0
    served = alice_client.get(export_url(study, "answers", fmt))
    assert served.status_code == 200
    assert served["Content-Disposition"].endswith(f'study-{study.pk}-answers.{fmt}"')
    if fmt == "csv":
        body = _body(served)
        assert body == _body(written)
        assert int(served["Content-Length"]) == len(body)
    else:
        assert xlsx_rows(served) == xlsx_rows(written)


def test_a_stored_export_is_kept_and_read_in_chunks(
    alice_client, big, monkeypatch, settings
):
    study, published = big
    settings.INLINE_MAX_RESPONDENTS = 10**6
    written = _body(alice_client.get(export_url(study, "answers", "csv")))
    settings.INLINE_MAX_RESPONDENTS = 10
    monkeypatch.setattr(exports, "CHUNK_BYTES", 100)
    export_file_build.call(published.snapshot.pk, "all", "answers", "csv")
    stored = ExportFile.objects.get()
    assert stored.size == len(written)
    assert ExportChunk.objects.filter(file=stored).count() == -(-len(written) // 100)
    assert _body(alice_client.get(export_url(study, "answers", "csv"))) == written


def test_publishing_a_big_study_builds_everyones_answers_csv(big, alice_client):
    study, published = big
    snapshot_results_build.call(published.snapshot.pk)
    stored = ExportFile.objects.get()
    assert (stored.cut, stored.kind, stored.fmt) == ("all", "answers", "csv")
    rows = csv_rows(alice_client.get(export_url(study, "answers", "csv")))
    assert rows[0] == exports.ANSWER_HEADER
    assert len(rows) > 1


def test_a_filtered_export_and_a_settings_change_are_built_anew(alice_client, big):
    study, published = big
    snapshot_results_build.call(published.snapshot.pk)
    segment = study.organization.segments.first()
    url = export_url(study, "answers", "csv") + f"?segment={segment.pk}"
    assert alice_client.get(url).status_code == 202
    Study.objects.filter(pk=study.pk).update(min_group_size=4)
    # The stored file was made under the old minimum group size: not served.
    assert alice_client.get(export_url(study, "answers", "csv")).status_code == 202


def test_another_organization_never_gets_a_stored_export(
    big, charlie_client, bob_client
):
    study, published = big
    snapshot_results_build.call(published.snapshot.pk)
    assert ExportFile.objects.exists()
    for client in (charlie_client, bob_client):
        assert client.get(export_url(study, "answers", "csv")).status_code == 404
