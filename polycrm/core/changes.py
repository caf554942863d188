"""The change feed: records of a kind changed since a moment.

Every tenant-scoped row carries ``changed_at`` (stamped on each write) and a
monotonic ``id``. A sync walks the rows changed since its start point in id
order, resuming after the last id it returned. Walking by id rather than by
change time is what makes a sync return each record exactly once while other
clients write: a record changed again during the sync does not move, so it
is neither skipped nor sent twice; its newer change is picked up by the next
sync that starts at the time the previous one started.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select

from polycrm.core.models import TenantScoped
from polycrm.core.query import rows
from polycrm.core.workspace import Workspace, columns


def changed_since(
    ws: Workspace,
    model: type[TenantScoped],
    since: dt.datetime | None,
    *,
    after_id: int = 0,
    limit: int | None = None,
    where: Sequence[Any] = (),
) -> list[Mapping[str, Any]]:
    """One page of the feed as plain rows, in id order."""
    stmt = select(*columns(model)).where(model.id > after_id, *where).order_by(model.id)
    if since is not None:
        stmt = stmt.where(model.changed_at >= since)
    if limit is not None:
        stmt = stmt.limit(limit)
    return ws.rows(stmt)


def changed_rows(
    ws: Workspace,
    model: type[TenantScoped],
    names: Sequence[str],
    since: dt.datetime | None,
    *,
    after_id: int = 0,
    limit: int | None = None,
    where: Sequence[Any] = (),
) -> list[Sequence[Any]]:
    """One page of the feed as tuples of the named columns, in id order: the
    same page as :func:`changed_since`, for a sync that renders thousands of
    rows (:func:`polycrm.core.query.rows.tuples`). Keyset paging on the ``ix_*_sync``
    index (tenant, id, changed_at), so a page costs the same at any depth."""
    conditions = [model.id > after_id, *where]
    if since is not None:
        conditions.append(model.changed_at >= since)
    return rows.tuples(ws, model, names, conditions, order_by=(model.id,), limit=limit)
