"""The tables the reading side owns: results computed once per published
snapshot and cut, which the dashboard and the exports read, and the sums
each snapshot adds, which the results are computed from.

A published snapshot never changes, so neither do its numbers: they are
computed in the worker right after the snapshot is published (for every cut
the filters allow) or, failing that, by the first page that asks, and stored.
Only aggregates and the ids of the comments chosen for display are kept —
never a respondent's answers or text — so erasing a person leaves nothing
here to erase.
"""

from django.db import models

from surveys.models import Snapshot


class SnapshotResult(models.Model):
    snapshot = models.ForeignKey(
        Snapshot, on_delete=models.CASCADE, related_name="results"
    )
    # "all", "d<department id>", "s<segment id>" or "d<id>-s<id>".
    cut = models.CharField(max_length=48)
    # What the numbers depend on besides the snapshot (the study's settings
    # when computed, e.g. its minimum group size); a row whose basis no longer
    # matches is computed again.
    basis = models.CharField(max_length=80)
    # What the exports read (frames of numbers) and what the page reads (rows,
    # charts, the comments to show), apart so that each reads only its own.
    numbers = models.JSONField()
    view = models.JSONField()
    computed_at = models.DateTimeField(auto_now=True)
    seconds = models.FloatField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "cut"], name="snapshot_result_unique_cut"
            )
        ]

    def __str__(self) -> str:
        return f"{self.snapshot} results ({self.cut})"


class SnapshotSums(models.Model):
    """The sums one snapshot adds: the rows of the analysis statement
    (`analysis.queries.study_sums`, or `analysis.priorities_queries` for a
    questionnaire that asks more) over the responses that entered the study
    in this snapshot, each row already grouped by snapshot and group.

    A snapshot's entries never change, so each answer is read once: the
    numbers of snapshot N are computed from the stored sums of snapshots
    1 … N (`analysis.results.sums_rows`). Counts and sums of groups only —
    never a respondent's answers."""

    snapshot = models.OneToOneField(
        Snapshot, on_delete=models.CASCADE, related_name="sums"
    )
    # As SnapshotResult's basis, with the statement's own version: rows
    # whose basis no longer matches are read again.
    basis = models.CharField(max_length=100)
    rows = models.JSONField()
    seconds = models.FloatField(default=0)

    def __str__(self) -> str:
        return f"{self.snapshot} sums"


class ExportFile(models.Model):
    """An anonymized answers export of a big study's snapshot and cut, built
    once by the worker and then served as it is (in chunks, so serving takes
    constant memory whatever its size). Holds no names, ids or comments —
    the same rows the download has."""

    snapshot = models.ForeignKey(
        Snapshot, on_delete=models.CASCADE, related_name="export_files"
    )
    cut = models.CharField(max_length=48)
    kind = models.CharField(max_length=16)
    fmt = models.CharField(max_length=8)
    basis = models.CharField(max_length=80)
    size = models.BigIntegerField(default=0)
    seconds = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "cut", "kind", "fmt"],
                name="export_file_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.snapshot} {self.kind}.{self.fmt} ({self.cut})"


class ExportChunk(models.Model):
    file = models.ForeignKey(
        ExportFile, on_delete=models.CASCADE, related_name="chunks"
    )
    n = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["file", "n"], name="export_chunk_unique")
        ]

    def __str__(self) -> str:
        return f"{self.file} chunk {self.n}"
