"""Views: how one wire model is read from one kind of core row.

A :class:`View` has one *reader* per field of the model (``attr("name")``,
``ref(User, "user_id", USER_REF)``, ``linked(...)``); :func:`render` coerces
every value to the field's wire type, so output always has the documented
shape. A row is an ORM object or a read-only record (:mod:`polycrm.core.query.rows`);
readers read both alike. Readers of references say what they need
(``link_spec``, ``wants``, ``prime``, ``targets``), so that :func:`prefetch`
loads it for a whole page at once: the links of every kind in one query,
then one query per referenced table, then the same a level down.
:func:`render` through an X-Fields mask builds only the fields it selects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from polycrm.core import query as q
from polycrm.core.models import TenantScoped
from polycrm.core.workspace import Workspace, get_path
from polycrm.faces.cirrus import wire
from polycrm.faces.cirrus.mask import Mask, apply_mask
from polycrm.faces.cirrus.schemas import MODELS


@dataclass
class Ctx:
    """What readers and writers see during one request."""

    ws: Workspace
    loader: q.Loader
    user_id: int | None
    # id -> km for results of a ``nearto`` query.
    distances: dict[int, float] = field(default_factory=dict)
    # The request's X-Fields mask; a handler that renders through it sets
    # ``masked`` so that the endpoint does not apply it again.
    mask: Mask | None = None
    masked: bool = False


Reader = Callable[[Ctx, Any], Any]
# A reader's value as its field's wire type says.
Field = Callable[[Ctx, Any], Any]


@dataclass
class View:
    """How one wire model is read from one kind of core row (an ORM object or a record)."""

    schema: str
    readers: dict[str, Reader]

    def __post_init__(self) -> None:
        missing = set(MODELS[self.schema]) - set(self.readers)
        extra = set(self.readers) - set(MODELS[self.schema])
        if missing or extra:
            raise ValueError(f"view of {self.schema}: missing readers {sorted(missing)}, unknown {sorted(extra)}")
        # The fields in documented order, each reading and coercing its value.
        self.fields: list[tuple[str, Field]] = [
            (name, _field(self.readers[name], t)) for name, t in MODELS[self.schema].items()
        ]
        self.by_name: dict[str, Field] = dict(self.fields)
        # For row mappings (get_path reads them by key, not by attribute).
        self.mapping_fields: list[tuple[str, Field]] = [
            (name, _field(self.readers[name], t, attribute=False)) for name, t in MODELS[self.schema].items()
        ]

    @cached_property
    def loads(self) -> bool:
        """Whether any reader loads referenced rows (so a page of it is worth prefetching)."""
        return bool(self.loading_readers)

    @cached_property
    def loading_readers(self) -> list[tuple[str, Reader]]:
        """The readers that load referenced rows, in field order."""
        return [(name, self.readers[name]) for name, _ in self.fields if _loads(self.readers[name])]


def _loads(reader: Reader) -> bool:
    return any(hasattr(reader, hook) for hook in ("link_spec", "wants", "prime", "targets"))


def _field(reader: Reader, t: str, *, attribute: bool = True) -> Field:
    if t not in SCALARS:
        return reader
    path = getattr(reader, "path", None)
    exact = {"str": str, "text": str, "int": int, "bool": bool}.get(t)
    if exact is not None:
        # The value already of the wire type (most are) is what coerce would return.
        def fast(value: Any) -> Any:
            return value if type(value) is exact or value is None else wire.coerce(t, value)
    else:
        def fast(value: Any) -> Any:
            return wire.coerce(t, value)
    if attribute and path is not None and "." not in path:
        # A plain attribute, as get_path reads it.
        return lambda ctx, obj: fast(getattr(obj, path, None))
    return lambda ctx, obj: fast(reader(ctx, obj))


SCALARS = {"int", "str", "text", "num", "bool", "date", "datetime", "coord", "any"}


def render(ctx: Ctx, view: View, obj: Any, mask: Mask | None = None) -> dict[str, Any] | None:
    """The wire model of ``obj``; through ``mask``, only the fields it selects (the
    same answer as applying the mask to the whole model, without building the rest)."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return _render_mapping(ctx, view, obj, mask)
    if mask is None or mask.selects_everything:
        return {name: read(ctx, obj) for name, read in view.fields}
    out: dict[str, Any] = {}
    for name, sub in mask.fields:
        read = view.by_name.get(name)
        if read is None:
            out[name] = None
        else:
            value = read(ctx, obj)
            out[name] = value if sub is None else apply_mask(value, sub)
    if mask.wildcard:
        for name, read in view.fields:
            if name not in out:
                out[name] = read(ctx, obj)
    return out


def _render_mapping(ctx: Ctx, view: View, obj: Mapping, mask: Mask | None) -> dict[str, Any]:
    out = {name: read(ctx, obj) for name, read in view.mapping_fields}
    return out if mask is None else apply_mask(out, mask)


def selected(view: View, mask: Mask | None) -> list[tuple[str, Mask | None]]:
    """The fields of ``view`` a mask selects, each with its nested mask."""
    if mask is None or mask.selects_everything:
        return [(name, None) for name, _ in view.fields]
    found = [(name, sub) for name, sub in mask.fields if name in view.by_name]
    if mask.wildcard:
        listed = {name for name, _ in mask.fields}
        found += [(name, None) for name, _ in view.fields if name not in listed]
    return found


