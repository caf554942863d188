"""Entities: how a group's records are stored, written and queried.

An :class:`Entity` names the core model, its view, one writer per body
field, one filter per query parameter, the ``sorting`` keys and the
fulltext paths; it saves through the core service of its kind and turns a
listing query into criteria for :mod:`polycrm.core.query` (:func:`run_page`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from polycrm.core import lookups
from polycrm.core import query as q
from polycrm.core.models import Lookup, TenantScoped
from polycrm.core.workspace import get_path
from polycrm.faces.cirrus.errors import ApiError, FieldError, invalid, not_found
from polycrm.faces.cirrus.mask import Mask, apply_mask
from polycrm.faces.cirrus.views import Ctx, View, prefetch, render
from polycrm.faces.cirrus.writers import Writer, Writes, to

if TYPE_CHECKING:
    from polycrm.faces.cirrus.handlers import Call


# -- filters ---------------------------------------------------------------
Filter = Callable[[Any], list[q.Criterion]]


def f_eq(path: str, cast: str = "str") -> Filter:
    return lambda v: [q.Criterion("eq", path, v, cast)]


def f_like(path: str) -> Filter:
    return lambda v: [q.Criterion("like", path, v)]


def f_ids(path: str, cast: str = "str") -> Filter:
    return lambda v: [q.Criterion("in", path, v, cast)]


def f_active(path: str = "active") -> Filter:
    return lambda v: [q.Criterion("active", path, v)]


def f_flag(path: str) -> Filter:
    return lambda v: [q.Criterion("flag", path, v)]


def f_from(path: str) -> Filter:
    return lambda v: [q.Criterion("from", path, v)]


def f_to(path: str) -> Filter:
    return lambda v: [q.Criterion("to", path, v)]


def f_day(path: str) -> Filter:
    return lambda v: [q.Criterion("from", path, v), q.Criterion("to", path, v)]


# -- entities --------------------------------------------------------------
@dataclass
class Entity:
    label: str
    model: type[TenantScoped]
    view: View
    writers: dict[str, Writer] = field(default_factory=dict)
    filters: dict[str, Filter] = field(default_factory=dict)
    sorts: dict[str, tuple[q.Sort, ...]] = field(default_factory=dict)
    # Comma-separated core paths ``fulltext`` searches.
    fulltext: str | None = None
    # Conditions every row of this entity meets (a lookup kind, a record kind).
    scope: tuple[q.Criterion, ...] = ()
    # Values every new row starts with.
    defaults: dict[str, Any] = field(default_factory=dict)
    # Core paths of the coordinates ``nearto`` measures from.
    near: tuple[str, str] | None = None
    # Checks or derived values before a write: (ctx, obj or None, body, writes).
    prepare: Callable[[Ctx, Any, dict, Writes], None] | None = None
    # Filters that read several query parameters at once, and the names they read.
    combined: Callable[[Mapping[str, Any]], list[q.Criterion]] | None = None
    combined_params: frozenset[str] = frozenset()
    # The core service every write of this entity goes through (a polycrm.core.service.Service,
    # or an errors.CirrusService around one); an entity without one is read-only.
    service: Any = None

    def find(self, ctx: Ctx, id_: Any) -> Any:
        """The live ORM object of ``id_`` (to write), or the entity's 404."""
        obj = ctx.ws.get(self.model, id_, include_deleted=False)
        if obj is None or not all(_meets(obj, c) for c in self.scope):
            raise not_found(self.label, id_)
        return obj

    def read(self, ctx: Ctx, id_: Any) -> Any:
        """The live row of ``id_`` as a read-only record (to render), or the entity's 404."""
        obj = ctx.loader.get(self.model, id_)
        if obj is None or obj.deleted or not all(_meets(obj, c) for c in self.scope):
            raise not_found(self.label, id_)
        return obj

    def apply(self, ctx: Ctx, obj: Any, body: Mapping[str, Any]) -> Writes:
        out = Writes()
        errors: dict[str, str] = {}
        status = 400
        for name, value in body.items():
            writer = self.writers.get(name)
            if writer is None:
                continue
            try:
                writer(ctx, obj, value, out)
            except FieldError as exc:
                errors[name] = exc.message
                status = max(status, exc.status)
        if not errors and self.prepare is not None:
            try:
                self.prepare(ctx, obj, dict(body), out)
            except FieldError as exc:
                errors["_"] = exc.message
                status = exc.status
        if errors:
            if status == 404:
                raise ApiError(404, next(iter(errors.values())), errors)
            raise invalid(errors)
        return out

    def save(self, ctx: Ctx, obj: Any, body: Mapping[str, Any]) -> Any:
        """Create (``obj`` None) or partially update a row from a validated body, through the core service."""
        if self.service is None:
            raise TypeError(f"{self.label}: an entity without a core service is read-only")
        writes = self.apply(ctx, obj, body)
        null_to_default(self.model, writes.changes)
        if obj is None:
            obj = self.service.create(ctx.ws, {**self.defaults, **writes.changes})
        else:
            self.service.update(ctx.ws, obj, writes.changes)
        for step in writes.after:
            step(ctx, obj)
        ctx.ws.flush()
        ctx.loader.clear()
        return obj


