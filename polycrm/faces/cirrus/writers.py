"""Writers: how one request-body field becomes core changes.

A writer ``(ctx, row or None, value, writes)`` adds to :class:`Writes` the
core changes of its field, or link updates that run once the row is saved;
a value it cannot use is a :class:`~polycrm.faces.cirrus.errors.FieldError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from polycrm.core import links, lookups
from polycrm.core import query as q
from polycrm.core.models import TenantScoped
from polycrm.faces.cirrus.errors import FieldError
from polycrm.faces.cirrus.views import Ctx


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
