"""Stored results: a published snapshot's numbers per cut, written once, read
by the dashboard and the exports (`analysis.models.SnapshotResult`).

The numbers are plain data and small frames (one row per gap, item or group);
they are kept as JSON with each frame's column types, so what is read back is
what was computed. Which cuts exist and how they are computed is
`analysis.dashboard`'s business; this module only stores and reads.
"""

import math
import time
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import IntegrityError, transaction

from analysis.cuts import ALL, Cut
from analysis.models import SnapshotResult, SnapshotSums
from surveys.models import Snapshot, Study

FRAME = "__frame__"
PAIRS = "__pairs__"
FLOAT = "__float__"


def cut_key(cut: Cut) -> str:
    """ "all", "d<id>", "s<id>" or "d<id>-s<id>"."""
    parts = []
    if cut.department_id is not None:
        parts.append(f"d{cut.department_id}")
    if cut.segment_id is not None:
        parts.append(f"s{cut.segment_id}")
    return "-".join(parts) or "all"


def cut_of(key: str) -> Cut:
    if key == "all":
        return ALL
    found = {part[0]: int(part[1:]) for part in key.split("-")}
    return Cut(department_id=found.get("d"), segment_id=found.get("s"))


# The shape of what is stored: raised when a release stores more or other
# parts, so results stored by an earlier release are computed again rather
# than read without them (2: the priorities part within each cut's view; 3:
# each statement's area in the matrix per statement).
VERSION = 3


def basis(study: Study) -> str:
    """What a snapshot's numbers depend on besides the snapshot itself: the
    study's settings at computing time (any change of them bumps changed_at)
    and the shape of what is stored (VERSION)."""
    changed = study.changed_at.isoformat()
    return f"v{VERSION}:{study.min_group_size}:{study.questionnaire_id}:{changed}"


PARTS = ("numbers", "view")


def read(study: Study, snapshot_id: int, cut: Cut, part: str) -> dict | None:
    """A stored part ("numbers" or "view") of a snapshot's cut, or None when
    there is none yet (or only one computed under other settings)."""
    if part not in PARTS:
        raise ValueError(part)
    row = (
        SnapshotResult.objects.filter(snapshot_id=snapshot_id, cut=cut_key(cut))
        .values_list("basis", part)
        .first()
    )
    if row is None or row[0] != basis(study):
        return None
    return decode(row[1])


def exists(study: Study, snapshot_id: int, cut: Cut) -> bool:
    return SnapshotResult.objects.filter(
        snapshot_id=snapshot_id, cut=cut_key(cut), basis=basis(study)
    ).exists()


def newest_seq(study: Study, cut: Cut) -> int | None:
    """The newest snapshot of the study with the cut's results stored (under
    the study's current settings)."""
    return (
        SnapshotResult.objects.filter(
            snapshot__study=study, cut=cut_key(cut), basis=basis(study)
        )
        .order_by("-snapshot__seq")
        .values_list("snapshot__seq", flat=True)
        .first()
    )


def store(study: Study, snapshot_id: int, cut: Cut, computed: dict, seconds: float):
    """Keep a snapshot's results for a cut ({"numbers": …, "view": …}),
    replacing stale ones. Two writers of the same cut store the same
    results; the first one stays."""
    parts = {part: encode(computed[part]) for part in PARTS}
    key = cut_key(cut)
    updated = SnapshotResult.objects.filter(snapshot_id=snapshot_id, cut=key).update(
        basis=basis(study), seconds=seconds, **parts
    )
    if updated:
        return
    try:
        with transaction.atomic():
            SnapshotResult.objects.create(
                snapshot_id=snapshot_id,
                cut=key,
                basis=basis(study),
                seconds=seconds,
                **parts,
            )
    except IntegrityError:
        pass


def timed(compute):
    """(result, seconds) of compute()."""
    started = time.perf_counter()
    result = compute()
    return result, time.perf_counter() - started


def roundtrip(value):
    """The value as it reads back from the store."""
    return decode(encode(value))


