"""Bindings: how each operation of the table is served.

A group's table ``{operationId: Binding}`` binds operations to the generic
handlers (:func:`paged`, :func:`item`, :func:`creating`, :func:`updating`,
:func:`listing`, :func:`following`) or to a group's own small handler
(:func:`custom`). Handlers only call core services (the entity's service,
:mod:`polycrm.core.query`, :mod:`polycrm.core.links`); no SQL is written here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from polycrm.core import links
from polycrm.core import query as q
from polycrm.core.models import User
from polycrm.core.workspace import Workspace
from polycrm.faces.cirrus.entity import Entity, run_page
from polycrm.faces.cirrus.errors import ApiError
from polycrm.faces.cirrus.views import Ctx, View, prefetch, render


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
    # The operationId whose body fields this one accepts (where the doc lost them).
    body_from: str | None = None
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


def paged(entity: Entity, view: View | None = None, handles: Sequence[str] = ()) -> Binding:
    return Binding(lambda call: run_page(call, entity, view), "page", view or entity.view, entity, frozenset(handles))


def listing(entity: Entity, view: View | None = None, sort: Sequence[q.Sort] = (q.Sort("sortorder"),)) -> Binding:
    def handle(call: Call) -> list:
        rows = q.every(call.ws, entity.model, list(entity.scope), sort=sort, records=True)
        shown = view or entity.view
        mask = call.ctx.mask
        call.ctx.masked = True
        prefetch(call.ctx, shown, rows, mask)
        return [render(call.ctx, shown, row, mask) for row in rows]

    return Binding(handle, "list", view or entity.view, entity)


def item(entity: Entity, key: str = "id") -> Binding:
    def handle(call: Call) -> dict | None:
        row = entity.read(call.ctx, call.path[key])
        mask = call.ctx.mask
        call.ctx.masked = True
        prefetch(call.ctx, entity.view, [row], mask)
        return render(call.ctx, entity.view, row, mask)

    return Binding(handle, "object", entity.view, entity)


def _writable(entity: Entity) -> None:
    """A table binding a write to a read-only entity fails at import, not at the first request."""
    if entity.service is None and type(entity).save is Entity.save:
        raise TypeError(f"{entity.label}: a creating/updating binding needs an entity with a core service")


def creating(entity: Entity) -> Binding:
    _writable(entity)

    def handle(call: Call) -> dict:
        obj = entity.save(call.ctx, None, call.body or {})
        return render(call.ctx, entity.view, obj)

    return Binding(handle, "object", entity.view, entity)


def updating(entity: Entity, key: str = "id") -> Binding:
    _writable(entity)

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
