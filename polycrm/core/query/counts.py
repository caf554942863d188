"""List counts kept per tenant revision.

A page of 50 is read through an index in a fraction of a millisecond, but the
``total`` beside it counts every matching row: at 100,000 customers a count
costs more than the page it belongs to. A count is a function of the tenant's
data and the list's criteria, and the tenant's data is fixed while its
revision (:mod:`polycrm.core.revision`) stays the same, so a count computed at
revision R is kept under (tenant, R, table, deleted rows or not, criteria).

- Only read-only workspaces use it: a writing one may have changed the rows
  itself (its own writes are counted in the revision only when it commits).
- Per process and per :class:`~polycrm.store.engine.Database`, bounded
  (least recently used entries go first, :data:`CACHE_SIZE`). Correct across
  processes because the revision is read from the database by every
  transaction that counts (one primary-key read, once per transaction): a
  write by another process moves it, and the old entries are never asked for
  again.
- Criteria are keyed by their plain values; a criterion holding anything else
  (an SQL expression, an object) is counted every time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from polycrm.core import revision
from polycrm.core.models import TenantScoped
from polycrm.core.query.criteria import Has, LinkedTo
from polycrm.core.query.paths import Criterion

CACHE_SIZE = 4096

_PLAIN = (str, int, float, bool, Decimal, dt.date, dt.datetime, dt.time, type(None))
_VALUE_CLASSES = frozenset({Criterion, Has, LinkedTo})


class _Unkeyable(Exception):
    pass


class CountCache:
    """A bounded map of counts, least recently used first out; thread-safe."""

    def __init__(self, size: int = CACHE_SIZE):
        self.size = size
        self._entries: OrderedDict[tuple, int] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> int | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple, count: int) -> None:
        with self._lock:
            self._entries[key] = count
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


_CACHES: weakref.WeakKeyDictionary[Any, CountCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def cache_of(db: Any) -> CountCache:
    """The count cache of one database (a process may open several)."""
    found = _CACHES.get(db)
    if found is None:
        with _CACHES_LOCK:
            found = _CACHES.get(db)
            if found is None:
                found = _CACHES[db] = CountCache()
    return found


def count(ws: Any, table: str, criteria: Sequence[Criterion], include_deleted: bool,
          counter: Callable[[], int]) -> int:
    """``counter()``, or what it gave for the same list at the tenant's current revision."""
    if ws.session.info.get("write", True):
        return counter()
    try:
        wanted = criteria_key(criteria)
    except _Unkeyable:
        return counter()
    # The revision first, then the rows (core/revision.py: never keep an older count under a newer revision).
    key = (ws.tenant_id, revision.current(ws), table, include_deleted, wanted)
    cache = cache_of(ws.db)
    found = cache.get(key)
    if found is None:
        found = counter()
        cache.put(key, found)
    return found


def criteria_key(criteria: Sequence[Criterion]) -> tuple:
    """The criteria as a hashable value, the same for the same conditions in any order."""
    return tuple(sorted((_plain(c) for c in criteria), key=repr))


def _plain(value: Any) -> Any:
    if isinstance(value, _PLAIN):
        # The type too: 1, 1.0 and True are equal keys but may not be equal conditions.
        return (type(value).__name__, value)
    if type(value) in _VALUE_CLASSES:  # dataclasses of plain values: Criterion, Has, LinkedTo
        return (type(value).__name__, tuple(_plain(getattr(value, f.name)) for f in dataclasses.fields(value)))
    if isinstance(value, type) and issubclass(value, TenantScoped):  # Has.model
        return ("model", value.__tablename__)
    if isinstance(value, (list, tuple)):
        return ("seq", tuple(_plain(v) for v in value))
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted((_plain(v) for v in value), key=repr)))
    if isinstance(value, dict):
        return ("map", tuple(sorted(((_plain(k), _plain(v)) for k, v in value.items()), key=repr)))
    raise _Unkeyable(type(value).__name__)
