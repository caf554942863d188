"""Fetching referenced rows for serialising a page, once per (model, id).

The rows come back as read-only records (:mod:`polycrm.core.query.rows`),
not ORM objects. A page asks for what all its rows need first (:meth:`Loader.want`,
:meth:`Loader.prime_links_many`, :meth:`Loader.prime_children`) and then
loads it with one query per model (:meth:`Loader.load_wanted`); what was not
asked for ahead is loaded when it is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select

from polycrm.core import limits
from polycrm.core.models import Link, TenantScoped
from polycrm.core.query import rows, shared_rows
from polycrm.core.query.listing import Sort, every, order_by
from polycrm.core.query.paths import Criterion
from polycrm.core.workspace import Workspace


_MISSING = object()


class Loader:
    """Fetches referenced rows for serialising a page, once per (model, id)."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self._rows: dict[tuple[type, int], Any] = {}
        self._links: dict[tuple, list[int]] = {}
        self._children: dict[tuple, list[Any]] = {}
        self._wanted: dict[type, set[int]] = {}

    def clear(self) -> None:
        """Forget what was loaded (after a write changed it)."""
        self._rows.clear()
        self._links.clear()
        self._children.clear()
        self._wanted.clear()

    # -- rows by id -----------------------------------------------------------
    def want(self, model: type[TenantScoped], ids: Iterable[Any]) -> None:
        """Note rows to load with the next :meth:`load_wanted`."""
        wanted = self._wanted.setdefault(model, set())
        for i in ids:
            key = limits.id_in_range(i) if i else None
            if key and (model, key) not in self._rows:
                wanted.add(key)

    def load_wanted(self) -> None:
        """Load every wanted row: one query per model."""
        wanted, self._wanted = self._wanted, {}
        for model, ids in wanted.items():
            self._load(model, ids)

    def _load(self, model: type[TenantScoped], ids: Iterable[int]) -> None:
        ids = [i for i in ids if (model, i) not in self._rows]
        if not ids:
            return
        shared = shared_rows.for_workspace(self.ws) if model in shared_rows.SHARED_MODELS else None
        if shared is not None:
            missing = []
            for i in ids:
                rec = shared.get((model, i), _MISSING)
                if rec is _MISSING:
                    missing.append(i)
                else:
                    self._rows[(model, i)] = rec
            if not missing:
                return
            ids = missing
        found = rows.by_ids(self.ws, model, ids)
        for i in ids:
            self._rows[(model, i)] = found.get(i)
        if shared is not None:
            for i in ids:
                shared[(model, i)] = found.get(i)

    def get(self, model: type[TenantScoped], id_: Any) -> Any:
        """The record of a row (deleted or not), or None."""
        if not id_:
            return None
        key = limits.id_in_range(id_)
        if key is None:
            return None
        if (model, key) not in self._rows:
            self._load(model, [key])
        return self._rows[(model, key)]

    def many(self, model: type[TenantScoped], ids: Iterable[Any]) -> list[Any]:
        """The live records of ``ids``, in their order."""
        wanted = [key for key in (limits.id_in_range(i) if i else None for i in ids) if key]
        self._load(model, dict.fromkeys(wanted))
        found = [self._rows[(model, i)] for i in wanted]
        return [r for r in found if r is not None and not r.deleted]

    def rows_where(self, model: type[TenantScoped], criteria: Sequence[Criterion], sort: Sequence[Sort] = ()) -> list[Any]:
        return every(self.ws, model, criteria, sort=sort)

    # -- links ------------------------------------------------------------------
    def prime_links_many(self, me_kind: str, ids: Iterable[int], specs: Iterable[rows.LinkSpec]) -> None:
        """Load the links of several kinds of many records at once (one query)."""
        ids = [int(i) for i in ids]
        specs = [s for s in set(specs)
                 if any(self._link_key(s, me_kind, i) not in self._links for i in ids)]
        if not ids or not specs:
            return
        found = rows.links(self.ws, me_kind, ids, specs)
        for spec in specs:
            for i in ids:
                self._links[self._link_key(spec, me_kind, i)] = found.get((spec, i), [])

    def prime_links(self, kind: str, me_kind: str, ids: Iterable[int], other_kind: str, *, outgoing: bool) -> None:
        """Load the links of one kind of many records at once (one query for a whole page)."""
        self.prime_links_many(me_kind, ids, [(kind, outgoing, other_kind)])

    @staticmethod
    def _link_key(spec: rows.LinkSpec, me_kind: str, id_: int) -> tuple:
        kind, outgoing, other_kind = spec
        return (kind, me_kind, id_, other_kind, None) if outgoing else (kind, other_kind, None, me_kind, id_)

    def linked_ids(self, kind: str, *, source_kind: str | None = None, source_id: int | None = None,
                   target_kind: str | None = None, target_id: int | None = None) -> list[int]:
        """Ids at the open end of the links matching the given end."""
        key = (kind, source_kind, source_id, target_kind, target_id)
        if key not in self._links and (
            self.ws.no_referrers(source_kind, source_id, "link") if source_id is not None
            else self.ws.no_referrers(target_kind, target_id, "link")
        ):
            self._links[key] = []
        if key not in self._links:
            if source_id is not None and source_kind and target_kind:
                self.prime_links_many(source_kind, [source_id], [(kind, True, target_kind)])
            elif source_id is None and target_kind and source_kind:
                self.prime_links_many(target_kind, [target_id], [(kind, False, source_kind)])
            else:
                self._links[key] = self._any_other_end(kind, source_kind, source_id, target_kind, target_id)
        return self._links[key]

    def _any_other_end(self, kind: str, source_kind: str | None, source_id: int | None,
                       target_kind: str | None, target_id: int | None) -> list[int]:
        # Links whose open end may be of any kind: rare, read through the ORM.
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
        return [getattr(link, pick) for link in self.ws.scalars(stmt.order_by(Link.id))]

    # -- children -----------------------------------------------------------------
    def children(self, model: type[TenantScoped], fk: str, parent_id: int, sort: Sequence[Sort] = ()) -> list[Any]:
        """Live records whose ``fk`` points at ``parent_id``, in ``sort`` order."""
        key = (model, fk, parent_id, tuple(sort))
        if key not in self._children:
            self.prime_children(model, fk, [parent_id], sort)
        return self._children[key]

    def prime_children(self, model: type[TenantScoped], fk: str, parent_ids: Iterable[int],
                       sort: Sequence[Sort] = ()) -> None:
        sort = tuple(sort)
        parent_ids = [int(i) for i in parent_ids if (model, fk, int(i), sort) not in self._children]
        if not parent_ids:
            return
        parent = _parent_kind(model, fk)
        if len(parent_ids) == 1 and parent and self.ws.no_referrers(parent, parent_ids[0], model.__tablename__):
            self._children[(model, fk, parent_ids[0], sort)] = []
            return
        found: dict[int, list[Any]] = {i: [] for i in parent_ids}
        for rec in rows.children(self.ws, model, fk, parent_ids, sort, lambda: order_by(model, sort)):
            found[getattr(rec, fk)].append(rec)
            self._rows[(model, rec.id)] = rec
        for id_, kids in found.items():
            self._children[(model, fk, id_, sort)] = kids


def _parent_kind(model: type[TenantScoped], fk: str) -> str | None:
    """The table a foreign-key column of ``model`` points at."""
    column = model.__table__.c.get(fk)
    keys = list(column.foreign_keys) if column is not None else []
    return keys[0].column.table.name if len(keys) == 1 else None
