"""Fixture files as sources for :class:`polycrm.core.fixtures.Loader`, read as streams.

- JSON (``.json``): one object of sections. A small file is parsed whole
  (:func:`json.loads`); one above :data:`STREAM_ABOVE` bytes is read with
  ijson: a first pass notes its top-level sections (and finds any syntax
  error before anything is written), then each section present is read item
  by item, in the loader's order, one pass of the file each. No more than
  one item is in memory at a time.
- JSON Lines (``.jsonl``, ``.ndjson``): one item of the ``entity`` section per line.
- CSV (``.csv``): a header row naming core fields (``name``, ``number``,
  ``type_name``, ``parent_ref``, dotted paths such as
  ``addresses.visiting.city`` or ``extra.trade``), then one item of the
  ``entity`` section per row; an empty cell gives no value, and the loader
  turns the text into each column's type.

Every item comes with its place ("customers item 3", "line 7"), which an
error names. :meth:`position` is how far into the file the current pass is,
for a progress bar.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import ijson
import orjson

from polycrm.core.errors import Invalid
from polycrm.core.fixtures import MappingSource
from polycrm.core.workspace import _set_path

STREAM_ABOVE = 4 * 1024 * 1024
LINE_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}


class FileError(ValueError):
    """A file that cannot be read as its format (syntax, encoding)."""


def open_source(path: Path, entity: str | None = None) -> Any:
    """The source for ``path``, by its suffix (module docstring)."""
    kind = LINE_FORMATS.get(path.suffix.lower(), "json")
    if kind != "json":
        if not entity:
            raise Invalid(f"{path.name}: a {kind.upper()} file needs --entity (e.g. --entity customers)")
        return LinesSource(path, entity, kind)
    if entity:
        raise Invalid("--entity is for CSV and JSON Lines files; a JSON file names its sections")
    if path.stat().st_size <= STREAM_ABOVE:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise FileError(str(exc)) from None
        source = MappingSource(data)
        source.size = path.stat().st_size
        source.position = lambda: source.size
        return source
    return JsonStream(path)


class JsonStream:
    """A large JSON fixture read with ijson, section by section."""

    def __init__(self, path: Path):
        self.path = path
        self.size = path.stat().st_size
        self._file: Any = None
        self.sections = self._sections()

    def _sections(self) -> list[str]:
        names: list[str] = []
        # Per section, how many items (or keys, for a section of kinds) it has: a later pass
        # stops after the last one instead of parsing the rest of the file.
        self._counts: dict[str, int] = {}
        counts = self._counts
        not_an_item = ("end_map", "end_array", "map_key")  # an item starts with one other event
        with self.path.open("rb") as f:
            try:
                events = ijson.parse(f)
                first = next(events, None)
                if first is None or first[1] != "start_map":
                    raise Invalid("a fixture file holds one JSON object of sections")
                item = section = None
                for prefix, event, value in events:
                    if prefix == item:
                        if event not in not_an_item:
                            counts[section] += 1
                    elif prefix == section:
                        if event == "map_key":
                            counts[section] += 1
                    elif event == "map_key" and prefix == "":
                        names.append(value)
                        section, item = value, f"{value}.item"
                        counts.setdefault(section, 0)
            except ijson.JSONError as exc:
                raise FileError(str(exc)) from None
        return names

    def position(self) -> int:
        f = self._file
        return f.tell() if f is not None and not f.closed else self.size

    def _stream(self, section: str, prefix: str, reader: Any) -> Iterator[Any]:
        with self.path.open("rb") as f:
            self._file = f
            # The first pass counted the section's entries; the rest of the file holds no more of them.
            yield from itertools.islice(reader(f, prefix, use_float=True), self._counts.get(section, 0))

    def items(self, section: str) -> Iterable[tuple[str, Any]]:
        for i, item in enumerate(self._stream(section, f"{section}.item", ijson.items), start=1):
            yield f"{section} item {i}", item

    def kinds(self, section: str) -> Iterable[tuple[str, list[Any]]]:
        return self._stream(section, section, ijson.kvitems)


class LinesSource:
    """A JSON Lines or CSV file: every line (row) one item of one section."""

    def __init__(self, path: Path, entity: str, kind: str):
        self.path = path
        self.entity = entity
        self.kind = kind
        self.size = path.stat().st_size
        self.sections = [entity]
        self._file: Any = None

    def position(self) -> int:
        f = self._file
        return f.buffer.tell() if f is not None and not f.closed else self.size

    def kinds(self, section: str) -> Iterable[tuple[str, list[Any]]]:
        raise Invalid(f"{section} holds lists of kinds: load it from a JSON file")

    def items(self, section: str) -> Iterable[tuple[str, Any]]:
        with self.path.open("r", encoding="utf-8", newline="") as f:
            self._file = f
            try:
                yield from (self._csv(f) if self.kind == "csv" else self._jsonl(f))
            except UnicodeDecodeError as exc:
                raise FileError(f"not UTF-8 text: {exc}") from None

    def _jsonl(self, f: io.TextIOBase) -> Iterator[tuple[str, Any]]:
        # Not ``for line in f``: the file's position is read for the progress bar.
        n = 0
        while line := f.readline():
            n += 1
            if not line.strip():
                continue
            try:
                item = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise Invalid(f"line {n}: not JSON ({exc})") from None
            if not isinstance(item, dict):
                raise Invalid(f"line {n}: a line holds one JSON object")
            yield f"line {n}", item

    def _csv(self, f: io.TextIOBase) -> Iterator[tuple[str, Any]]:
        reader = csv.reader(iter(f.readline, ""))
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise Invalid("line 1: a CSV file starts with a header row naming the fields")
        names = [h.strip() for h in header]
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            where = f"line {reader.line_num}"
            if len(row) > len(names):
                raise Invalid(f"{where}: {len(row)} cells, the header names {len(names)}")
            item: dict[str, Any] = {}
            for name, cell in zip(names, row):
                if cell == "" or not name:
                    continue
                if "." in name:
                    head, _, rest = name.partition(".")
                    target = item.setdefault(head, {})
                    if not isinstance(target, dict):
                        raise Invalid(f"{where}: {name} and {head} are both given")
                    _set_path(target, rest.split("."), cell)
                else:
                    item[name] = cell
            yield where, item
