"""Core errors; each face translates them into its vendor's error envelope."""

from __future__ import annotations

from collections.abc import Mapping


class CoreError(Exception):
    """Base of every error a core service raises on purpose."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(CoreError):
    """A referenced record does not exist in this tenant."""


class Invalid(CoreError):
    """Input that breaks a rule (missing, malformed or out of range)."""


class Conflict(CoreError):
    """The request contradicts the current state."""


class Forbidden(CoreError):
    """The caller may not do this (wrong tenant, profile or rights)."""


def renamed(exc: CoreError, names: Mapping[str, str]) -> CoreError:
    """The same error naming its field as a face does (``names``: core field ->
    wire field): the field and a message that starts with it are renamed.
    An error of a field not in ``names`` is returned as it is."""
    wire = names.get(exc.field or "")
    if wire is None:
        return exc
    # A copy of the same class and attributes (e.g. a taken number's holder),
    # made without calling a subclass's own __init__.
    out = type(exc).__new__(type(exc))
    out.__dict__.update(exc.__dict__)
    if exc.message.startswith(f"{exc.field} "):
        out.message = wire + exc.message[len(exc.field or ""):]
    out.args = (out.message,)
    out.field = wire
    return out


class TenancyError(RuntimeError):
    """A query ran without a tenant: a programming error, never user input."""


def located(exc: CoreError, where: str) -> CoreError:
    """The same error with ``where`` (a row of a file: "customers item 12",
    "line 7") in front of its message; an error located already is returned
    as it is, so that the innermost place names it."""
    if getattr(exc, "where", None):
        return exc
    out = type(exc).__new__(type(exc))
    out.__dict__.update(exc.__dict__)
    out.where = where
    out.message = f"{where}: {exc.message}"
    out.args = (out.message,)
    return out
