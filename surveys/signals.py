"""Signals the collection side sends for the reading side to act on
(`surveys` never imports `analysis`)."""

from django.dispatch import Signal

# Sent after the transaction that published a snapshot commits; kwargs:
# snapshot (surveys.models.Snapshot).
snapshot_published = Signal()