# --- encoding --------------------------------------------------------------------


def encode(value):
    """Numbers as JSON-safe data: frames keep their column types, NaN and
    infinities survive (JSON has neither), dicts keep non-string keys."""
    if isinstance(value, pd.DataFrame):
        return {
            FRAME: {
                "columns": [encode(column) for column in value.columns],
                "dtypes": [str(dtype) for dtype in value.dtypes],
                "rows": [
                    [encode(cell) for cell in row]
                    for row in value.itertuples(index=False, name=None)
                ],
            }
        }
    if isinstance(value, dict):
        if all(isinstance(key, str) and not key.startswith("__") for key in value):
            return {key: encode(item) for key, item in value.items()}
        return {PAIRS: [[encode(key), encode(item)] for key, item in value.items()]}
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return {FLOAT: repr(value)}
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def decode(value):
    if isinstance(value, dict):
        if FRAME in value:
            return _frame(value[FRAME])
        if PAIRS in value:
            return {_key(decode(key)): decode(item) for key, item in value[PAIRS]}
        if FLOAT in value:
            return float(value[FLOAT])
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value


def _key(key):
    return tuple(key) if isinstance(key, list) else key


def _frame(data: dict) -> pd.DataFrame:
    """A frame as encoded: column by column in its own type, so an object
    column keeps None where a float column has NaN."""
    columns = [decode(column) for column in data["columns"]]
    rows = [[decode(cell) for cell in row] for row in data["rows"]]
    frame = pd.DataFrame(
        {
            position: pd.Series(
                [row[position] for row in rows],
                dtype=object if dtype == "object" else dtype,
            )
            for position, dtype in enumerate(data["dtypes"])
        },
        index=pd.RangeIndex(len(rows)),
    )
    frame.columns = columns
    return frame


# The shape of the stored sums (SnapshotSums.rows): raised when the analysis
# statements' rows change, so sums stored by an earlier release are read again.
SUMS_VERSION = 1


def sums_rows(study: Study, upto: int, statement: str, read) -> list:
    """The rows of an analysis statement (named `statement`) over the
    snapshots 1 … `upto`: each snapshot's rows as stored, the missing ones
    read by `read(since)` (the rows of the snapshots after `since` up to
    `upto`; each row's fifth column is its snapshot's seq) and stored, so
    every answer is read once whatever the number of snapshots and views."""
    wanted = f"{basis(study)}:{statement}:s{SUMS_VERSION}"
    snapshots = dict(
        Snapshot.objects.filter(study=study, seq__lte=upto).values_list("seq", "pk")
    )
    stored, stale = {}, []
    for pk, found_basis, found in SnapshotSums.objects.filter(
        snapshot_id__in=snapshots.values()
    ).values_list("snapshot_id", "basis", "rows"):
        if found_basis == wanted:
            stored[pk] = found
        else:
            stale.append(pk)
    missing = [seq for seq, pk in snapshots.items() if pk not in stored]
    rows = [row for found in stored.values() for row in found]
    if not missing:
        return rows
    since = min(missing) - 1
    started = time.perf_counter()
    fresh = [[_plain(value) for value in row] for row in read(since)]
    seconds = time.perf_counter() - started
    by_seq: dict[int, list] = {seq: [] for seq in missing}
    for row in fresh:
        if row[4] in by_seq:
            by_seq[row[4]].append(row)
    if stale:
        SnapshotSums.objects.filter(snapshot_id__in=stale).exclude(
            basis=wanted
        ).delete()
    SnapshotSums.objects.bulk_create(
        [
            SnapshotSums(
                snapshot_id=snapshots[seq], basis=wanted, rows=found, seconds=seconds
            )
            for seq, found in by_seq.items()
        ],
        ignore_conflicts=True,
    )
    return [row for row in rows if row[4] <= since] + fresh


def _plain(value):
    """A statement's value as JSON keeps it: sums of integers as int
    (PostgreSQL gives Decimal), others as float or text."""
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value.item() if hasattr(value, "item") else value
