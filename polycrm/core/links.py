"""Relations kept as :class:`~polycrm.core.models.Link` rows.

Conventions (every face uses the same ones, so a relation made through one
API is seen by the others); kinds are the core table names
(:func:`polycrm.core.query.entity_kind`):

* ``follow``: source = the following user (``app_user``), target = the record.
* ``tag``: source = the tagged record, target = a ``lookup`` of kind ``tag``.
* ``account_group``: source = the ``customer``, target = a ``lookup`` of kind ``account_group``.
* ``file``: source = the ``document``, target = the record it is attached to.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from polycrm.core.models import Link, TenantScoped
from polycrm.core.query import entity_kind
from polycrm.core.workspace import Workspace

FOLLOW = "follow"
TAG = "tag"
ACCOUNT_GROUP = "account_group"
FILE = "file"
USER = "app_user"
LOOKUP = "lookup"


def _find(ws: Workspace, kind: str, source_kind: str, source_id: int, target_kind: str, target_id: int) -> Link | None:
    return ws.first(
        select(Link).where(
            Link.kind == kind, Link.source_kind == source_kind, Link.source_id == source_id,
            Link.target_kind == target_kind, Link.target_id == target_id,
        )
    )


def link(ws: Workspace, kind: str, source_kind: str, source_id: int, target_kind: str, target_id: int,
         value: str | None = None) -> bool:
    """Make sure the link exists (reviving a deleted one); True if it changed."""
    found = _find(ws, kind, source_kind, source_id, target_kind, target_id)
    if found is None:
        ws.create(Link, kind=kind, source_kind=source_kind, source_id=source_id,
                  target_kind=target_kind, target_id=target_id, value=value)
        return True
    return ws.update(found, {"deleted": False, "value": value if value is not None else found.value})


def unlink(ws: Workspace, kind: str, source_kind: str, source_id: int, target_kind: str, target_id: int) -> bool:
    """Mark the link deleted (kept for the change feed); True if it existed."""
    found = _find(ws, kind, source_kind, source_id, target_kind, target_id)
    if found is None or found.deleted:
        return False
    return ws.update(found, {"deleted": True})


def targets(ws: Workspace, kind: str, source_kind: str, source_id: int, target_kind: str | None = None) -> list[int]:
    stmt = select(Link.target_id).where(
        Link.kind == kind, Link.source_kind == source_kind, Link.source_id == source_id, Link.deleted.is_(False)
    )
    if target_kind:
        stmt = stmt.where(Link.target_kind == target_kind)
    return list(ws.session.scalars(stmt.order_by(Link.id)))


def set_targets(ws: Workspace, kind: str, source_kind: str, source_id: int, target_kind: str,
                target_ids: Iterable[int]) -> bool:
    """Replace the set of targets one source links to."""
    wanted = list(dict.fromkeys(int(t) for t in target_ids))
    current = set(targets(ws, kind, source_kind, source_id, target_kind))
    changed = False
    for t in current - set(wanted):
        changed |= unlink(ws, kind, source_kind, source_id, target_kind, t)
    for t in wanted:
        if t not in current:
            changed |= link(ws, kind, source_kind, source_id, target_kind, t)
    return changed


def follow(ws: Workspace, user_id: int, record: TenantScoped) -> bool:
    return link(ws, FOLLOW, USER, user_id, entity_kind(type(record)), record.id)


def unfollow(ws: Workspace, user_id: int, record: TenantScoped) -> bool:
    return unlink(ws, FOLLOW, USER, user_id, entity_kind(type(record)), record.id)


def retarget(ws: Workspace, target_kind: str, old_id: int, new_id: int) -> int:
    """Point every live link at ``old_id`` to ``new_id`` instead (merges);
    links the new record already has are dropped. Returns how many moved."""
    moved = 0
    rows = ws.scalars(select(Link).where(Link.target_kind == target_kind, Link.target_id == old_id, Link.deleted.is_(False)))
    for row in rows:
        if _find(ws, row.kind, row.source_kind, row.source_id, target_kind, new_id) is None:
            ws.update(row, {"target_id": new_id})
            moved += 1
        else:
            link(ws, row.kind, row.source_kind, row.source_id, target_kind, new_id)
            ws.update(row, {"deleted": True})
    rows = ws.scalars(select(Link).where(Link.source_kind == target_kind, Link.source_id == old_id, Link.deleted.is_(False)))
    for row in rows:
        if _find(ws, row.kind, target_kind, new_id, row.target_kind, row.target_id) is None:
            ws.update(row, {"source_id": new_id})
            moved += 1
        else:
            link(ws, row.kind, target_kind, new_id, row.target_kind, row.target_id)
            ws.update(row, {"deleted": True})
    return moved
