"""A core service as a Cirrus entity uses it: its errors name Cirrus wire fields.

A core rule names the core field it refused (``type_id``, ``parent_id``);
Cirrus answers in its own words: a reference that does not exist is a 404
``"<Label> <id> not found"`` naming the wire field, any other refusal a 400
validation error naming it. Errors of fields a table does not name are
left to the server's generic translation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from polycrm.core.errors import CoreError, NotFound, renamed
from polycrm.core.workspace import Workspace
from polycrm.faces.cirrus.framework import ApiError, invalid


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
