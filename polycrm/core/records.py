"""Records of kinds that only one API knows in depth (procedures, subscriptions, ...)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from polycrm.core.models import Record
from polycrm.core.workspace import Workspace


def feed_filter(kind: str, *, skip_deleted: bool = False) -> list[Any]:
    where: list[Any] = [Record.kind == kind]
    if skip_deleted:
        where.append(Record.deleted.is_(False))
    return where


def of_customer(ws: Workspace, kind: str, customer_id: int) -> list[Record]:
    stmt = select(Record).where(Record.kind == kind, Record.customer_id == customer_id, Record.deleted.is_(False))
    return ws.scalars(stmt.order_by(Record.id))
