"""The tenant's change revision: one more for every committed write of its data.

``tenant.revision`` moves in the transaction that writes, so anything computed
from a tenant's data at revision R (a cached list count, a Cirrus ETag) is
current for exactly as long as the stored revision is R, whichever process or
server made the write: a reader needs no message from the writer, only one
primary-key read of the revision.

Who moves it:

- a workspace's session, when it commits a transaction that wrote (the
  ``before_commit`` listener in :mod:`polycrm.core.workspace`, which knows what
  the session flushed or executed);
- writes that bypass the ORM call :func:`bump` themselves (``polycrm load``'s
  batches, snapshot restore and reset).

A rolled-back transaction takes its bump with it. On SQLite a writing
transaction already holds the database's write lock, so the bump costs one
statement and no waiting. On PostgreSQL the bump locks the tenant row
(``FOR NO KEY UPDATE``, which the foreign-key checks of inserted rows,
``FOR KEY SHARE``, do not wait for) from the bump to the commit; the bump is
the transaction's last statement, so two writers of one tenant wait for each
other only for the other's COMMIT, not for its work (docs/architecture.md).

Read order matters on PostgreSQL, where each statement of a transaction sees
what was committed when it began: a reader reads the revision *before* the
data it derives from it, so what it keeps under revision R is never older
than R (at worst newer, which the next revision replaces).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from polycrm.core.models import Tenant
from polycrm.store import prebuilt

# session.info key: the revision a read-only transaction saw (read once per transaction).
SEEN = "polycrm_revision"

_READ = select(Tenant.revision).where(Tenant.id == bindparam("tenant_id"))
_BUMP = update(Tenant).where(Tenant.id == bindparam("tenant_id")).values(revision=Tenant.revision + 1)


def bump(conn: Any, tenant_id: int, **columns: Any) -> None:
    """Count one more write of the tenant, in ``conn``'s transaction; ``columns``:
    other values of the tenant row to set in the same statement (a restore's
    settings), so the row is written once."""
    if columns:
        conn.execute(_BUMP.values(**columns), {"tenant_id": tenant_id})
    else:
        conn.execute(_BUMP, {"tenant_id": tenant_id})


def read(conn: Any, tenant_id: int) -> int:
    """The tenant's revision as ``conn`` sees it now."""
    for row in prebuilt.run(conn, ("revision",), _READ, {"tenant_id": tenant_id}):
        return row[0] or 0
    return 0


def stored(db: Any, tenant_id: int) -> int:
    """The tenant's committed revision, outside any workspace (a face checking
    whether what it kept under a revision is still current)."""
    with db.engine.connect() as conn:
        return read(conn, tenant_id)


def current(ws: Any) -> int:
    """The revision of the workspace's tenant.

    A read-only workspace reads it once, with its first call, and keeps it for
    its transaction (call this before reading the data that depends on it, see
    the module docstring). A writing workspace reads it each time: its own
    writes are counted only when it commits.
    """
    session: Session = ws.session
    if session.info.get("write", True):
        return read(session.connection(), ws.tenant_id)
    seen = session.info.get(SEEN)
    if seen is None:
        seen = session.info[SEEN] = read(session.connection(), ws.tenant_id)
    return seen
