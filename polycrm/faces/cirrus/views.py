"""Views: how one wire model is read from one kind of core row.

A :class:`View` has one *reader* per field of the model (``attr("name")``,
``ref(User, "user_id", USER_REF)``, ``linked(...)``); :func:`render` coerces
every value to the field's wire type, so output always has the documented
shape. Readers with a ``prefetch`` load what they need for a whole page at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from polycrm.core import query as q
from polycrm.core.models import TenantScoped
from polycrm.core.workspace import Workspace, get_path
from polycrm.faces.cirrus import wire
from polycrm.faces.cirrus.schemas import MODELS


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
