"""Field maps: how a Microbizz object's fields correspond to core fields.

A :class:`Field` names the wire field, the dotted core path it reads and
writes, how to convert a client's value (``read``; ``None`` = read-only) and
how to present the stored value (``show``). A :class:`FieldMap` turns a
client's object into a core patch and a stored row into the wire object. The
same maps are the oracle of the cross-API tests.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
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

    def known(self, kind: str) -> dict[int, str]:
        """The display names of ``kind`` fetched so far (the dict :meth:`name` fills)."""
        return self._names.setdefault(kind, {})

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
    # What ``show`` does, as a Python expression over the value ``v`` (see
    # :func:`_compile_renderer`); None: the renderer calls ``show``.
    inline: str | None = None
    # An expression over ``v`` that several fields of one value share (the date
    # and the time of a moment): computed once per row and value, ``s`` in ``inline``.
    shared: str | None = None


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

    # -- rendering row tuples ------------------------------------------------
    @functools.cached_property
    def columns(self) -> tuple[str, ...]:
        """The columns :meth:`render_rows` reads, in the order its tuples hold
        them: ``id`` and the first part of every field's core path."""
        if any(f.core is None for f in self.fields):
            raise TypeError(f"{self.name}: a computed field needs whole rows; render them with many()")
        return tuple(dict.fromkeys(["id", *(f.core.split(".")[0] for f in self.fields)]))

    def render_rows(self, rows: Sequence[Sequence[Any]], ctx: RenderContext) -> list[dict[str, Any]]:
        """Rows of :attr:`columns` as plain tuples (what
        :func:`polycrm.core.query.rows.tuples` returns) as wire
        objects: the objects :meth:`many` makes of the same rows, in a fraction
        of its time (the tests compare the two)."""
        for kind, ids in self._name_ids(rows):
            ctx.prefetch(kind, ids)
        return self._renderer(rows, ctx)

    @functools.cached_property
    def _name_ids(self) -> Callable[[Sequence[Sequence[Any]]], list[tuple[str, list[Any]]]]:
        """The values of each field that shows a name, collected from a page in
        one pass over its rows (in field order, as :meth:`many` prefetches them)."""
        return _compile_name_ids(self.name, self.fields, self.columns)

    @functools.cached_property
    def _renderer(self) -> Callable[[Sequence[Sequence[Any]], RenderContext], list[dict[str, Any]]]:
        return _compile_renderer(self.name, self.fields, self.columns)


_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _container_reader(index: Mapping[str, int], lines: list[str]) -> Callable[[tuple[str, ...]], str]:
    """For generated code over a row ``r``: the variable holding the JSON object
    at a path of parts ({} when it is none), its assignment added to ``lines`` once."""
    containers: dict[tuple[str, ...], str] = {}

    def container(parts: tuple[str, ...]) -> str:
        if parts not in containers:
            source = f"r[{index[parts[0]]}]" if len(parts) == 1 else f"{container(parts[:-1])}.get({parts[-1]!r})"
            var = containers[parts] = f"c{len(containers)}"
            lines.append(f"{var} = {source}")
            lines.append(f"if not isinstance({var}, dict): {var} = _EMPTY")
        return containers[parts]

    return container


def _value_source(index: Mapping[str, int], container: Callable[[tuple[str, ...]], str], path: str) -> str:
    parts = tuple(path.split("."))
    return f"r[{index[parts[0]]}]" if len(parts) == 1 else f"{container(parts[:-1])}.get({parts[-1]!r})"


