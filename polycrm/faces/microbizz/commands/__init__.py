"""The Microbizz command handlers, by vendor page, and the :class:`Call` each gets.

A handler reads its arguments through the :class:`Call`, maps wire fields to
core fields (:mod:`polycrm.faces.microbizz.maps`), makes one core service call
and renders the answer. Which handler serves which command, whether it writes
and which arguments it reads is :mod:`polycrm.faces.microbizz.table`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from polycrm.config import Settings
from polycrm.core.workspace import Workspace
from polycrm.faces.microbizz import wire
from polycrm.faces.microbizz.fields import RenderContext


@dataclass
class Call:
    """One command being run: its inputs and the means to answer it."""

    name: str
    # The arguments the command's table entry lists: the only ones it may read.
    arguments: frozenset[str]
    args: Mapping[str, Any]
    ws: Workspace
    ctx: RenderContext
    settings: Settings

    @property
    def clock(self) -> wire.Clock:
        return self.ctx.clock

    @property
    def user_id(self) -> int:
        return self.ws.user_id

    def raw(self, key: str, default: Any = None) -> Any:
        """Argument ``key`` as the client sent it."""
        if key not in self.arguments:
            # A handler reading what its table entry does not list is a bug
            # in this face (the endpoint answers it as an internal error).
            raise LookupError(f"{self.name} reads {key!r}, which its table entry does not list")
        return self.args.get(key, default)

    def given(self, key: str) -> bool:
        """Argument ``key`` was sent, even empty."""
        self.raw(key)
        return key in self.args

    def has(self, key: str) -> bool:
        return self.raw(key) not in (None, "")

    def _get(self, key: str, required: bool) -> Any:
        value = self.raw(key)
        if required and value in (None, ""):
            raise wire.missing(key)
        return value

    def int(self, key: str, *, required: bool = False) -> int:
        return wire.read_int(self._get(key, required), key)

    def id(self, key: str, *, required: bool = False) -> int | None:
        value = wire.read_id(self._get(key, required), key)
        if required and value is None:
            raise wire.invalid(key, self.raw(key), "a valid id")
        return value

    def bool(self, key: str) -> bool:
        return wire.read_bool(self.raw(key), key)

    def str(self, key: str, *, required: bool = False) -> str | None:
        return wire.read_str(self._get(key, required), key)

    def date(self, key: str, *, required: bool = False) -> dt.date | None:
        return wire.read_date(self._get(key, required), key)

    def time(self, key: str) -> dt.time | None:
        return wire.read_time(self.raw(key), key)

    def obj(self, *keys: str, required: bool = True) -> Mapping[str, Any]:
        """The first of ``keys`` present, which must be an object."""
        for key in keys:
            value = self.raw(key)
            if value not in (None, ""):
                if not isinstance(value, Mapping):
                    raise wire.invalid(key, value, "an object")
                return value
        if required:
            raise wire.missing(keys[0])
        return {}

    def target(self, key: str, model: type) -> tuple[Mapping[str, Any], Any]:
        """The object input ``key`` and the stored record its ``id`` names:
        None for id 0 (create), a command error for an id that does not exist."""
        payload = self.obj(key)
        record_id = wire.read_id(payload.get("id"), f"{key}.id")
        if not record_id:
            return payload, None
        current = self.ws.get(model, record_id)
        if current is None:
            raise wire.CommandError(f"Unknown {key}.id: {record_id}")
        return payload, current

    def key_in(self, payload: Mapping[str, Any], object_name: str, key: str) -> str:
        """A required identifying text of an input object (a customer number, ...)."""
        value = wire.read_str(payload.get(key), f"{object_name}.{key}")
        if not value or not value.strip():
            raise wire.missing(f"{object_name}.{key}")
        return value

    def list(self, key: str, *, required: bool = False) -> list[Any]:
        value = self._get(key, required)
        if value in (None, ""):
            return []
        if isinstance(value, Mapping):
            return list(value.values())
        if not isinstance(value, list):
            raise wire.invalid(key, value, "a collection")
        return value

    def binary(self, key: str) -> bytes:
        return wire.read_base64(self._get(key, True), key)

    def since(self) -> dt.datetime | None:
        """The UTC moment a ...ByLastChange sync starts from (None: the beginning).

        ``changedate`` alone means "on or after that day"; with ``changetime``
        it is that moment (inclusive, so a change within the same second as a
        previous sync's clock is sent again rather than missed).
        """
        day = self.date("changedate")
        if day is None:
            return None
        return self.clock.to_utc(day, self.time("changetime"))



Handler = Callable[[Call], dict[str, Any] | None]
