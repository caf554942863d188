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
process never meet in the busy handler.

Writers of other processes (the other workers of ``serve --workers N``,
``polycrm load``) have no queue in common with these, so the holder of a turn
also takes :class:`ProcessWriteLock`, a record lock on a file beside the
database (``<database>-writer``), before ``BEGIN IMMEDIATE``: a writer whose
lock another process holds tries again within a millisecond instead of
sleeping up to 100 ms in the busy handler. Under two workers' request
journals the busy handler let one process win the lock again and again while
the other slept, until every request of the other waited for its journal
(docs/benchmarks.md, issue 12, 2026-12-04).
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
import time
from collections import deque

# How long a writer waits for its turn before going on to SQLite's own wait
# (so a thread that opens a second writing transaction while it holds one
# fails with "database is locked" as it would without turns, not hangs).
TURN_TIMEOUT = 30.0


# The longest a writer sleeps between two tries of another process's write lock.
POLL_MAX_SECONDS = 0.001


class WriteTurns:
    """A FIFO lock with a timeout; :meth:`waiting` says whether anyone queues.

    With ``lock_path`` (the engine of a database file) a turn also holds the
    :class:`ProcessWriteLock` of that path, from its acquiring to its release."""

    def __init__(self, lock_path: str | None = None) -> None:
        self._lock = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Event] = deque()
        self._process_lock = ProcessWriteLock.of(lock_path) if lock_path else None
        # Whether the current turn holds the process lock (one holder at a time).
        self._process_held = False

    def acquire(self, timeout: float = TURN_TIMEOUT) -> bool:
        deadline = time.monotonic() + timeout
        if not self._take_turn(timeout):
            return False
        if self._process_lock is not None:
            # Not got in time: the writer goes on to SQLite's own wait, as without it.
            self._process_held = self._process_lock.acquire(deadline)
        return True

    def _take_turn(self, timeout: float) -> bool:
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
        if self._process_held:
            # Before the turn passes on: the next writer of this process tries
            # for it again, as the writers of the other processes do.
            self._process_held = False
            self._process_lock.release()
        with self._lock:
            if self._waiters:
                self._waiters.popleft().set()  # the turn passes on; still held
            else:
                self._held = False

    def waiting(self) -> bool:
        return bool(self._waiters)


class ProcessWriteLock:
    """An exclusive lock between processes: a POSIX record lock on a file.

    A record lock belongs to the process, so there is one object per path and
    process (:meth:`of`), shared by every engine of that process on the same
    database; it is held while any of them holds it (those meet in SQLite's
    own wait, as two engines did before) and its file is never closed (closing
    any descriptor of a file drops every record lock the process has on it).
    The kernel drops the lock of a process that ends, however it ends. Where
    the file cannot be opened or locked (a read-only folder, a file system
    without locks), :meth:`acquire` succeeds without it: SQLite's own lock
    still keeps writers apart."""

    _by_path: dict[str, "ProcessWriteLock"] = {}
    _by_path_lock = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = path
        self._mutex = threading.Lock()
        self._count = 0
        self._fd: int | None = None
        self._usable = True

    @classmethod
    def of(cls, path: str) -> "ProcessWriteLock":
        path = os.path.abspath(path)
        with cls._by_path_lock:
            found = cls._by_path.get(path)
            if found is None:
                found = cls._by_path[path] = cls(path)
            return found

    def acquire(self, deadline: float) -> bool:
        """Take the lock, trying until ``deadline`` (``time.monotonic()``); whether taken."""
        delay = POLL_MAX_SECONDS / 16
        while True:
            with self._mutex:
                if self._count or self._try():
                    self._count += 1
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, POLL_MAX_SECONDS)

    def release(self) -> None:
        with self._mutex:
            self._count -= 1
            if not self._count and self._usable and self._fd is not None:
                fcntl.lockf(self._fd, fcntl.LOCK_UN)

    def _try(self) -> bool:
        if not self._usable:
            return True
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                return False  # another process holds it
            self._usable = False
            return True
