"""Monthly budgets of an account or a user.

A budget is a :class:`Record` of kind ``account_budget`` (its account in
``customer_id``) or ``user_budget`` (its user in ``user_id``); ``number`` and
``name`` are the period ``YYYY-MM``, and ``extra`` holds ``year``, ``month``
and the amounts (``budget``; a user's also ``pipeline``). There is at most
one live budget per owner and month: saving a month again updates it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from polycrm.core import query as q
from polycrm.core.models import Record
from polycrm.core.workspace import Workspace

ACCOUNT, USER = "account_budget", "user_budget"
OWNER_PATH = {ACCOUNT: "customer_id", USER: "user_id"}


def period(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def find(ws: Workspace, kind: str, owner_id: int, year: int, month: int) -> Record | None:
    rows = q.every(ws, Record, [q.Criterion("eq", "kind", kind), q.Criterion("eq", OWNER_PATH[kind], owner_id),
                                q.Criterion("eq", "number", period(year, month))])
    return rows[0] if rows else None


def save(ws: Workspace, kind: str, owner_id: int, year: int, month: int, amounts: Mapping[str, Any],
         *, defaults: Mapping[str, Any]) -> Record:
    """Set a month's amounts (those given; a new budget starts from ``defaults``)."""
    values = {"extra.year": year, "extra.month": month, **{f"extra.{k}": v for k, v in amounts.items()}}
    row = find(ws, kind, owner_id, year, month)
    if row is not None:
        ws.update(row, values)
        return row
    values = {**{f"extra.{k}": v for k, v in defaults.items()}, **values}
    label = period(year, month)
    return ws.create(Record, {"kind": kind, OWNER_PATH[kind]: owner_id, "number": label, "name": label, **values})


def remove(ws: Workspace, row: Record) -> None:
    ws.update(row, {"deleted": True})
