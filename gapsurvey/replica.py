"""Reads from a replica database, opt-in and only where stale data is harmless.

With `DATABASE_REPLICA_URL` set, settings define a second alias, `replica`, and
`REPLICA_READS` is on. Nothing reads from it unless asked: the dashboard and the
exports wrap their read-only part in `replica_reads(...)` (the access check and
the lazy snapshot publish stay on the primary). Inside that block:

- reads go to the replica, unless a transaction is open (then everything goes to
  the primary: a transaction must see its own writes and its locks);
- every write goes to the primary, and after one the block's remaining reads go
  to the primary too (read your own writes: a replica lags);
- `require=obj` says the block reads data that belongs to `obj` (the snapshot
  being shown): when the replica does not have that row yet, the whole block
  reads from the primary instead of mixing a stale replica into the page.

Outside any block (and without a replica) every read goes to the primary, as
before — even the relations of an object that was loaded from the replica.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import connections

REPLICA = "replica"
PRIMARY = "default"


@dataclass
class _Reads:
    replica: bool  # reads may go to the replica
    pinned: bool = False  # a write happened: the rest reads the primary


_reads: ContextVar[_Reads | None] = ContextVar("gapsurvey_replica_reads", default=None)


def replica_enabled() -> bool:
    return bool(getattr(settings, "REPLICA_READS", False)) and REPLICA in (
        settings.DATABASES
    )


def _replica_has(obj) -> bool:
    if obj is None:
        return True
    return type(obj)._default_manager.using(REPLICA).filter(pk=obj.pk).exists()


def _state(require) -> _Reads:
    if not replica_enabled() or connections[PRIMARY].in_atomic_block:
        return _Reads(replica=False)
    return _Reads(replica=_replica_has(require))


@contextmanager
def replica_reads(require=None) -> Iterator[None]:
    """Send this block's reads to the replica (see the module's docstring)."""
    token = _reads.set(_state(require))
    try:
        yield
    finally:
        _reads.reset(token)


def replica_iter(items: Iterable, require=None) -> Iterator:
    """`items` read lazily under `replica_reads`, one item at a time (a streamed
    response is iterated after its view has returned)."""
    state = _state(require)
    iterator = iter(items)
    while True:
        token = _reads.set(state)
        try:
            item = next(iterator)
        except StopIteration:
            return
        finally:
            _reads.reset(token)
        yield item


def reading_from() -> str:
    """The alias this context's reads go to now."""
    state = _reads.get()
    if (
        state is None
        or not state.replica
        or state.pinned
        or connections[PRIMARY].in_atomic_block
    ):
        return PRIMARY
    return REPLICA


class ReplicaRouter:
    """Reads inside `replica_reads` to the replica; everything else, and every
    write and migration, to the primary."""

    def db_for_read(self, model, **hints) -> str:
        # Never None: Django would then read an object's relations from the
        # alias it was loaded from, a replica even outside `replica_reads`.
        return reading_from()

    def db_for_write(self, model, **hints) -> str:
        state = _reads.get()
        # The database cache's entries are keyed by what they hold (a snapshot's
        # results): writing one does not make the replica's data stale.
        if state is not None and model._meta.app_label != "django_cache":
            state.pinned = True
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        return True  # the same data on both aliases

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool | None:
        return db == PRIMARY
