"""The generic machinery every Cirrus group is described with.

A group module describes its entities as data:

* a :class:`View` renders a core row as one wire model: one *reader* per
  field of the model (``attr("name")``, ``ref(User, "user_id", USER_REF)``,
  ``linked(...)``). The renderer coerces every value to the field's wire
  type, so output always has the documented shape.
* an :class:`Entity` says how the group's records are stored and queried:
  the core model, the view, one *writer* per request-body field, one
  *filter* per query parameter, the ``sorting`` keys, the fulltext paths.
* a table ``{operation number: Binding}`` binds operations of the
  operation table to the generic handlers (:func:`paged`, :func:`item`,
  :func:`creating`, :func:`updating`, :func:`listing`, :func:`following`)
  or to a group's own small handler (:func:`custom`).

Handlers only call core services (the workspace, :mod:`polycrm.core.query`,
:mod:`polycrm.core.links`); no SQL is written here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from polycrm.core import links, lookups
from polycrm.core import query as q
from polycrm.core.models import Lookup, TenantScoped, User
from polycrm.core.workspace import Workspace, get_path
from polycrm.faces.cirrus import wire
from polycrm.faces.cirrus.models import MODELS


# -- errors ----------------------------------------------------------------
class ApiError(Exception):
    """An error response in Flask-RESTX form."""

    def __init__(self, status: int, message: str, errors: Mapping[str, str] | None = None,
                 headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        if self.errors:
            return {"errors": self.errors, "message": self.message}
        return {"message": self.message}


VALIDATION_FAILED = "Input payload validation failed"


def invalid(errors: Mapping[str, str]) -> ApiError:
    return ApiError(400, VALIDATION_FAILED, errors)


def not_found(label: str, id_: Any) -> ApiError:
    return ApiError(404, f"{label} {id_} not found")


class FieldError(Exception):
    """A body field that is well formed but unusable (e.g. an unknown reference)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


# -- context ---------------------------------------------------------------
@dataclass
class Ctx:
    """What readers and writers see during one request."""

    ws: Workspace
    loader: q.Loader
    user_id: int | None
    # id -> km for results of a ``nearto`` query.
    distances: dict[int, float] = field(default_factory=dict)


Reader = Callable[[Ctx, Any], Any]


@dataclass
class View:
    """How one wire model is read from one kind of core row."""

    schema: str
    readers: dict[str, Reader]

    def __post_init__(self) -> None:
        missing = set(MODELS[self.schema]) - set(self.readers)
        extra = set(self.readers) - set(MODELS[self.schema])
        if missing or extra:
            raise ValueError(f"view of {self.schema}: missing readers {sorted(missing)}, unknown {sorted(extra)}")


def render(ctx: Ctx, view: View, obj: Any) -> dict[str, Any] | None:
    if obj is None:
        return None
    out: dict[str, Any] = {}
    for name, t in MODELS[view.schema].items():
        value = view.readers[name](ctx, obj)
        out[name] = wire.coerce(t, value) if t in SCALARS else value
    return out


SCALARS = {"int", "str", "text", "num", "bool", "date", "datetime", "coord", "any"}


# -- readers ---------------------------------------------------------------
def attr(path: str) -> Reader:
    return lambda ctx, obj: get_path(obj, path)


def const(value: Any) -> Reader:
    return lambda ctx, obj: value


def ref(model: type[TenantScoped], path: str, view: View) -> Reader:
    """A referenced row, expanded."""

    def read(ctx: Ctx, obj: Any) -> Any:
        target = ctx.loader.get(model, get_path(obj, path))
        return render(ctx, view, target) if target is not None and not target.deleted else None

    def prefetch(ctx: Ctx, objs: Sequence[Any]) -> None:
        ids = [v for v in (get_path(o, path) for o in objs) if isinstance(v, int)]
        ctx.loader.many(model, ids)

    read.prefetch = prefetch  # type: ignore[attr-defined]
    return read


def prefetch(ctx: Ctx, view: View, objs: Sequence[Any]) -> None:
    """Load what the view's readers will ask for, for many rows at once."""
    if len(objs) < 2:
        return
    for reader in view.readers.values():
        fetch = getattr(reader, "prefetch", None)
        if fetch is not None:
            fetch(ctx, objs)


def nested(view: View) -> Reader:
    """The same row rendered as a nested model (``coordinates``, ``photo``)."""
    return lambda ctx, obj: render(ctx, view, obj)


