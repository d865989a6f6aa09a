"""The reading side's background work: a published snapshot's results are
computed for every cut in the worker, so pages only read them."""

from django_tasks import task

from surveys.models import Snapshot


@task()
def snapshot_results_build(snapshot_id: int, cut: str = "") -> int:
    """Compute and store every cut's numbers of one published snapshot (and
    `cut`, a key of analysis.results.cut_key, when a page asked for one
    beyond those); how many were computed (0 when all were there, or the
    snapshot is gone)."""
    from analysis.dashboard import snapshot_results_build as build
    from analysis.results import cut_of
    from surveys.services.snapshots import published_at

    snapshot = (
        Snapshot.objects.select_related("study__questionnaire")
        .filter(pk=snapshot_id)
        .first()
    )
    if snapshot is None:
        return 0
    return build(
        snapshot.study,
        published_at(snapshot.study, snapshot.seq),
        also=cut_of(cut) if cut else None,
    )


def snapshot_published(sender, snapshot: Snapshot, **kwargs) -> None:
    snapshot_results_build.enqueue(snapshot.pk)
