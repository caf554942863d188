"""Fair turns at the write lock, and how long one transaction may keep it.

SQLite has one write lock per database. A writer that finds it taken waits
in SQLite's busy handler, which polls with growing sleeps (up to 100 ms), so
a long Microbizz batch that commits and immediately begins again would
always win the lock back and starve single writes. Within one process,
writing workspaces therefore take :class:`WriteTurns` first: a FIFO queue,
so a batch that gives up its turn (:meth:`Workspace.share_write_lock
<polycrm.core.workspace.Workspace.share_write_lock>`) goes to the back,
behind the writers that were waiting.

On PostgreSQL there is no database-wide lock; a batch holds the row and
advisory (numbering) locks it took until it commits, so sharing means
committing every :data:`WRITE_SLICE` seconds.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import deque

# The longest a batch keeps the write lock while others may be waiting for it
# (seconds; POLYCRM_WRITE_SLICE_MS, default 50).
WRITE_SLICE = float(os.environ.get("POLYCRM_WRITE_SLICE_MS") or 50) / 1000
# How long a writer waits for its turn before going on to SQLite's own wait.
TURN_TIMEOUT = 30.0


class WriteTurns:
    """A FIFO lock with a timeout; :meth:`waiting` says whether anyone queues."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Event] = deque()

    def acquire(self, timeout: float = TURN_TIMEOUT) -> bool:
        with self._lock:
            if not self._held and not self._waiters:
                self._held = True
                return True
            turn = threading.Event()
            self._waiters.append(turn)
        if turn.wait(timeout):
            return True
        with self._lock:
            if turn in self._waiters:
                self._waiters.remove(turn)
                return False
        return True  # handed over just as the wait ended

    def release(self) -> None:
        with self._lock:
            if self._waiters:
                self._waiters.popleft().set()  # the turn passes on; still held
            else:
                self._held = False

    def waiting(self) -> bool:
        return bool(self._waiters)


_TURNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_TURNS_LOCK = threading.Lock()


def turns_of(db: object) -> WriteTurns:
    """The queue of one database (one per :class:`~polycrm.store.engine.Database`)."""
    with _TURNS_LOCK:
        turns = _TURNS.get(db)
        if turns is None:
            turns = _TURNS[db] = WriteTurns()
        return turns
