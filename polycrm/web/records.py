"""Detail, edit and delete pages of contacts, activities, tickets and opportunities, as data.

A :class:`RecordKind` names the model, its form fields and its core write
service. Each kind gets ``GET /{key}/{id}`` (the record's fields and its
timeline), ``GET/POST /{key}/{id}/edit`` and ``GET/POST /{key}/{id}/delete``
(a confirm page, then the service's delete). Every write goes through the
kind's core service.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from starlette.responses import Response

from polycrm.core import browse, history
from polycrm.core.errors import CoreError
from polycrm.core.models import Customer, User
from polycrm.core.workspace import get_path
from polycrm.web import forms
from polycrm.web.forms import Field
from polycrm.web.handler import Ctx


@dataclass(frozen=True)
class RecordKind:
    key: str  # the URL segment: /contacts/{id}
    label: str  # "contact"
    model: type
    fields: tuple[Field, ...]
    service: Any  # a core Service: update(ws, obj, values), delete(ws, obj)
    title: Callable[[Any], str]
    # Where to go after deleting (the list, or the record's customer).
    after_delete: Callable[[Any], str]
    # Which of the shared pages the kind uses ("detail", "edit", "delete"); a kind
    # with pages of its own (opportunities) takes only the delete step from here.
    pages: tuple[str, ...] = ("detail", "edit", "delete")

    def url(self, obj: Any, action: str = "") -> str:
        return f"/{self.key}/{obj.id}" + (f"/{action}" if action else "")


def facts(ctx: Ctx, kind: RecordKind, obj: Any) -> list[tuple[str, str, str | None]]:
    """(label, shown value, link) of each filled field."""
    values = {f.name: get_path(obj, f.path) for f in kind.fields}
    lookups_wanted = {values[f.name] for f in kind.fields if f.kind == "select" and f.choices not in ("customer", "user")
                      and not f.options}
    lookup_names = browse.lookup_names(ctx.ws, lookups_wanted)
    customers = browse.names(ctx.ws, Customer, {values[f.name] for f in kind.fields if f.choices == "customer"})
    users = browse.names(ctx.ws, User, {values[f.name] for f in kind.fields if f.choices == "user"})
    shown: list[tuple[str, str, str | None]] = []
    for f in kind.fields:
        value = values[f.name]
        link = None
        if value is None or value == "":
            continue
        if f.kind == "checkbox":
            text = "Yes" if value else "No"
        elif f.kind == "money" and isinstance(value, Decimal):
            text = ctx.amount(value)
        elif isinstance(value, (dt.date, dt.datetime)):
            text = value.isoformat()[:10]
        elif f.choices == "customer":
            text, link = customers.get(value, str(value)), f"/customers/{value}"
        elif f.choices == "user":
            text = users.get(value, str(value))
        elif f.kind == "select" and not f.options:
            text = lookup_names.get(value, str(value))
        else:
            text = str(value)
        shown.append((f.label, text, link))
    return shown


TIMELINE_PARAM = "timeline"


def timeline_values(ctx: Ctx, model: type, obj: Any, field_labels: dict[str, str], *, related: Sequence[Any] = (),
                    event_links: dict[str, str | None] | None = None) -> dict[str, Any]:
    """What ``timeline.html`` needs: one page of the record's timeline (``?timeline=N``),
    the users' names, the field labels and the links to newer and older entries."""
    timeline = browse.timeline(ctx.ws, model, obj, related=related, page=ctx.int_param(TIMELINE_PARAM))
    path = ctx.request.url.path

    def link(page: int) -> str:
        return path + (f"?{TIMELINE_PARAM}={page}" if page > 1 else "") + "#timeline-h"

    return {"timeline": timeline, "events": timeline.events, "field_labels": field_labels,
            "n_more": {"user": browse.names(ctx.ws, User, {e.user_id for e in timeline.events})},
            "sources": history.SOURCE_LABELS, "event_links": event_links or {},
            "timeline_links": {"newer": link(timeline.page - 1), "older": link(timeline.page + 1), "first": link(1)}}


