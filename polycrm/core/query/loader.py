"""Fetching referenced rows for serialising a page, once per (model, id)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select

from polycrm.core.models import Link, TenantScoped
from polycrm.core.query.listing import Sort, every
from polycrm.core.query.paths import Criterion
from polycrm.core.workspace import Workspace


class Loader:
    """Fetches referenced rows for serialising a page, once per (model, id)."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self._rows: dict[tuple[type, int], Any] = {}
        self._links: dict[tuple, list[int]] = {}
        self._children: dict[tuple, list[Any]] = {}

    def clear(self) -> None:
        """Forget what was loaded (after a write changed it)."""
        self._rows.clear()
        self._links.clear()
        self._children.clear()

    def get(self, model: type[TenantScoped], id_: int | None) -> Any:
        if not id_:
            return None
        key = (model, int(id_))
        if key not in self._rows:
            self._rows[key] = self.ws.get(model, id_)
        return self._rows[key]

    def many(self, model: type[TenantScoped], ids: Iterable[int]) -> list[Any]:
        wanted = [int(i) for i in ids if i]
        missing = [i for i in dict.fromkeys(wanted) if (model, i) not in self._rows]
        if missing:
            found = {r.id: r for r in self.ws.scalars(select(model).where(model.id.in_(missing)))}
            for i in missing:
                self._rows[(model, i)] = found.get(i)
        rows = [self._rows[(model, i)] for i in wanted]
        return [r for r in rows if r is not None and not r.deleted]

    def rows_where(self, model: type[TenantScoped], criteria: Sequence[Criterion], sort: Sequence[Sort] = ()) -> list[Any]:
        return every(self.ws, model, criteria, sort=sort)

    def prime_links(self, kind: str, me_kind: str, ids: Iterable[int], other_kind: str, *, outgoing: bool) -> None:
        """Load the links of many records at once (one query for a whole page)."""
        ids = [int(i) for i in ids]
        if not ids:
            return
        stmt = select(Link).where(Link.kind == kind, Link.deleted.is_(False))
        if outgoing:
            stmt = stmt.where(Link.source_kind == me_kind, Link.source_id.in_(ids), Link.target_kind == other_kind)
        else:
            stmt = stmt.where(Link.target_kind == me_kind, Link.target_id.in_(ids), Link.source_kind == other_kind)
        found: dict[int, list[int]] = {i: [] for i in ids}
        for row in self.ws.scalars(stmt.order_by(Link.id)):
            if outgoing:
                found[row.source_id].append(row.target_id)
            else:
                found[row.target_id].append(row.source_id)
        for id_, others in found.items():
            key = (kind, me_kind, id_, other_kind, None) if outgoing else (kind, other_kind, None, me_kind, id_)
            self._links[key] = others

    def children(self, model: type[TenantScoped], fk: str, parent_id: int, sort: Sequence[Sort] = ()) -> list[Any]:
        """Live rows whose ``fk`` points at ``parent_id``, in ``sort`` order."""
        key = (model, fk, parent_id, tuple(sort))
        if key not in self._children:
            self.prime_children(model, fk, [parent_id], sort)
        return self._children[key]

    def prime_children(self, model: type[TenantScoped], fk: str, parent_ids: Iterable[int],
                       sort: Sequence[Sort] = ()) -> None:
        parent_ids = [int(i) for i in parent_ids]
        if not parent_ids:
            return
        rows = every(self.ws, model, [Criterion("in", fk, parent_ids)], sort=sort)
        found: dict[int, list[Any]] = {i: [] for i in parent_ids}
        for row in rows:
            found[getattr(row, fk)].append(row)
            self._rows[(model, row.id)] = row
        for id_, children in found.items():
            self._children[(model, fk, id_, tuple(sort))] = children

    def linked_ids(self, kind: str, *, source_kind: str | None = None, source_id: int | None = None,
                   target_kind: str | None = None, target_id: int | None = None) -> list[int]:
        """Ids at the open end of the links matching the given end."""
        key = (kind, source_kind, source_id, target_kind, target_id)
        if key not in self._links:
            stmt = select(Link).where(Link.kind == kind, Link.deleted.is_(False))
            if source_id is not None:
                stmt = stmt.where(Link.source_kind == source_kind, Link.source_id == source_id)
                if target_kind:
                    stmt = stmt.where(Link.target_kind == target_kind)
                pick = "target_id"
            else:
                stmt = stmt.where(Link.target_kind == target_kind, Link.target_id == target_id)
                if source_kind:
                    stmt = stmt.where(Link.source_kind == source_kind)
                pick = "source_id"
            self._links[key] = [getattr(l, pick) for l in self.ws.scalars(stmt.order_by(Link.id))]
        return self._links[key]
