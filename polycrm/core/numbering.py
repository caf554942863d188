"""Next free record numbers (customer numbers, ...).

Assigning a number reads the numbers in use and then writes a new row, so
two transactions doing it at once could both pick the same one. :func:`claim`
serialises them per tenant and column: on SQLite a writing workspace already
holds the database's write lock (``BEGIN IMMEDIATE``); on PostgreSQL it takes
a transaction-scoped advisory lock, and since PostgreSQL reads committed data
statement by statement, the second transaction then sees the first one's row.
"""

from __future__ import annotations

import zlib
from typing import Any

from sqlalchemy import Integer, cast, func, literal, select

from polycrm.core.errors import Conflict
from polycrm.core.workspace import Workspace


def next_free(ws: Workspace, column: Any, *, start: int = 1) -> str:
    """One more than the highest all-digit value of a string number column.

    Non-numeric numbers (``"C-17"``) are left out of the count; they cannot
    collide with a plain number. Use :func:`claim` to assign one.
    """
    highest = start - 1
    for value in ws.scalars(select(column).where(column.is_not(None)).distinct()):
        text_ = str(value).strip()
        if text_.isdigit():
            highest = max(highest, int(text_))
    return str(highest + 1)


def lock(ws: Workspace, column: Any) -> None:
    """Hold the tenant's lock on assigning numbers of this column until the transaction ends."""
    if not ws.session.info.get("write", True):
        raise RuntimeError("numbers are assigned in a writing workspace")
    if ws.db.is_sqlite:
        return  # the writing workspace began with BEGIN IMMEDIATE: it is the only writer
    # A select construct, not text(): the workspace counts a statement it
    # cannot tell is a read as a write of any table, and the reply to a create
    # would then read back links and children that cannot exist (no_referrers).
    ws.session.execute(select(func.pg_advisory_xact_lock(
        cast(literal(_lock_key(column)), Integer), cast(literal(ws.tenant_id), Integer))))


def claim(ws: Workspace, column: Any, wanted: Any = None, *, field: str = "number") -> Any:
    """The number a new row gets, with the lock held (see the module docstring).

    ``wanted`` is kept if no live row has it (else :class:`Conflict`, naming
    ``field``); without one, the next free number is assigned.
    """
    lock(ws, column)
    if wanted is None:
        return next_free(ws, column)
    model = column.class_
    if ws.first(select(model.id).where(column == str(wanted), model.deleted.is_(False))) is not None:
        raise Conflict(f"{field} {wanted} is already used", field=field)
    return wanted


def _lock_key(column: Any) -> int:
    """A stable signed 32-bit key for one numbered column."""
    key = zlib.crc32(f"polycrm.numbering:{column.class_.__tablename__}.{column.key}".encode())
    return key - 2**32 if key >= 2**31 else key