def detail(kind: RecordKind) -> Callable[[Ctx], Response]:
    def show(ctx: Ctx) -> Response:
        obj = ctx.ws.require(kind.model, ctx.request.path_params["id"], kind.label)
        return ctx.render("record.html", kind=kind, obj=obj, title=kind.title(obj), facts=facts(ctx, kind, obj),
                          **timeline_values(ctx, kind.model, obj, {f.path: f.label for f in kind.fields}))

    show.__name__ = f"{kind.key}_detail"
    return show


def _form(ctx: Ctx, kind: RecordKind, obj: Any, values: dict[str, str], status: int = 200,
          errors: dict[str, str] | None = None) -> Response:
    options = {f.name: forms.choices(ctx.ws, f, selected=values.get(f.name, ""))
               for f in kind.fields if f.kind == "select"}
    return ctx.render("form.html", status, groups=forms.grouped(kind.fields), values=values, errors=errors or {},
                      options=options, title=f"Edit {kind.title(obj)}", action=kind.url(obj, "edit"),
                      cancel=kind.url(obj))


def edit(kind: RecordKind) -> Callable[[Ctx], Response]:
    def show(ctx: Ctx) -> Response:
        obj = ctx.ws.require(kind.model, ctx.request.path_params["id"], kind.label)
        return _form(ctx, kind, obj, forms.initial(kind.fields, obj))

    show.__name__ = f"{kind.key}_edit"
    return show


def update(kind: RecordKind) -> Callable[[Ctx], Response]:
    def save(ctx: Ctx) -> Response:
        obj = ctx.ws.require(kind.model, ctx.request.path_params["id"], kind.label)
        values, errors, raw = forms.read(ctx.ws, kind.fields, ctx.form)
        if not errors:
            try:
                changed = kind.service.update(ctx.ws, obj, values)
            except CoreError as exc:
                ctx.ws.rollback()
                field = next((f.name for f in kind.fields if f.path == exc.field), kind.fields[0].name)
                errors = {field: exc.message}
            else:
                return ctx.redirect(kind.url(obj), "Changes saved." if changed else "No changes.")
        return _form(ctx, kind, obj, raw, 400, errors)

    save.__name__ = f"{kind.key}_update"
    return save


def confirm_delete(kind: RecordKind) -> Callable[[Ctx], Response]:
    def show(ctx: Ctx) -> Response:
        obj = ctx.ws.require(kind.model, ctx.request.path_params["id"], kind.label)
        return ctx.render("delete.html", kind=kind, obj=obj, title=f"Delete {kind.title(obj)}?")

    show.__name__ = f"{kind.key}_confirm_delete"
    return show


def delete(kind: RecordKind) -> Callable[[Ctx], Response]:
    def remove(ctx: Ctx) -> Response:
        obj = ctx.ws.require(kind.model, ctx.request.path_params["id"], kind.label)
        target = kind.after_delete(obj)
        kind.service.delete(ctx.ws, obj)
        return ctx.redirect(target, f"{kind.label.capitalize()} {kind.title(obj)} deleted.")

    remove.__name__ = f"{kind.key}_delete"
    return remove


def routes(page: Callable, kinds: list[RecordKind]) -> list:
    from starlette.routing import Route

    found = []
    for kind in kinds:
        base = f"/{kind.key}/{{id:int}}"
        if "detail" in kind.pages:
            found.append(Route(base, page(detail(kind)), methods=["GET"]))
        if "edit" in kind.pages:
            found += [Route(base + "/edit", page(edit(kind)), methods=["GET"]),
                      Route(base + "/edit", page(update(kind)), methods=["POST"])]
        if "delete" in kind.pages:
            found += [Route(base + "/delete", page(confirm_delete(kind)), methods=["GET"]),
                      Route(base + "/delete", page(delete(kind)), methods=["POST"])]
    return found