def null_to_default(model: type[TenantScoped], changes: dict[str, Any]) -> None:
    """A null sent for a column that cannot hold one stores the column's default
    (empty text, 0, false): null means "no value" on the wire."""
    columns = model.__table__.c
    for path, value in changes.items():
        if value is not None or "." in path or path not in columns or columns[path].nullable:
            continue
        default = columns[path].default
        if default is not None and default.is_scalar:
            changes[path] = default.arg
        else:
            python_type = columns[path].type.python_type
            changes[path] = {str: "", int: 0, bool: False}.get(python_type)


def _meets(obj: Any, crit: q.Criterion) -> bool:
    if crit.op == "eq":
        return get_path(obj, crit.path) == crit.value
    raise ValueError(f"scope criteria must be 'eq', not {crit.op!r}")


def lookup_entity(label: str, kind: str, view: View, **kw: Any) -> Entity:
    """An entity kept as a list of :class:`Lookup` rows of one kind, written
    through the core lookups service (kind, name and default-flag rules)."""
    writers = dict(kw.pop("writers", None) or {})
    if "name" in writers:
        # Every list entry has a name (the core lookups service refuses a blank
        # one), so the body schema says so: required on create, never blank.
        name = to(getattr(writers["name"], "path", "name"), required=True)
        name.create_required = True  # type: ignore[attr-defined]
        writers["name"] = name
    return Entity(label=label, model=Lookup, view=view, scope=(q.Criterion("eq", "kind", kind),),
                  defaults={"kind": kind, "sortorder": 0}, service=lookups.SERVICE, writers=writers, **kw)



# -- listing queries -------------------------------------------------------
PAGING = frozenset({"page", "per_page", "sorting"})
GENERIC_FILTERS = frozenset({"fulltext", "nearto", "distance", "dynamicfield_id", "dynamicfield_val", "followedby"})


def criteria(entity: Entity, query: Mapping[str, Any]) -> list[q.Criterion]:
    """The entity's scope plus one criterion per filter given in the query."""
    found = list(entity.scope)
    for name, value in query.items():
        if value is None or name in PAGING or name in GENERIC_FILTERS:
            continue
        flt = entity.filters.get(name)
        if flt is not None:
            found += flt(value)
    if entity.combined is not None:
        found += entity.combined(query)
    if query.get("fulltext") and entity.fulltext:
        found.append(q.Criterion("fulltext", entity.fulltext, query["fulltext"]))
    if query.get("followedby") is not None:
        found.append(q.Criterion("followed_by", "id", query["followedby"]))
    # The i-th id pairs with the i-th value; an id or value without a partner is ignored.
    pairs = list(zip(query.get("dynamicfield_id") or [], query.get("dynamicfield_val") or []))
    if pairs:
        found.append(q.Criterion("custom", "id", pairs))
    return found


def sort_keys(entity: Entity, value: str | None) -> list[q.Sort]:
    if not value:
        return []
    key, _, direction = value.rpartition("_")
    sorts = entity.sorts.get(key)
    if sorts is None:
        return []
    return [q.Sort(s.path, direction == "desc", s.mode) for s in sorts]


def near_point(query: Mapping[str, Any]) -> q.Near | None:
    if not query.get("nearto"):
        return None
    lat, lng = query["nearto"]
    km = query.get("distance")
    return q.Near(lat, lng, km if km is not None else DEFAULT_DISTANCE_KM)


DEFAULT_DISTANCE_KM = 10.0


def run_page(call: Call, entity: Entity, view: View | None = None) -> dict[str, Any]:
    query = call.query
    try:
        page = q.search(
            call.ws, entity.model, criteria(entity, query),
            sort=sort_keys(entity, query.get("sorting")),
            page=query.get("page") or 1, per_page=query.get("per_page") or 10,
            near_to=near_point(query) if entity.near else None,
            near_paths=entity.near or ("latitude", "longitude"),
            records=True,
        )
    except q.PageOutOfRange:
        raise invalid({"page": f"page {query.get('page')} is out of range"}) from None
    ctx = call.ctx
    ctx.distances = page.distances
    return render_page(ctx, view or entity.view, page)


def render_page(ctx: Ctx, view: View, page: q.Page) -> dict[str, Any]:
    """The page envelope; through the request's mask (ctx.mask) if it has one,
    rendering only the fields it selects (items not at all if it leaves them out)."""
    envelope: dict[str, Any] = {"page": page.page, "pages": page.pages, "per_page": page.per_page,
                                "total": page.total}
    mask = ctx.mask
    if mask is None or mask.selects_everything:
        prefetch(ctx, view, page.items)
        envelope["items"] = [render(ctx, view, obj) for obj in page.items]
        return envelope
    ctx.masked = True
    envelope["items"] = _Items(ctx, view, page.items)
    out: dict[str, Any] = {}
    for name, sub in mask.fields:
        if name == "items":
            out[name] = envelope[name].render(sub)
        elif name in envelope:
            out[name] = envelope[name] if sub is None else apply_mask(envelope[name], sub)
        else:
            out[name] = None
    if mask.wildcard:
        for name, value in envelope.items():
            if name not in out:
                out[name] = value.render(None) if name == "items" else value
    return out


@dataclass
class _Items:
    """A page's rows, rendered only if the mask asks for them."""

    ctx: Ctx
    view: View
    rows: list[Any]

    def render(self, mask: Mask | None) -> list[dict[str, Any] | None]:
        prefetch(self.ctx, self.view, self.rows, mask)
        return [render(self.ctx, self.view, obj, mask) for obj in self.rows]