def _compile_name_ids(
    name: str, fields: Sequence[Field], columns: Sequence[str]
) -> Callable[[Sequence[Sequence[Any]]], list[tuple[str, list[Any]]]]:
    """One Python function collecting, from a page of row tuples, the values
    of every field that shows a name: ``[(kind, values)]`` in field order
    (see :func:`_compile_renderer`)."""
    index = {column: i for i, column in enumerate(columns)}
    row_lines: list[str] = []
    container = _container_reader(index, row_lines)
    named = [field for field in fields if field.names]
    for j, field in enumerate(named):
        row_lines.append(f"add{j}({_value_source(index, container, field.core)})")
    lines = [
        "def name_ids(rows):",
        *(f"    ids{j} = []\n    add{j} = ids{j}.append" for j in range(len(named))),
        "    for r in rows:",
        *(f"        {line}" for line in row_lines or ["pass"]),
        f"    return [{', '.join(f'({field.names!r}, ids{j})' for j, field in enumerate(named))}]",
    ]
    namespace: dict[str, Any] = {"_EMPTY": _EMPTY}
    exec(compile("\n".join(lines), f"<name ids of field map {name}>", "exec"), namespace)  # noqa: S102
    return namespace["name_ids"]


def _compile_renderer(
    name: str, fields: Sequence[Field], columns: Sequence[str]
) -> Callable[[Sequence[Sequence[Any]], RenderContext], list[dict[str, Any]]]:
    """One Python function rendering a page of row tuples for these fields.

    A sync page is a thousand rows of some fifty fields; calling a reader and
    a converter per field and row is most of a sync's time. Generated code
    reads each JSON object on the path once per row, converts the common
    types inline (:attr:`Field.inline`) and builds each object with one dict
    display. The code comes only from the field constructors of this module
    and the face's own maps (wire names and paths are written as literals).
    """
    index = {column: i for i, column in enumerate(columns)}
    namespace: dict[str, Any] = {"_EMPTY": _EMPTY, "street_text": _street_text}
    row_lines: list[str] = []
    container = _container_reader(index, row_lines)
    kinds: set[str] = set()
    values: list[str] = []
    shared: dict[tuple[str, str], str] = {}  # (source, expression) -> its variable
    current = None  # the source ``v`` holds now (fields of one value are neighbours)
    for j, field in enumerate(fields):
        source = _value_source(index, container, field.core)
        if source != current:
            row_lines.append(f"v = {source}")
            current = source
        if field.shared is not None:
            if (source, field.shared) not in shared:
                var = shared[source, field.shared] = f"s{len(shared)}"
                row_lines.append(f"{var} = {field.shared}")
            row_lines.append(f"s = {shared[source, field.shared]}")
        if field.inline is not None:
            expression = field.inline
        elif getattr(field.show, "plain", None) is not None:
            namespace[f"plain{j}"] = field.show.plain
            expression = f"plain{j}(v)"
        else:
            namespace[f"show{j}"] = field.show
            expression = f"show{j}(v, ctx)"
        if field.names:
            if not field.names.isidentifier():
                raise ValueError(f"{name}.{field.wire}: a kind of names must be an identifier")
            kinds.add(field.names)
        row_lines.append(f"f{j} = {expression}")
        values.append(f"{field.wire!r}: f{j}")
    lines = [
        "def render(rows, ctx):",
        "    stamp, name = ctx.clock.formatted, ctx.name",
        *(f"    names_{kind} = ctx.known({kind!r})" for kind in sorted(kinds)),
        "    out = []",
        "    append = out.append",
        "    for r in rows:",
        *(f"        {line}" for line in row_lines),
        f"        append({{{', '.join(values)}}})",
        "    return out",
    ]
    exec(compile("\n".join(lines), f"<field map {name}>", "exec"), namespace)  # noqa: S102
    return namespace["render"]


def _path_reader(path: str | None, index: Mapping[str, int] | None = None) -> Callable[[Any], Any] | None:
    """What :func:`get_path` does for a row mapping, with the path split once
    (``index``: for row tuples, where each column is)."""
    if not path:
        return None
    head, *rest = path.split(".")
    if index is not None:
        head = index[head]
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

# wire.out_str, wire.out_int and wire.out_number as inline expressions (exact strs and ints pass as they are).
_INLINE_STR = 'v if v.__class__ is str else ("" if v is None else str(v))'
_INLINE_INT = "v if v.__class__ is int else (0 if v is None else int(v))"
_INLINE_NUMBER = "0 if v is None else (int(n) if (n := float(v)).is_integer() else n)"

