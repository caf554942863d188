"""Next free record numbers (customer numbers, ...)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from polycrm.core.workspace import Workspace


def next_free(ws: Workspace, column: Any, *, start: int = 1) -> str:
    """One more than the highest all-digit value of a string number column.

    Non-numeric numbers (``"C-17"``) are left out of the count; they cannot
    collide with a plain number.
    """
    highest = start - 1
    for value in ws.scalars(select(column).where(column.is_not(None)).distinct()):
        text = str(value).strip()
        if text.isdigit():
            highest = max(highest, int(text))
    return str(highest + 1)