def linked(model: type[TenantScoped], view: View, kind: str, *, outgoing: bool, other_kind: str) -> Reader:
    """Rows at the other end of links of ``kind``, expanded.

    ``outgoing``: the row being read is the link's source (tags, groups);
    otherwise it is the target (followers, files).
    """

    def read(ctx: Ctx, obj: Any) -> list:
        me = q.entity_kind(type(obj))
        if outgoing:
            ids = ctx.loader.linked_ids(kind, source_kind=me, source_id=obj.id, target_kind=other_kind)
        else:
            ids = ctx.loader.linked_ids(kind, target_kind=me, target_id=obj.id, source_kind=other_kind)
        return [render(ctx, view, row) for row in ctx.loader.many(model, ids)]

    def prefetch(ctx: Ctx, objs: Sequence[Any]) -> None:
        me = q.entity_kind(type(objs[0]))
        ctx.loader.prime_links(kind, me, [o.id for o in objs], other_kind, outgoing=outgoing)
        ids = []
        for o in objs:
            if outgoing:
                ids += ctx.loader.linked_ids(kind, source_kind=me, source_id=o.id, target_kind=other_kind)
            else:
                ids += ctx.loader.linked_ids(kind, target_kind=me, target_id=o.id, source_kind=other_kind)
        ctx.loader.many(model, ids)

    read.prefetch = prefetch  # type: ignore[attr-defined]
    return read


def children(model: type[TenantScoped], fk: str, view: View, sort: Sequence[q.Sort] = ()) -> Reader:
    """Rows pointing at this one through ``fk`` (an account's contacts)."""

    def read(ctx: Ctx, obj: Any) -> list:
        return [render(ctx, view, row) for row in ctx.loader.children(model, fk, obj.id, sort)]

    def prefetch(ctx: Ctx, objs: Sequence[Any]) -> None:
        ctx.loader.prime_children(model, fk, [o.id for o in objs], sort)

    read.prefetch = prefetch  # type: ignore[attr-defined]
    return read


def as_int(reader: Reader) -> Reader:
    return lambda ctx, obj: None if (v := reader(ctx, obj)) is None else int(v)


# Views shared by every group.
ID_NAME = View("IdName", {"id": attr("id"), "name": attr("name")})
USER_REF = View("UserRef", {n: attr(n) for n in ("id", "name", "surname", "title", "email", "phone", "cellphone")})
TAG_REF = View("TagRef", {"id": attr("id"), "name": attr("name"), "type": lambda ctx, obj: (obj.extra or {}).get("type", obj.code)})
FILE_REF = View("IdName", {"id": attr("id"), "name": lambda ctx, obj: obj.title or obj.filename})


# -- writers ---------------------------------------------------------------
@dataclass
class Writes:
    """What applying a body produces: core changes now, link updates after save."""

    changes: dict[str, Any] = field(default_factory=dict)
    after: list[Callable[[Ctx, Any], None]] = field(default_factory=list)


Writer = Callable[[Ctx, Any, Any, Writes], None]


def to(path: str, convert: Callable[[Any], Any] | None = None, *, required: bool = False) -> Writer:
    """Store the value at a core path, optionally converted; ``required``
    refuses an empty value (the doc's "This field can not be empty")."""

    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        if required and (value is None or (isinstance(value, str) and not value.strip())):
            raise FieldError("This field can not be empty")
        out.changes[path] = convert(value) if convert and value is not None else value

    write.path = path  # type: ignore[attr-defined]
    write.required = required  # type: ignore[attr-defined]
    return write


def to_bool(path: str) -> Writer:
    return to(path, lambda v: bool(int(v)))


def to_decimal(path: str) -> Writer:
    return to(path, lambda v: Decimal(str(v)))


def to_lookup(path: str, kind: str, label: str) -> Writer:
    """A lookup id (0/None clear it); an unknown id is a 404 naming the field."""

    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        if not value:
            out.changes[path] = None
            return
        if lookups.get(ctx.ws, kind, value) is None:
            raise FieldError(f"{label} {value} not found", 404)
        out.changes[path] = int(value)

    return write


def to_row(path: str, model: type[TenantScoped], label: str) -> Writer:
    """A reference to another record by id (0/None clear it)."""

    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        if not value:
            out.changes[path] = None
            return
        if ctx.ws.get(model, value, include_deleted=False) is None:
            raise FieldError(f"{label} {value} not found", 404)
        out.changes[path] = int(value)

    return write


def to_links(kind: str, lookup_kind: str, label: str) -> Writer:
    """A list of ``{"id": n}`` replacing the lookups this record links to."""

    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        ids = [item["id"] for item in value or [] if isinstance(item, Mapping) and item.get("id") is not None]
        for id_ in ids:
            if lookups.get(ctx.ws, lookup_kind, id_) is None:
                raise FieldError(f"{label} {id_} not found", 404)

        def save(ctx: Ctx, saved: Any) -> None:
            links.set_targets(ctx.ws, kind, q.entity_kind(type(saved)), saved.id, links.LOOKUP, ids)

        out.after.append(save)

    return write


