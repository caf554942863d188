"""How long one writing transaction may keep the write lock while others wait.

Every writing transaction on SQLite takes a turn of the engine's FIFO queue
before ``BEGIN IMMEDIATE`` (polycrm/store/write_turns.py), so a long
Microbizz batch that gives up the lock (:meth:`Workspace.share_write_lock
<polycrm.core.workspace.Workspace.share_write_lock>`) goes to the back,
behind the writers that were waiting.

On PostgreSQL there is no database-wide lock; a batch holds the row and
advisory (numbering) locks it took until it commits, so sharing means
committing every :data:`WRITE_SLICE` seconds.
"""

from __future__ import annotations

import os

from polycrm.store.engine import Database
from polycrm.store.write_turns import WriteTurns

__all__ = ["WRITE_SLICE", "WriteTurns", "turns_of"]

# The longest a batch keeps the write lock while others may be waiting for it
# (seconds; POLYCRM_WRITE_SLICE_MS, default 50).
WRITE_SLICE = float(os.environ.get("POLYCRM_WRITE_SLICE_MS") or 50) / 1000


def turns_of(db: Database) -> WriteTurns | None:
    """The write turns of a database's engine (None on PostgreSQL)."""
    return db.write_turns
