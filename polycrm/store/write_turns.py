"""Fair turns at SQLite's write lock, within one process.

SQLite has one write lock per database. A writer that finds it taken waits
in SQLite's busy handler, which polls with growing sleeps (1, 2, 5, 10, 15,
20, 25, 25, 25, 50, 50, then 100 ms at a time), so under concurrent writes a
writer often sleeps long after the lock became free, and one that commits and
begins again at once (a long batch, the request journal) wins it back before
the sleepers wake. Every SQLite engine (:func:`polycrm.store.engine.make_engine`)
therefore gives each writing transaction (``BEGIN IMMEDIATE``) a turn of a
:class:`WriteTurns` first: a FIFO queue, handed from one writer to the next the
moment the previous one's ``COMMIT`` or ``ROLLBACK`` returns, so writers of one
process never meet in the busy handler. Writers of other processes (a second
worker, ``polycrm load``) still meet there.
"""

from __future__ import annotations

import threading
from collections import deque

# How long a writer waits for its turn before going on to SQLite's own wait
# (so a thread that opens a second writing transaction while it holds one
# fails with "database is locked" as it would without turns, not hangs).
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
