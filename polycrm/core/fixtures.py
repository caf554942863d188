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

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Float, Integer, Numeric

from polycrm.core import auth, lookups, opportunities
from polycrm.core import orders, quotes
from polycrm.core.bulk import CustomerBatches
from polycrm.core.errors import CoreError, Invalid, located
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


class MappingSource:
    """A fixture document already in memory (one dict of sections)."""

    def __init__(self, data: Mapping[str, Any]):
        if not isinstance(data, Mapping):
            raise Invalid("a fixture file holds one JSON object of sections")
        self.data = data
        self.sections = list(data)

    def items(self, section: str) -> Iterable[tuple[str, Any]]:
        """The section's items, each with the place an error names."""
        return ((f"{section} item {i}", item) for i, item in enumerate(self.data.get(section) or [], start=1))

    def kinds(self, section: str) -> Iterable[tuple[str, list[Any]]]:
        """``{kind: [items]}`` of the ``lookups`` and ``records`` sections."""
        return (self.data.get(section) or {}).items()


# Items between two calls of a loader's progress callback.
PROGRESS_EVERY = 500


class Loader:
    """Loads the sections of a source into one workspace.

    A source has ``sections`` (the names present), ``items(section)`` (pairs
    of a place such as "customers item 3" and the item) and ``kinds(section)``.
    Customers are written set-wise through :class:`polycrm.core.bulk.CustomerBatches`;
    every other item through its core service, one at a time. An error is
    raised naming the item's place; the workspace's rollback then leaves
    nothing of the load.
    """

    def __init__(self, ws: Workspace, progress: Callable[[str, int], None] | None = None):
        self.ws = ws
        self.refs: dict[tuple[str, str], int] = {}
        if ws.user_id:
            self.refs[(User.__tablename__, ACTING_USER_REF)] = ws.user_id
        self.counts: dict[str, int] = {}
        self.progress = progress
        # Its connection is used here only for lookups, which wait for the index thread first.
        self.customers = CustomerBatches(ws, index_thread=True)
        self._lookup_ids: dict[tuple[str, str], int] = {}

    def load(self, data: Mapping[str, Any]) -> dict[str, int]:
        return self.load_source(MappingSource(data))

    def load_source(self, source: Any) -> dict[str, int]:
        present = set(source.sections)
        known = {"lookups", "records", "custom_fields", *LOOKUP_SECTIONS, *RECORD_SECTIONS, *ENTITY_SECTIONS}
        unknown = sorted(present - known)
        if unknown:
            raise Invalid(f"unknown fixture sections: {', '.join(unknown)}")
        if "lookups" in present:
            for kind, items in source.kinds("lookups"):
                self._lookups(lookups.check_kind(kind), _placed(f"lookups.{kind}", items))
        for section, kind in LOOKUP_SECTIONS.items():
            if section in present:
                self._lookups(kind, source.items(section))
        if "custom_fields" in present:
            for where, item in source.items("custom_fields"):
                with _at(where):
                    self._custom_field(item)
        for section, model in ENTITY_SECTIONS.items():
            if section not in present:
                continue
            done = 0
            if model is Customer:
                self.customers.expected_rows = lambda: _rows_expected(source, section, done + 1)
            try:
                for where, item in source.items(section):
                    with _at(where):
                        self._entity(model, item, where)
                    done += 1
                    if self.progress is not None and done % PROGRESS_EVERY == 0:
                        self.progress(section, done)
                if model is Customer:
                    self.customers.finish()
            except BaseException:
                if model is Customer:
                    with contextlib.suppress(Exception):  # the load's own error is the one to report
                        self.customers.release()
                raise
            if done:
                self.counts[section] = self.counts.get(section, 0) + done
            if self.progress is not None:
                self.progress(section, done)
        for section, kind in RECORD_SECTIONS.items():
            if section in present:
                self._records(kind, source.items(section))
        if "records" in present:
            for kind, items in source.kinds("records"):
                self._records(kind, _placed(f"records.{kind}", items))
        self.ws.flush()
        return self.counts

    # -- sections ----------------------------------------------------------
    def _lookups(self, kind: str, items: Iterable[tuple[str, Any]]) -> None:
        # New entries follow the ones the list already has.
        start = max((e.sortorder for e in lookups.items(self.ws, kind)), default=0)
        for order, (where, item) in enumerate(items, start=start + 1):
            with _at(where):
                self._lookup(kind, order, item)
        if kind == "customer_type":
            self.customers.default_type_changed()

    def _lookup(self, kind: str, order: int, item: Any) -> None:
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

    def _records(self, kind: str, items: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        for where, item in items:
            with _at(where):
                self._record(kind, item)

    def _record(self, kind: str, item: Mapping[str, Any]) -> None:
        ref = item.get("ref")
        values = self._values(Record, dict(item))
        values["kind"] = kind
        obj = self.ws.create(Record, values)
        self._remember(ref, "record:" + kind, obj.id)
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def _entity(self, model: type[TenantScoped], item: Mapping[str, Any], where: str) -> None:
        item = dict(item)
        ref = item.get("ref")
        lines = item.pop("lines", None)
        password = item.pop("password", None)
        values = self._values(model, item)
        if model is User:
            values.setdefault("username", values.get("email") or f"user{len(self.refs) + 1}")
            if password:
                values["password_hash"] = auth.hash_password(password)
        if model is Customer:
            # Set-wise, a batch at a time, with the customer service's rules.
            self._remember(ref, model.__tablename__, self.customers.add(values, where))
            return
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

    # -- values ------------------------------------------------------------
    def _lookup_id(self, kind: str, name: str) -> int:
        """The entry named ``name`` of list ``kind`` (created if missing), looked up once per load."""
        found = self._lookup_ids.get((kind, name))
        if found is None:
            self.customers.wait()  # the load's connection is the customers' index thread's meanwhile
            found = self._lookup_ids[(kind, name)] = lookups.by_name(self.ws, kind, name, create=True).id
            if kind == "customer_type":
                self.customers.default_type_changed()
        return found

    def _remember(self, ref: Any, space: str, id_: int) -> None:
        if ref is not None:
            self.refs[(space, str(ref))] = id_

    def _values(self, model: type[TenantScoped], item: dict[str, Any]) -> dict[str, Any]:
        item.pop("ref", None)
        item.pop("id", None)
        cols = _column_types(model)
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
                values[key[:-5] + "_id"] = self._lookup_id(kinds[key[:-5] + "_id"], str(value))
            elif key in cols:
                sqltype = cols[key]
                values[key] = value if sqltype is None else coerce(sqltype, value, key)
            else:
                extra[key] = value
        if extra:
            values["extra"] = extra
        return values


_COLUMN_TYPES: dict[type, dict[str, Any]] = {}
_CONVERTED = (Boolean, Date, DateTime, Numeric, Float, Integer)


def _column_types(model: type[TenantScoped]) -> dict[str, Any]:
    """Column key -> the type :func:`coerce` converts to, or None where it keeps the value (text, JSON)."""
    found = _COLUMN_TYPES.get(model)
    if found is None:
        found = _COLUMN_TYPES[model] = {
            c.key: (c.type if isinstance(c.type, _CONVERTED) else None)
            for c in model.__table__.columns if c.key not in ("tenant_id", "extra")
        }
    return found


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


def _rows_expected(source: Any, section: str, done: int) -> int:
    """About how many items ``section`` has, once ``done`` are read: a section in memory says;
    for a file, from how far into it they took the pass (as if the section filled the file)."""
    data = getattr(source, "data", None)
    if data is not None:
        return len(data.get(section) or ())
    position = source.position()
    return done * source.size // position if position else done


def load(ws: Workspace, data: Mapping[str, Any]) -> dict[str, int]:
    """Load one fixture document into the workspace's tenant."""
    return Loader(ws).load(data)


def _placed(section: str, items: Iterable[Any] | None) -> Iterable[tuple[str, Any]]:
    return ((f"{section} item {i}", item) for i, item in enumerate(items or [], start=1))


@contextlib.contextmanager
def _at(where: str) -> Iterator[None]:
    """Name the item an error comes from."""
    try:
        yield
    except CoreError as exc:
        raise located(exc, where) from None