def ignored() -> Writer:
    """A documented field the server accepts and does not store (read-only on the wire)."""
    return lambda ctx, obj, value, out: None


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
    # The core service every write of this entity goes through (polycrm.core.service.Service).
    service: Any = None

    def find(self, ctx: Ctx, id_: Any) -> Any:
        obj = ctx.ws.get(self.model, id_, include_deleted=False)
        if obj is None or not all(_meets(obj, c) for c in self.scope):
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
        """Create (``obj`` None) or partially update a row from a validated body."""
        writes = self.apply(ctx, obj, body)
        _null_to_default(self.model, writes.changes)
        if obj is None:
            values = {**self.defaults, **writes.changes}
            obj = self.service.create(ctx.ws, values) if self.service else ctx.ws.create(self.model, values)
        elif self.service:
            self.service.update(ctx.ws, obj, writes.changes)
        else:
            ctx.ws.update(obj, writes.changes)
        for step in writes.after:
            step(ctx, obj)
        ctx.ws.flush()
        ctx.loader.clear()
        return obj


def _null_to_default(model: type[TenantScoped], changes: dict[str, Any]) -> None:
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
    return Entity(label=label, model=Lookup, view=view, scope=(q.Criterion("eq", "kind", kind),),
                  defaults={"kind": kind, "sortorder": 0}, service=lookups.SERVICE, **kw)


# -- bindings --------------------------------------------------------------
@dataclass
class Binding:
    """How one operation of the table is served."""

    handler: Callable[["Call"], Any]
    # What the 200 response holds: "page", "list", "object" or "empty".
    result: str
    view: View | None = None
    entity: Entity | None = None
    # Query parameters this operation serves beyond the entity's filters.
    handles: frozenset[str] = frozenset()
    # The operation whose body fields this one accepts (where the doc lost them).
    body_from: int | None = None
    # A GET that writes (a status check that moves on, settling what is due):
    # it runs in a writing workspace, like the other methods, so that on
    # SQLite it takes the write lock up front instead of upgrading a read.
    writes: bool = False


@dataclass
class Call:
    """One request, parsed: what a handler works with."""

    op: dict[str, Any]
    ctx: Ctx
    path: dict[str, int]
    query: dict[str, Any]
    body: Any

    @property
    def ws(self) -> Workspace:
        return self.ctx.ws


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
        )
    except q.PageOutOfRange:
        raise invalid({"page": f"page {query.get('page')} is out of range"}) from None
    call.ctx.distances = page.distances
    view = view or entity.view
    prefetch(call.ctx, view, page.items)
    return {
        "page": page.page, "pages": page.pages, "per_page": page.per_page, "total": page.total,
        "items": [render(call.ctx, view, obj) for obj in page.items],
    }


# -- generic handlers ------------------------------------------------------
def paged(entity: Entity, view: View | None = None, handles: Sequence[str] = ()) -> Binding:
    return Binding(lambda call: run_page(call, entity, view), "page", view or entity.view, entity, frozenset(handles))


def listing(entity: Entity, view: View | None = None, sort: Sequence[q.Sort] = (q.Sort("sortorder"),)) -> Binding:
    def handle(call: Call) -> list:
        rows = q.every(call.ws, entity.model, list(entity.scope), sort=sort)
        return [render(call.ctx, view or entity.view, row) for row in rows]

    return Binding(handle, "list", view or entity.view, entity)


def item(entity: Entity, key: str = "id") -> Binding:
    return Binding(lambda call: render(call.ctx, entity.view, entity.find(call.ctx, call.path[key])),
                   "object", entity.view, entity)


def creating(entity: Entity) -> Binding:
    def handle(call: Call) -> dict:
        obj = entity.save(call.ctx, None, call.body or {})
        return render(call.ctx, entity.view, obj)

    return Binding(handle, "object", entity.view, entity)


def updating(entity: Entity, key: str = "id") -> Binding:
    def handle(call: Call) -> dict:
        obj = entity.find(call.ctx, call.path[key])
        entity.save(call.ctx, obj, call.body or {})
        return render(call.ctx, entity.view, obj)

    return Binding(handle, "object", entity.view, entity)


def following(entity: Entity, follow: bool) -> Binding:
    """Follow/unfollow: body ``{key, userid}``; answers ``{}``."""

    def handle(call: Call) -> dict:
        body = call.body or {}
        record = entity.find(call.ctx, body["key"])
        user = call.ws.get(User, body["userid"], include_deleted=False)
        if user is None:
            raise ApiError(404, f"User {body['userid']} not found", {"userid": f"User {body['userid']} not found"})
        (links.follow if follow else links.unfollow)(call.ws, user.id, record)
        return {}

    return Binding(handle, "empty", None, entity)


def custom(handler: Callable[[Call], Any], result: str, view: View | None = None,
           entity: Entity | None = None, handles: Sequence[str] = (), *, writes: bool = False) -> Binding:
    return Binding(handler, result, view, entity, frozenset(handles), writes=writes)
