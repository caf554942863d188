"""Cirrus errors in Flask-RESTX form, and core errors said in Cirrus words.

:class:`ApiError` is an error response; :class:`FieldError` a body field a
writer refuses. A core rule names the core field it refused (``type_id``,
``parent_id``); :class:`CirrusService` answers in Cirrus's own words: a
reference that does not exist is a 404 ``"<Label> <id> not found"`` naming
the wire field, any other refusal a 400 validation error naming it. Errors
of fields a table does not name are left to :func:`core_error`, the
generic translation the endpoint applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from polycrm.core.errors import Conflict, CoreError, Forbidden, Invalid, NotFound, renamed
from polycrm.core.workspace import Workspace


class ApiError(Exception):
    """An error response in Flask-RESTX form."""

    def __init__(self, status: int, message: str, errors: Mapping[str, str] | None = None,
                 headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        if self.errors:
            return {"errors": self.errors, "message": self.message}
        return {"message": self.message}


VALIDATION_FAILED = "Input payload validation failed"


def invalid(errors: Mapping[str, str]) -> ApiError:
    return ApiError(400, VALIDATION_FAILED, errors)


def not_found(label: str, id_: Any) -> ApiError:
    return ApiError(404, f"{label} {id_} not found")


class FieldError(Exception):
    """A body field that is well formed but unusable (e.g. an unknown reference)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def core_error(exc: CoreError) -> ApiError:
    """A core refusal no entity table renamed, as a Cirrus error."""
    if isinstance(exc, NotFound):
        return ApiError(404, exc.message, {exc.field: exc.message} if exc.field else None)
    if isinstance(exc, Invalid):
        return invalid({exc.field or "payload": exc.message})
    if isinstance(exc, Conflict):
        return ApiError(409, exc.message)
    if isinstance(exc, Forbidden):
        return ApiError(403, exc.message)
    return ApiError(400, exc.message)


# -- core fields named as wire fields ------------------------------------------
@dataclass(frozen=True)
class WireField:
    """How Cirrus names one core field in its errors."""

    name: str
    # What a missing reference is called in a 404 ("Account type", "User").
    label: str | None = None


class CirrusService:
    """Wraps a :class:`polycrm.core.service.Service` for ``Entity(service=...)``."""

    def __init__(self, service: Any, fields: Mapping[str, WireField]):
        self.service = service
        self.fields = dict(fields)

    def create(self, ws: Workspace, values: Mapping[str, Any], **context: Any) -> Any:
        try:
            return self.service.create(ws, values, **context)
        except CoreError as exc:
            raise self.translate(exc, values) from None

    def update(self, ws: Workspace, obj: Any, values: Mapping[str, Any], **context: Any) -> bool:
        try:
            return self.service.update(ws, obj, values, **context)
        except CoreError as exc:
            raise self.translate(exc, values) from None

    def translate(self, exc: CoreError, values: Mapping[str, Any]) -> Exception:
        wire = self.fields.get(exc.field or "")
        if wire is None:
            return exc
        if isinstance(exc, NotFound) and wire.label:
            message = f"{wire.label} {values.get(exc.field or '')} not found"
            return ApiError(404, message, {wire.name: message})
        return invalid({wire.name: renamed(exc, {exc.field or "": wire.name}).message})
