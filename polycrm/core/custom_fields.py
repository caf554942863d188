"""Custom fields: definitions per entity (and profile) and their values.

A field (:class:`~polycrm.core.models.CustomField`) belongs to one entity
(``customer``, ``contact``, ``product``, ``opportunity``, ... : the core table
names) and either to one profile or, with ``profile_id`` NULL, to the whole
tenant. Values (:class:`~polycrm.core.models.CustomValue`) are stored as text
and handed out typed by the field's type. Callers address fields by ``slug``,
which is unique per entity within what one profile can see.

Every API that shows custom fields (centia inputs, Cirrus dynamic fields)
goes through this module, so a value written through one is read by all.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select, true

from polycrm.core.errors import Conflict, Invalid, NotFound
from polycrm.core.models import ENTITIES, CustomField, CustomValue
from polycrm.core.service import Service, Write
from polycrm.core.workspace import Workspace

FIELD_TYPES = ("text", "textarea", "number", "date", "boolean", "select", "multiselect")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def check_entity(entity: str) -> str:
    if entity not in ENTITIES:
        raise Invalid(f"custom fields cannot be defined on {entity!r}", field="entity")
    return entity


def slugify(name: str) -> str:
    """An ASCII key from a name: ``"Größe & Co."`` -> ``"grosse_co"``."""
    text = unicodedata.normalize("NFKD", (name or "").casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    slug = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    return slug[:100] or "field"


# -- definitions -------------------------------------------------------------
def query(entity: str, profile_id: int | None = None) -> Any:
    """Select the live fields of an entity a profile sees (its own and shared)."""
    stmt = select(CustomField).where(CustomField.entity == check_entity(entity), CustomField.deleted.is_(False))
    if profile_id is not None:
        stmt = stmt.where((CustomField.profile_id == profile_id) | CustomField.profile_id.is_(None))
    return stmt.order_by(CustomField.sortorder, CustomField.id)


def fields(ws: Workspace, entity: str, profile_id: int | None = None) -> list[CustomField]:
    return ws.scalars(query(entity, profile_id))


def by_slug(ws: Workspace, entity: str, slug: str, profile_id: int | None = None) -> CustomField | None:
    for field in fields(ws, entity, profile_id):
        if field.slug == slug:
            return field
    return None


def _definition_rule(write: Write) -> None:
    """A field belongs to a known entity, has a name and a known type; its
    slug (from the name unless given) is unique among the fields one profile
    sees on that entity. Entity, slug and type are fixed once created."""
    values = write.values
    if not write.creating:
        fixed = sorted(k for k in values if k in ("entity", "slug", "field_type", "profile_id"))
        if fixed:
            raise Invalid(f"cannot change {', '.join(fixed)} of a custom field", field=fixed[0])
    else:
        check_entity(values.get("entity"))
        field_type = values.setdefault("field_type", "text")
        if field_type not in FIELD_TYPES:
            raise Invalid(f"field type must be one of {', '.join(FIELD_TYPES)}", field="field_type")
    if (write.creating or write.given("name")) and not str(write.get("name") or "").strip():
        raise Invalid("a custom field needs a name", field="name")
    if write.given("name"):
        values["name"] = values["name"].strip()
    if write.given("options"):
        values["options"] = [str(o) for o in values["options"] or ()]
    if write.given("required"):
        values["required"] = bool(values["required"])
    if write.creating:
        values["slug"] = slug = slugify(values.get("slug") or values["name"])
        profile_id = values.get("profile_id")
        entity = values["entity"]
        clash = write.ws.first(
            select(CustomField).where(
                CustomField.entity == entity,
                CustomField.slug == slug,
                CustomField.deleted.is_(False),
                # A shared field clashes with every profile's; a profile field with its own and the shared ones.
                (CustomField.profile_id.is_(None) | (CustomField.profile_id == profile_id))
                if profile_id is not None
                else true(),
            )
        )
        if clash is not None:
            raise Conflict(f"custom field {slug!r} already exists on {entity}", field="slug")


def _drop_values(write: Write) -> None:
    """A retired field's values go with it."""
    if not write.creating and write.values.get("deleted"):
        for value in write.ws.scalars(select(CustomValue).where(CustomValue.field_id == write.obj.id)):
            write.ws.delete(value)
        write.changed = True


# Definitions: every API and page defines, changes and retires a field through this service.
SERVICE: Service[CustomField] = Service(
    CustomField, "custom field", defaults={"options": [], "required": False, "sortorder": 0, "extra": {}},
    rules=[_definition_rule], after=[_drop_values],
)


def define(
    ws: Workspace,
    entity: str,
    name: str,
    *,
    slug: str | None = None,
    field_type: str = "text",
    options: Iterable[Any] = (),
    required: bool = False,
    profile_id: int | None = None,
    sortorder: int = 0,
    extra: Mapping[str, Any] | None = None,
) -> CustomField:
    """Create a field definition; the slug defaults to the name, slugified (see :data:`SERVICE`)."""
    return SERVICE.create(ws, {
        "entity": entity, "name": name, "slug": slug, "field_type": field_type, "options": list(options),
        "required": required, "profile_id": profile_id, "sortorder": sortorder, "extra": dict(extra or {}),
    })