def _plain(show: Callable[[Any], Any]) -> Shower:
    def shown(value: Any, _ctx: RenderContext) -> Any:
        return show(value)

    shown.plain = show  # type: ignore[attr-defined]  # FieldMap calls it directly
    return shown


def text(wire_name: str, core: str, *, readonly: bool = False) -> Field:
    return Field(wire_name, core, None if readonly else wire.read_str, _plain(wire.out_str), inline=_INLINE_STR)


def street_line(wire_name: str, kind: str) -> Field:
    """The street of address ``kind`` with its numbers as one line of text
    (:func:`polycrm.core.customers.street_line`); a write stores the line as
    the street and clears the separate numbers."""
    path = f"addresses.{kind}"
    return Field(
        wire_name, path, wire.read_str, _plain(_street_text),
        expand=lambda line, current: customers.street_line_patch(
            kind, line, get_path(current, path) if current is not None else None),
        inline="street_text(v)",
    )


def _street_text(address: Any) -> str:
    """``wire.out_str`` of the street line, in one call (a sync renders two a customer)."""
    line = customers.street_line(address)
    return "" if line is None else line


def integer(wire_name: str, core: str, *, readonly: bool = False) -> Field:
    return Field(wire_name, core, None if readonly else wire.read_int, _plain(wire.out_int), inline=_INLINE_INT)


def ref(wire_name: str, core: str, *, readonly: bool = False) -> Field:
    """An id pointing at another record; 0 means none."""
    return Field(wire_name, core, None if readonly else wire.read_id, _plain(wire.out_int), inline=_INLINE_INT)


def number(wire_name: str, core: str, *, readonly: bool = False) -> Field:
    return Field(wire_name, core, None if readonly else wire.read_decimal, _plain(wire.out_number), inline=_INLINE_NUMBER)


def floating(wire_name: str, core: str) -> Field:
    return Field(wire_name, core, wire.read_float, _plain(wire.out_number), inline=_INLINE_NUMBER)


def boolean(wire_name: str, core: str, *, inverted: bool = False, readonly: bool = False) -> Field:
    if inverted:
        return Field(
            wire_name, core,
            None if readonly else (lambda v, f: not wire.read_bool(v, f)),
            _plain(lambda v: wire.out_bool(not v)),
            inline="0 if v else 1",
        )
    return Field(wire_name, core, None if readonly else wire.read_bool, _plain(wire.out_bool), inline="1 if v else 0")


def date(wire_name: str, core: str, *, readonly: bool = False, iso: bool = False) -> Field:
    """A date column, or (``iso=True``) a date kept as ISO text in ``extra``."""
    if iso:
        return Field(
            wire_name, core,
            None if readonly else (lambda v, f: _iso(wire.read_date(v, f))),
            _plain(lambda v: v or ""),
            inline='v or ""',
        )
    return Field(wire_name, core, None if readonly else wire.read_date, _plain(wire.out_date))


def _iso(day: Any) -> str | None:
    return day.isoformat() if day else None


def name_of(wire_name: str, core: str, kind: str) -> Field:
    """Read-only text naming the record an id field points at."""
    return Field(
        wire_name, core, None, lambda value, ctx: ctx.name(kind, value), names=kind,
        inline=f'"" if not v else (names_{kind}[v] if v in names_{kind} else name({kind!r}, v))',
    )


def stamp_date(wire_name: str, core: str) -> Field:
    return Field(wire_name, core, None, lambda value, ctx: ctx.clock.date_of(value), shared="stamp(v)", inline="s[0]")


def stamp_time(wire_name: str, core: str) -> Field:
    return Field(wire_name, core, None, lambda value, ctx: ctx.clock.time_of(value), shared="stamp(v)", inline="s[1]")


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