def prefetch(ctx: Ctx, view: View, objs: Sequence[Any], mask: Mask | None = None) -> None:
    """Load what the view's readers will ask for, for many rows at once: the
    links of every kind in one query, then one query per referenced model
    (and one per kind of child rows), then the same a level down."""
    if not view.loads:
        return
    objs = [o for o in objs if o is not None]
    if not objs:
        return
    if mask is None or mask.selects_everything:
        readers = [(reader, None) for _, reader in view.loading_readers]
    else:
        loading = dict(view.loading_readers)
        readers = [(loading[name], sub) for name, sub in selected(view, mask) if name in loading]
        if not readers:
            return
    specs = [reader.link_spec for reader, _ in readers if hasattr(reader, "link_spec")]
    if specs:
        ctx.loader.prime_links_many(q.entity_kind(type(objs[0])), [o.id for o in objs], specs)
    for reader, _ in readers:
        prime = getattr(reader, "prime", None)
        if prime is not None:
            prime(ctx, objs)
        wants = getattr(reader, "wants", None)
        if wants is not None:
            for model, ids in wants(ctx, objs):
                ctx.loader.want(model, ids)
    ctx.loader.load_wanted()
    for reader, sub in readers:
        targets = getattr(reader, "targets", None)
        if targets is not None:
            sub_view, rows = targets(ctx, objs)
            prefetch(ctx, sub_view, rows, sub)


# -- readers ---------------------------------------------------------------
def attr(path: str) -> Reader:
    def read(ctx: Ctx, obj: Any) -> Any:
        return get_path(obj, path)

    read.path = path  # type: ignore[attr-defined]
    return read


def const(value: Any) -> Reader:
    return lambda ctx, obj: value


def ref(model: type[TenantScoped], path: str, view: View) -> Reader:
    """A referenced row, expanded."""

    def read(ctx: Ctx, obj: Any) -> Any:
        target = ctx.loader.get(model, get_path(obj, path))
        return render(ctx, view, target) if target is not None and not target.deleted else None

    def wants(ctx: Ctx, objs: Sequence[Any]) -> list:
        return [(model, [get_path(o, path) for o in objs])]

    def targets(ctx: Ctx, objs: Sequence[Any]) -> tuple[View, list]:
        found = (ctx.loader.get(model, get_path(o, path)) for o in objs)
        return view, [t for t in found if t is not None and not t.deleted]

    read.wants = wants  # type: ignore[attr-defined]
    read.targets = targets  # type: ignore[attr-defined]
    return read


def nested(view: View) -> Reader:
    """The same row rendered as a nested model (``coordinates``, ``photo``)."""

    def read(ctx: Ctx, obj: Any) -> Any:
        return render(ctx, view, obj)

    if view.loads:
        read.targets = lambda ctx, objs: (view, objs)  # type: ignore[attr-defined]
    return read


def linked(model: type[TenantScoped], view: View, kind: str, *, outgoing: bool, other_kind: str) -> Reader:
    """Rows at the other end of links of ``kind``, expanded.

    ``outgoing``: the row being read is the link's source (tags, groups);
    otherwise it is the target (followers, files).
    """

    def other_ids(ctx: Ctx, obj: Any) -> list[int]:
        me = q.entity_kind(type(obj))
        if outgoing:
            return ctx.loader.linked_ids(kind, source_kind=me, source_id=obj.id, target_kind=other_kind)
        return ctx.loader.linked_ids(kind, target_kind=me, target_id=obj.id, source_kind=other_kind)

    def read(ctx: Ctx, obj: Any) -> list:
        return [render(ctx, view, row) for row in ctx.loader.many(model, other_ids(ctx, obj))]

    def wants(ctx: Ctx, objs: Sequence[Any]) -> list:
        return [(model, [i for o in objs for i in other_ids(ctx, o)])]

    def targets(ctx: Ctx, objs: Sequence[Any]) -> tuple[View, list]:
        return view, [row for o in objs for row in ctx.loader.many(model, other_ids(ctx, o))]

    read.link_spec = (kind, outgoing, other_kind)  # type: ignore[attr-defined]
    read.wants = wants  # type: ignore[attr-defined]
    read.targets = targets  # type: ignore[attr-defined]
    return read


def children(model: type[TenantScoped], fk: str, view: View, sort: Sequence[q.Sort] = ()) -> Reader:
    """Rows pointing at this one through ``fk`` (an account's contacts)."""

    def read(ctx: Ctx, obj: Any) -> list:
        return [render(ctx, view, row) for row in ctx.loader.children(model, fk, obj.id, sort)]

    def prime(ctx: Ctx, objs: Sequence[Any]) -> None:
        ctx.loader.prime_children(model, fk, [o.id for o in objs], sort)

    def targets(ctx: Ctx, objs: Sequence[Any]) -> tuple[View, list]:
        return view, [row for o in objs for row in ctx.loader.children(model, fk, o.id, sort)]

    read.prime = prime  # type: ignore[attr-defined]
    read.targets = targets  # type: ignore[attr-defined]
    return read


def as_int(reader: Reader) -> Reader:
    return lambda ctx, obj: None if (v := reader(ctx, obj)) is None else int(v)


# Views shared by every group.
ID_NAME = View("IdName", {"id": attr("id"), "name": attr("name")})
USER_REF = View("UserRef", {n: attr(n) for n in ("id", "name", "surname", "title", "email", "phone", "cellphone")})
TAG_REF = View("TagRef", {"id": attr("id"), "name": attr("name"), "type": lambda ctx, obj: (obj.extra or {}).get("type", obj.code)})
FILE_REF = View("IdName", {"id": attr("id"), "name": lambda ctx, obj: obj.title or obj.filename})