def update(ws: Workspace, field: CustomField, values: Mapping[str, Any]) -> bool:
    """Change a definition's name, options, required flag, order or extra settings."""
    unknown = set(values) - {"name", "options", "required", "sortorder", "extra"}
    if unknown:
        raise Invalid(f"cannot change {', '.join(sorted(unknown))} of a custom field")
    return SERVICE.update(ws, field, values)


def remove(ws: Workspace, field: CustomField) -> None:
    """Retire a field; its values go with it."""
    SERVICE.update(ws, field, {"deleted": True})


# -- values --------------------------------------------------------------------
def encode(field: CustomField, value: Any) -> str | None:
    """Validate a value for a field and turn it into its stored text."""
    if value is None or (isinstance(value, str) and value.strip() == "" and field.field_type != "text"):
        return None
    kind = field.field_type
    try:
        if kind == "number":
            if isinstance(value, bool):
                raise ValueError
            number = Decimal(str(value).strip().replace(",", "."))
            if not number.is_finite():
                raise ValueError
            return format(number.normalize(), "f")
        if kind == "boolean":
            text = str(value).strip().casefold()
            if isinstance(value, bool):
                return "1" if value else "0"
            if text in _TRUE:
                return "1"
            if text in _FALSE:
                return "0"
            raise ValueError
        if kind == "date":
            return dt.date.fromisoformat(str(value).strip()[:10]).isoformat()
        if kind == "select":
            text = str(value)
            if field.options and text not in field.options:
                raise ValueError
            return text
        if kind == "multiselect":
            items = value if isinstance(value, list) else [v for v in str(value).split(",") if v]
            items = [str(v).strip() for v in items]
            if field.options and any(v not in field.options for v in items):
                raise ValueError
            return ",".join(items)
    except (ValueError, InvalidOperation, TypeError):
        raise Invalid(f"invalid value for {field.slug}: {value!r}", field=field.slug) from None
    text = value if isinstance(value, str) else str(value)
    if len(text) > 1000:
        raise Invalid(f"{field.slug} is longer than 1000 characters", field=field.slug)
    return text


def decode(field: CustomField, text: str | None) -> Any:
    """The typed value of stored text: numbers as int/float, booleans as bool."""
    if text is None:
        return None
    kind = field.field_type
    if kind == "number":
        number = Decimal(text)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "boolean":
        return text == "1"
    if kind == "multiselect":
        return [v for v in text.split(",") if v]
    return text


def set_values(
    ws: Workspace,
    entity: str,
    entity_id: int,
    values: Mapping[str, Any],
    *,
    profile_id: int | None = None,
    creating: bool = False,
) -> None:
    """Write values by slug; on create, every required field must get one.

    An unknown slug is an error (nothing is written); ``None`` clears a value.
    """
    if not isinstance(values, Mapping):
        raise Invalid("custom field values must be an object of slug: value", field="inputs")
    known = {f.slug: f for f in fields(ws, entity, profile_id)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise Invalid(f"unknown input: {', '.join(unknown)}", field=unknown[0])
    encoded = {slug: encode(known[slug], value) for slug, value in values.items()}
    if creating:
        missing = [f.slug for f in known.values() if f.required and encoded.get(f.slug) is None]
        if missing:
            raise Invalid(f"missing required input: {', '.join(missing)}", field=missing[0])
    if not encoded:
        return
    ids = [known[slug].id for slug in encoded]
    stored = {
        v.field_id: v
        for v in ws.scalars(select(CustomValue).where(CustomValue.field_id.in_(ids), CustomValue.entity_id == entity_id))
    }
    for slug, text in encoded.items():
        field = known[slug]
        current = stored.get(field.id)
        if current is None:
            if text is not None:
                ws.create(CustomValue, field_id=field.id, entity_id=entity_id, value=text)
        elif text is None:
            ws.delete(current)
        else:
            ws.update(current, {"value": text})


def values(ws: Workspace, entity: str, entity_id: int, profile_id: int | None = None) -> dict[str, Any]:
    """``{slug: value}`` of one record, every visible field present (None when unset)."""
    return bulk_values(ws, entity, [entity_id], profile_id)[entity_id]


def bulk_values(
    ws: Workspace, entity: str, entity_ids: Iterable[int], profile_id: int | None = None
) -> dict[int, dict[str, Any]]:
    """``{record id: {slug: value}}`` for many records in a few queries."""
    ids = sorted({int(i) for i in entity_ids})
    defs = fields(ws, entity, profile_id)
    result = {i: {f.slug: None for f in defs} for i in ids}
    if not defs or not ids:
        return result
    by_id = {f.id: f for f in defs}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        stmt = select(CustomValue.field_id, CustomValue.entity_id, CustomValue.value).where(
            CustomValue.field_id.in_(list(by_id)), CustomValue.entity_id.in_(chunk)
        )
        for row in ws.rows(stmt):
            field = by_id[row["field_id"]]
            result[row["entity_id"]][field.slug] = decode(field, row["value"])
    return result


def require(ws: Workspace, field_id: Any) -> CustomField:
    field = ws.get(CustomField, field_id, include_deleted=False)
    if field is None:
        raise NotFound(f"custom field {field_id} not found")
    return field
