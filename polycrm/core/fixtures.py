"""Loading fixture records (JSON in the canonical model) into a tenant.

The file is one object of sections. Each item uses the core's field names;
keys the model has no column for go to ``extra``. References between items:

- ``"ref": "acme"`` names an item; ``"<field>_ref": "acme"`` points at it
  (``parent_ref``, ``customer_ref``, ``contact_ref``, ``product_ref``, ``user_ref``, ...);
- ``"user_ref": "me"`` names the user the file is loaded as (the tenant's
  admin for ``polycrm load`` and the demo tenant), so sample data can give
  that user calls of their own;
- ``"<field>_name": "Customer"`` points at a lookup entry by name (created if
  missing), e.g. ``"type_name"`` on a customer, ``"unit_name"`` on a product.

Opportunities are made by the core opportunity service, so they get the
defaults every API's opportunities get (registering user, status entry).

Sections: ``lookups`` (``{kind: [items]}``), the lookup shorthands in
:data:`LOOKUP_SECTIONS`, ``users``, ``customers``, ``contacts``, ``products``,
``activities``, ``opportunities``, ``quotes`` (with ``lines``), ``orders``
(with ``lines``), ``tickets``, the record shorthands in
:data:`RECORD_SECTIONS`, ``records`` (``{kind: [items]}``) and
``custom_fields`` (definitions: ``entity``, ``name``, optional ``slug``,
``field_type``, ``options``, ``required``, ``sortorder``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Float, Integer, Numeric

from polycrm.core import auth, lookups, opportunities
from polycrm.core import orders, quotes
from polycrm.core.errors import Invalid
from polycrm.core.models import (
    Activity, Contact, Customer, Lookup, Opportunity, Order, OrderLine, Product, Quote,
    QuoteLine, Record, Ticket, TenantScoped, User,
)
from polycrm.core.workspace import Workspace

LOOKUP_SECTIONS = {
    "customer_types": "customer_type",
    "industries": "industry",
    "maingroups": "maingroup",
    "customer_roles": "customer_role",
    "units": "unit",
    "product_groups": "product_group",
    "ma_events": "ma_event",
    "product_states": "product_state",
    "budget_areas": "budget_area",
    "activity_types": "activity_type",
    "stages": "stage",
    "tags": "tag",
}
RECORD_SECTIONS = {
    "procedures": "procedure",
    "subscriptions": "subscription",
    "depot_order_lines": "depot_order_line",
}
ENTITY_SECTIONS: dict[str, type[TenantScoped]] = {
    "users": User,
    "customers": Customer,
    "contacts": Contact,
    "products": Product,
    "activities": Activity,
    "opportunities": Opportunity,
    "quotes": Quote,
    "orders": Order,
    "tickets": Ticket,
}
_LINES = {Quote: (QuoteLine, "quote_id"), Order: (OrderLine, "order_id")}
_DOCUMENT_SERVICES = {Quote: (quotes.SERVICE, quotes.LINE_SERVICE), Order: (orders.SERVICE, orders.LINE_SERVICE)}
_REF_TARGETS = {
    "parent": Customer, "customer": Customer, "contact": Contact, "product": Product, "user": User,
    "user2": User, "opportunity": Opportunity, "superior": Contact, "quote": Quote, "order": Order,
}


# The ref naming the acting user (see the module docstring).
ACTING_USER_REF = "me"


class Loader:
    def __init__(self, ws: Workspace):
        self.ws = ws
        self.refs: dict[tuple[str, str], int] = {}
        if ws.user_id:
            self.refs[(User.__tablename__, ACTING_USER_REF)] = ws.user_id
        self.counts: dict[str, int] = {}

    def load(self, data: Mapping[str, Any]) -> dict[str, int]:
        if not isinstance(data, Mapping):
            raise Invalid("a fixture file holds one JSON object of sections")
        known = {"lookups", "records", "custom_fields", *LOOKUP_SECTIONS, *RECORD_SECTIONS, *ENTITY_SECTIONS}
        unknown = sorted(set(data) - known)
        if unknown:
            raise Invalid(f"unknown fixture sections: {', '.join(unknown)}")
        for kind, items in (data.get("lookups") or {}).items():
            self._lookups(lookups.check_kind(kind), items)
        for section, kind in LOOKUP_SECTIONS.items():
            self._lookups(kind, data.get(section) or [])
        for item in data.get("custom_fields") or []:
            self._custom_field(item)
        for section, model in ENTITY_SECTIONS.items():
            for item in data.get(section) or []:
                self._entity(model, item)
                self.counts[section] = self.counts.get(section, 0) + 1
        for section, kind in RECORD_SECTIONS.items():
            self._records(kind, data.get(section) or [])
        for kind, items in (data.get("records") or {}).items():
            self._records(kind, items)
        self.ws.flush()
        return self.counts

    # -- sections ----------------------------------------------------------
    def _lookups(self, kind: str, items: list[Any]) -> None:
        # New entries follow the ones the list already has.
        start = max((e.sortorder for e in lookups.items(self.ws, kind)), default=0)
        for order, item in enumerate(items, start=start + 1):
            if isinstance(item, str):
                item = {"name": item}
            item = dict(item)
            ref = item.get("ref")
            parent = item.pop("parent", None)
            values = self._values(Lookup, item)
            values.setdefault("sortorder", order)
            values["kind"] = kind
            if parent:
                found = lookups.by_name(self.ws, kind, parent, create=True)
                values["parent_id"] = found.id
            existing = lookups.by_name(self.ws, kind, values.get("name", ""))
            entry = lookups.save(self.ws, kind, values, existing)
            self._remember(ref, "lookup:" + kind, entry.id)
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def _custom_field(self, item: Mapping[str, Any]) -> None:
        from polycrm.core import custom_fields

        item = dict(item)
        entity, name = item.pop("entity", None), item.pop("name", None)
        if not entity or not name:
            raise Invalid("a custom field needs an entity and a name")
        unknown = sorted(set(item) - {"slug", "field_type", "options", "required", "sortorder"})
        if unknown:
            raise Invalid(f"unknown custom field keys: {', '.join(unknown)}")
        existing = custom_fields.by_slug(self.ws, entity, custom_fields.slugify(item.get("slug") or name))
        if existing is None:
            custom_fields.define(self.ws, entity, name, **item)
        self.counts["custom_fields"] = self.counts.get("custom_fields", 0) + 1

    def _records(self, kind: str, items: list[Mapping[str, Any]]) -> None:
        for item in items:
            ref = item.get("ref")
            values = self._values(Record, dict(item))
            values["kind"] = kind
            obj = self.ws.create(Record, values)
            self._remember(ref, "record:" + kind, obj.id)
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def _entity(self, model: type[TenantScoped], item: Mapping[str, Any]) -> TenantScoped:
        item = dict(item)
        ref = item.get("ref")
        lines = item.pop("lines", None)
        password = item.pop("password", None)
        values = self._values(model, item)
        if model is User:
            values.setdefault("username", values.get("email") or f"user{len(self.refs) + 1}")
            if password:
                values["password_hash"] = auth.hash_password(password)
        if model is Opportunity:
            # The defaults every API's opportunities get (registering user, status).
            obj = opportunities.create(self.ws, values)
        elif model in _DOCUMENT_SERVICES:
            # Numbers, statuses and references as every API's quotes and orders get them.
            obj = _DOCUMENT_SERVICES[model][0].create(self.ws, values)
        else:
            obj = self.ws.create(model, values)
        self._remember(ref, model.__tablename__, obj.id)
        if lines and model in _LINES:
            line_model, fk = _LINES[model]
            entries = [(None, self._values(line_model, dict(line))) for line in lines]
            # Through the document's line service, so its price is the sum of its lines.
            _DOCUMENT_SERVICES[model][1].replace(self.ws, obj, entries)
        return obj

    # -- values ------------------------------------------------------------
    def _remember(self, ref: Any, space: str, id_: int) -> None:
        if ref is not None:
            self.refs[(space, str(ref))] = id_

    def _values(self, model: type[TenantScoped], item: dict[str, Any]) -> dict[str, Any]:
        item.pop("ref", None)
        item.pop("id", None)
        cols = model.__table__.columns
        kinds = lookups.LOOKUP_FIELDS.get(model, {})
        values: dict[str, Any] = {}
        extra: dict[str, Any] = dict(item.pop("extra", None) or {})
        for key, value in item.items():
            if key.endswith("_ref") and key[:-4] in _REF_TARGETS:
                target = _REF_TARGETS[key[:-4]]
                id_ = self.refs.get((target.__tablename__, str(value)))
                if id_ is None:
                    raise Invalid(f"{key} {value!r} names no earlier item")
                values[key[:-4] + "_id"] = id_
            elif key.endswith("_name") and key[:-5] + "_id" in kinds:
                kind = kinds[key[:-5] + "_id"]
                values[key[:-5] + "_id"] = lookups.by_name(self.ws, kind, str(value), create=True).id
            elif key in cols and key not in ("tenant_id", "extra"):
                values[key] = coerce(cols[key].type, value, key)
            else:
                extra[key] = value
        if extra:
            values["extra"] = extra
        return values


def coerce(sqltype: Any, value: Any, key: str) -> Any:
    """Turn a JSON value into what a column of ``sqltype`` stores."""
    if value is None:
        return None
    try:
        if isinstance(sqltype, Boolean):
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
        if isinstance(sqltype, DateTime):
            return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value).replace("Z", ""))
        if isinstance(sqltype, Date):
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
        if isinstance(sqltype, Numeric) and not isinstance(sqltype, Float):
            return Decimal(str(value))
        if isinstance(sqltype, Float):
            return float(value)
        if isinstance(sqltype, Integer):
            return int(value)
    except (TypeError, ValueError, ArithmeticError):
        raise Invalid(f"{key}: {value!r} is not a valid value", field=key) from None
    return value


def load(ws: Workspace, data: Mapping[str, Any]) -> dict[str, int]:
    """Load one fixture document into the workspace's tenant."""
    return Loader(ws).load(data)
