"""The reading side's background work: a published snapshot's results are
computed for every cut in the worker, so pages only read them."""

from django.core.cache import cache
from django.db import transaction
from django_tasks import task

from surveys.models import Snapshot

# How long a page waits before asking the worker again for the same work.
ASK_AGAIN_SECONDS = 300


def ask(task_obj, *args) -> None:
    """Queue a task for the worker (after the commit), unless the same was
    asked within ASK_AGAIN_SECONDS: pages ask on every view of what is
    missing, the worker needs to hear it once."""
    key = "gapsurvey:asked:" + ":".join(map(str, [task_obj.module_path, *args]))
    if cache.add(key, 1, ASK_AGAIN_SECONDS):
        transaction.on_commit(lambda: task_obj.enqueue(*args))


@task()
def snapshot_results_build(snapshot_id: int, cut: str = "") -> int:
    """Compute and store every cut's numbers of one published snapshot (and
    `cut`, a key of analysis.results.cut_key, when a page asked for one
    beyond those); how many were computed (0 when all were there, or the
    snapshot is gone)."""
    from analysis import exports
    from analysis.cuts import ALL
    from analysis.dashboard import snapshot_results_build as build
    from analysis.results import cut_of
    from surveys.services.snapshots import is_big, published_at

    snapshot = (
        Snapshot.objects.select_related("study__questionnaire")
        .filter(pk=snapshot_id)
        .first()
    )
    if snapshot is None:
        return 0
    published = published_at(snapshot.study, snapshot.seq)
    done = build(snapshot.study, published, also=cut_of(cut) if cut else None)
    if is_big(snapshot) and not cut:
        # A big study's answers are served only as stored: everyone's CSV is
        # the one most asked for.
        exports.export_file_build(
            snapshot.study, ALL, published, kind="answers", fmt="csv"
        )
    return done


@task()
def export_file_build(snapshot_id: int, cut: str, kind: str, fmt: str) -> int:
    """Build and store one export of a published snapshot (a page asked for
    it); its size in bytes (0 when the snapshot is gone)."""
    from analysis import exports
    from analysis.results import cut_of
    from surveys.services.snapshots import published_at

    snapshot = (
        Snapshot.objects.select_related("study__questionnaire")
        .filter(pk=snapshot_id)
        .first()
    )
    if snapshot is None or kind not in exports.KINDS or fmt not in exports.FORMATS:
        return 0
    stored = exports.export_file_build(
        snapshot.study,
        cut_of(cut),
        published_at(snapshot.study, snapshot.seq),
        kind=kind,
        fmt=fmt,
    )
    return stored.size


def snapshot_published(sender, snapshot: Snapshot, **kwargs) -> None:
    snapshot_results_build.enqueue(snapshot.pk)
