"""Field maps: how a Microbizz object's fields correspond to core fields.

A :class:`Field` names the wire field, the dotted core path it reads and
writes, how to convert a client's value (``read``; ``None`` = read-only) and
how to present the stored value (``show``). A :class:`FieldMap` turns a
client's object into a core patch and a stored row into the wire object. The
same maps are the oracle of the cross-API tests.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from polycrm.core import customers, names
from polycrm.core.workspace import Workspace, get_path
from polycrm.faces.microbizz import wire

Reader = Callable[[Any, str], Any]
Shower = Callable[[Any, "RenderContext"], Any]


class RenderContext:
    """Per-request caches for the text fields that name other records."""

    def __init__(
        self,
        ws: Workspace,
        clock: wire.Clock,
        *,
        include_prices: bool = False,
        names: dict[str, dict[int, str]] | None = None,
    ):
        self.ws = ws
        self.clock = clock
        self.include_prices = include_prices
        # ``names`` may be shared by the read-only commands of one batch.
        self._names: dict[str, dict[int, str]] = {} if names is None else names

    def name(self, kind: str, id_: int | None) -> str:
        if not id_:
            return ""
        known = self._names.setdefault(kind, {})
        if id_ not in known:
            self.prefetch(kind, [id_])
        return known.get(id_, "")

    def prefetch(self, kind: str, ids: Iterable[int | None]) -> None:
        known = self._names.setdefault(kind, {})
        wanted = {i for i in ids if i and i not in known}
        if wanted:
            found = names.display_names(self.ws, kind, wanted)
            known.update(found)
            known.update({i: "" for i in wanted - found.keys()})


@dataclass(frozen=True, slots=True)
class Field:
    wire: str
    core: str | None
    read: Reader | None
    show: Shower
    names: str | None = None  # kind whose display name this field shows (for prefetching)
    # A field stored in several core paths: (read value, current row or None) -> core patch.
    expand: Callable[[Any, Any], dict[str, Any]] | None = None


class FieldMap:
    def __init__(self, name: str, fields: Iterable[Field]):
        self.name = name
        self.fields = tuple(fields)
        self.writable = {f.wire: f for f in self.fields if f.read is not None and f.core}
        # A sync renders some fifty fields of a thousand rows per page: each
        # field's path is compiled once into a reader of row mappings, and a
        # plain field's converter is called without its ctx wrapper.
        self._plan = tuple(
            (f.wire, _path_reader(f.core), f.show, getattr(f.show, "plain", None) if f.core else None)
            for f in self.fields
        )
        self._readers = {f.core: reader for f, (_, reader, _, _) in zip(self.fields, self._plan) if f.core}

    def to_core(self, payload: Mapping[str, Any], current: Any = None) -> dict[str, Any]:
        """The core patch for the writable fields present in ``payload``
        (``current``: the stored record an update changes, if any)."""
        if not isinstance(payload, Mapping):
            raise wire.CommandError(f"Invalid value for {self.name}: expected an object")
        patch: dict[str, Any] = {}
        for key, value in payload.items():
            field = self.writable.get(key)
            if field is None:
                continue
            value = field.read(value, f"{self.name}.{key}")
            if field.expand is not None:
                patch.update(field.expand(value, current))
            else:
                patch[field.core] = value
        return patch

    def to_wire(self, row: Any, ctx: RenderContext) -> dict[str, Any]:
        if not isinstance(row, Mapping):
            return {f.wire: f.show(get_path(row, f.core) if f.core else row, ctx) for f in self.fields}
        return {
            name: plain(read(row)) if plain else show(read(row) if read else row, ctx)
            for name, read, show, plain in self._plan
        }

    def many(self, rows: list[Any], ctx: RenderContext) -> list[dict[str, Any]]:
        for field in self.fields:
            if field.names and field.core:
                read = self._readers[field.core]
                ctx.prefetch(
                    field.names, (read(r) if isinstance(r, Mapping) else get_path(r, field.core) for r in rows)
                )
        return [self.to_wire(r, ctx) for r in rows]


def _path_reader(path: str | None) -> Callable[[Mapping[str, Any]], Any] | None:
    """What :func:`get_path` does for a row mapping, with the path split once."""
    if not path:
        return None
    head, *rest = path.split(".")
    if not rest:
        return operator.itemgetter(head)
    if len(rest) == 1:  # extra.trade
        (key,) = rest

        def read_one(row: Mapping[str, Any]) -> Any:
            value = row[head]
            return value.get(key) if isinstance(value, dict) else None

        return read_one
    if len(rest) == 2:  # addresses.invoice.city
        outer, inner = rest

        def read_two(row: Mapping[str, Any]) -> Any:
            value = row[head]
            value = value.get(outer) if isinstance(value, dict) else None
            return value.get(inner) if isinstance(value, dict) else None

        return read_two

    def read(row: Mapping[str, Any]) -> Any:
        value = row[head]
        for part in rest:
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value

    return read


# -- field constructors ------------------------------------------------------

def _plain(show: Callable[[Any], Any]) -> Shower:
    def shown(value: Any, _ctx: RenderContext) -> Any:
        return show(value)

    shown.plain = show  # type: ignore[attr-defined]  # FieldMap calls it directly
    return shown


def text(wire_name: str, core: str, *, readonly: bool = False) -> Field:
    return Field(wire_name, core, None if readonly else wire.read_str, _plain(wire.out_str))


def street_line(wire_name: str, kind: str) -> Field:
    """The street of address ``kind`` with its numbers as one line of text
    (:func:`polycrm.core.customers.street_line`); a write stores the line as
    the street and clears the separate numbers."""
    path = f"addresses.{kind}"
    return Field(
        wire_name, path, wire.read_str, _plain(lambda address: wire.out_str(customers.street_line(address))),
        expand=lambda line, current: customers.street_line_patch(
            kind, line, get_path(current, path) if current is not None else None),
    )


def integer(wire_name: str, core: str, *, readonly: bool = False) -> Field:
    return Field(wire_name, core, None if readonly else wire.read_int, _plain(wire.out_int))


def ref(wire_name: str, core: str, *, readonly: bool = False) -> Field:
    """An id pointing at another record; 0 means none."""
    return Field(wire_name, core, None if readonly else wire.read_id, _plain(wire.out_int))


def number(wire_name: str, core: str, *, readonly: bool = False) -> Field:
    return Field(wire_name, core, None if readonly else wire.read_decimal, _plain(wire.out_number))


def floating(wire_name: str, core: str) -> Field:
    return Field(wire_name, core, wire.read_float, _plain(wire.out_number))


def boolean(wire_name: str, core: str, *, inverted: bool = False, readonly: bool = False) -> Field:
    if inverted:
        return Field(
            wire_name, core,
            None if readonly else (lambda v, f: not wire.read_bool(v, f)),
            _plain(lambda v: wire.out_bool(not v)),
        )
    return Field(wire_name, core, None if readonly else wire.read_bool, _plain(wire.out_bool))


def date(wire_name: str, core: str, *, readonly: bool = False, iso: bool = False) -> Field:
    """A date column, or (``iso=True``) a date kept as ISO text in ``extra``."""
    if iso:
        return Field(
            wire_name, core,
            None if readonly else (lambda v, f: _iso(wire.read_date(v, f))),
            _plain(lambda v: v or ""),
        )
    return Field(wire_name, core, None if readonly else wire.read_date, _plain(wire.out_date))


def _iso(day: Any) -> str | None:
    return day.isoformat() if day else None


def name_of(wire_name: str, core: str, kind: str) -> Field:
    """Read-only text naming the record an id field points at."""
    return Field(wire_name, core, None, lambda value, ctx: ctx.name(kind, value), names=kind)


def stamp_date(wire_name: str, core: str) -> Field:
    return Field(wire_name, core, None, lambda value, ctx: ctx.clock.date_of(value))


def stamp_time(wire_name: str, core: str) -> Field:
    return Field(wire_name, core, None, lambda value, ctx: ctx.clock.time_of(value))


def int_list(wire_name: str, core: str) -> Field:
    def read(value: Any, field: str) -> list[int]:
        if value in (None, ""):
            return []
        if not isinstance(value, list):
            raise wire.invalid(field, value, "a collection of numbers")
        return [wire.read_int(v, field) for v in value]

    return Field(wire_name, core, read, _plain(lambda v: list(v or [])))


def computed(wire_name: str, show: Callable[[Any, RenderContext], Any]) -> Field:
    """A read-only field computed from the whole row."""
    return Field(wire_name, None, None, show)


def stamps() -> list[Field]:
    return [
        stamp_date("createdate", "created_at"),
        stamp_time("createtime", "created_at"),
        stamp_date("changedate", "changed_at"),
        stamp_time("changetime", "changed_at"),
    ]
