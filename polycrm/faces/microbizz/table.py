"""The command table: every Microbizz command, its handler and whether it writes."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from polycrm.config import Settings
from polycrm.core.workspace import Workspace
from polycrm.faces.microbizz import wire
from polycrm.faces.microbizz.fields import RenderContext


@dataclass
class Call:
    """One command being run: its inputs and the means to answer it."""

    name: str
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

    def has(self, key: str) -> bool:
        return self.args.get(key) not in (None, "")

    def _get(self, key: str, required: bool) -> Any:
        value = self.args.get(key)
        if required and value in (None, ""):
            raise wire.missing(key)
        return value

    def int(self, key: str, *, required: bool = False) -> int:
        return wire.read_int(self._get(key, required), key)

    def id(self, key: str, *, required: bool = False) -> int | None:
        value = wire.read_id(self._get(key, required), key)
        if required and value is None:
            raise wire.invalid(key, self.args.get(key), "a valid id")
        return value

    def bool(self, key: str) -> bool:
        return wire.read_bool(self.args.get(key), key)

    def str(self, key: str, *, required: bool = False) -> str | None:
        return wire.read_str(self._get(key, required), key)

    def date(self, key: str, *, required: bool = False) -> dt.date | None:
        return wire.read_date(self._get(key, required), key)

    def time(self, key: str) -> dt.time | None:
        return wire.read_time(self.args.get(key), key)

    def obj(self, *keys: str, required: bool = True) -> Mapping[str, Any]:
        """The first of ``keys`` present, which must be an object."""
        for key in keys:
            value = self.args.get(key)
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


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    writes: bool


COMMANDS: dict[str, Command] = {}


def command(name: str, *, writes: bool = False) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        COMMANDS[name.lower()] = Command(name, fn, writes)
        return fn

    return register


def find(name: Any) -> Command | None:
    """Command names are matched without regard to case (the vendor's own
    spelling varies, e.g. ``GetSubscriptionsBylastChangeID``)."""
    if not isinstance(name, str):
        return None
    return COMMANDS.get(name.strip().lower())


# -- resume keys ---------------------------------------------------------------

def encode_resumekey(command_name: str, since: dt.datetime | None, after_id: int, filters: Mapping[str, Any]) -> str:
    """An opaque, self-contained cursor: the command, the sync's start point,
    the last id sent and the filters, so the client need not resend them."""
    payload = {
        "v": 1,
        "c": command_name.lower(),
        "s": since.isoformat() if since else None,
        "a": after_id,
        "f": dict(filters),
    }
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode_resumekey(key: Any, command_name: str) -> tuple[dt.datetime | None, int, dict[str, Any]]:
    try:
        if not isinstance(key, str):
            raise ValueError
        payload = orjson.loads(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)))
        if payload.get("v") != 1 or payload.get("c") != command_name.lower():
            raise ValueError
        since = dt.datetime.fromisoformat(payload["s"]) if payload["s"] else None
        after_id = int(payload["a"])
        filters = dict(payload.get("f") or {})
    except (ValueError, TypeError, KeyError, binascii.Error, orjson.JSONDecodeError):
        raise wire.CommandError("Invalid resumekey") from None
    return since, after_id, filters
