"""Records of a tenant's small reference tables, shared by the read
transactions that see the same change revision.

Nearly every answer names a lookup (a customer's type, a group, a category),
a user (the responsible seller) or a profile, and a read of one record used
to look each of them up again. Their records are the same for every reader
of the tenant at revision R (:mod:`polycrm.core.revision`: any committed
write moves R), so a read-only transaction takes them from here and leaves
what it had to load for the next one. A process keeps them per database for the
newest revision it has seen of each tenant; a write anywhere (any process, any
server) moves the revision, and the next reader starts afresh. Records are
read-only named tuples, so sharing them across threads is safe.

Why a record kept under R is never older than R: a reader reads the
revision before any data (revision.current), so what it loads afterwards is
the state of R or newer; a reader that sees a newer revision never uses the
records kept under R.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from polycrm.core import revision
from polycrm.core.models import Lookup, Profile, User

SHARED_MODELS = frozenset({Lookup, User, Profile})
# Bounds: the tenants a process keeps records for, and the records per tenant.
MAX_TENANTS = 256
MAX_RECORDS = 10_000

# Per database (a process may serve several: the test suite's SQLite and
# PostgreSQL, whose tenant ids and revisions overlap), then per tenant.
_by_database: "weakref.WeakKeyDictionary[Any, dict[int, tuple[int, dict[tuple[type, int], Any]]]]" = (
    weakref.WeakKeyDictionary())
_lock = threading.Lock()


def for_workspace(ws: Any) -> dict[tuple[type, int], Any] | None:
    """The shared records of the workspace's tenant at the revision it reads,
    or None for a writing workspace (its own writes are not committed yet)."""
    if ws.tenant_id is None or ws.session.info.get("write", True):
        return None
    seen = revision.current(ws)
    _by_tenant = _by_database.get(ws.db)
    if _by_tenant is None:
        with _lock:
            _by_tenant = _by_database.setdefault(ws.db, {})
    entry = _by_tenant.get(ws.tenant_id)
    if entry is not None and entry[0] == seen:
        return entry[1] if len(entry[1]) < MAX_RECORDS else None
    with _lock:
        entry = _by_tenant.get(ws.tenant_id)
        if entry is None or entry[0] < seen:
            if len(_by_tenant) >= MAX_TENANTS:
                _by_tenant.clear()
            entry = _by_tenant[ws.tenant_id] = (seen, {})
    # A reader still at an older revision than the newest kept loads for itself.
    return entry[1] if entry[0] == seen and len(entry[1]) < MAX_RECORDS else None


def clear() -> None:
    """Forget every shared record (tests)."""
    with _lock:
        _by_database.clear()
