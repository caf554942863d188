"""Field maps: how each centia object maps onto the core model.

A :class:`Field` names a wire key, the core path it lives at (dotted paths
reach into JSON columns) and how its value converts. The same map drives
input (parameter specs, conversion, reference checks) and output.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from polycrm.core import profiles
from polycrm.core.models import Contact, Customer, Opportunity, Product, Profile, TenantScoped, Ticket
from polycrm.core.workspace import Workspace, get_path
from polycrm.faces.centia import wire
from polycrm.faces.centia.wire import DMY, ISO, Param


@dataclass(frozen=True)
class Field:
    """One wire field.

    ``kind``: ``str``, ``int``, ``float`` (money), ``bool``, ``date``, ``datetime``,
    ``lookup`` (an id into the ``lookup`` list of the profile), ``lookups``
    (an array of such ids), ``enum``, ``ref`` (an id the core service checks).
    ``writable`` fields become parameters of the Create/Edit methods.
    """

    wire: str
    core: str
    kind: str = "str"
    lookup: str | None = None
    required: bool = False
    writable: bool = True
    choices: tuple[str, ...] = ()
    fmt: str = DMY
    # The length limit of a text kept inside a JSON column (a column's own limit applies otherwise).
    limit: int | None = None

    def param(self) -> Param:
        kinds = {"lookup": "int", "ref": "int", "lookups": "ids", "datetime": "date"}
        return Param(self.wire, kinds.get(self.kind, self.kind), self.required, self.choices, self.fmt)


@dataclass(frozen=True)
class ObjectMap:
    """The fields of one centia object and the core model they live in."""

    model: type[TenantScoped]
    fields: tuple[Field, ...]

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def max_length(self, f: Field) -> int | None:
        """The length limit of a string field: its own, else its column's (JSON parts have none)."""
        if f.limit is not None:
            return f.limit
        column = self.model.__table__.columns.get(f.core)
        return getattr(column.type, "length", None) if column is not None else None


def ro(wire_name: str, core: str, kind: str = "str") -> Field:
    return Field(wire_name, core, kind, writable=False)


COMMON_HEAD = (ro("id", "id", "int"), ro("profile_id", "profile_id", "int"))
COMMON_TAIL = (ro("created_at", "created_at", "datetime"), ro("updated_at", "changed_at", "datetime"))

COMPANY = ObjectMap(Customer, (
    *COMMON_HEAD,
    Field("client_number", "number"),
    Field("name", "name", required=True),
    Field("type_id", "type_id", "lookup", "customer_type", required=True),
    Field("industry_id", "industry_id", "lookup", "industry", required=True),
    Field("website", "www"),
    Field("phone", "phone"),
    # The name invoices are addressed to: the invoice address's name, which
    # Microbizz shows as ``invoicename`` and Cirrus as ``addresses.invoice.name``.
    Field("billing_name", "addresses.invoice.name", limit=255),
    Field("rfc", "extra.rfc"),
    ro("user_id", "user_id", "int"),
    *COMMON_TAIL,
))

CONTACT = ObjectMap(Contact, (
    *COMMON_HEAD,
    Field("company_id", "customer_id", "ref", required=True),
    Field("name", "name", required=True),
    Field("surname", "surname", required=True),
    Field("mother_surname", "mother_surname"),
    Field("title_id", "title_id", "lookup", "contact_title"),
    Field("origin_id", "origin_id", "lookup", "contact_origin", required=True),
    Field("position_id", "position_id", "lookup", "contact_position"),
    Field("department_id", "department_id", "lookup", "contact_department"),
    Field("phone_office", "phone"),
    Field("phone_office_extension", "phone_extension"),
    Field("phone_mobile", "cellphone"),
    Field("phone_other", "phone_other"),
    Field("email", "email"),
    Field("skype", "extra.skype"),
    Field("linkedin", "extra.linkedin"),
    Field("twitter", "extra.twitter"),
    *COMMON_TAIL,
))

ASSISTANT = (
    Param("name", "str", True),
    Param("surname", "str", True),
    Param("mother_surname"),
    Param("phone_office"),
    Param("phone_office_extension"),
    Param("email"),
    Param("skype"),
    Param("linkedin"),
)

PRODUCT = ObjectMap(Product, (
    *COMMON_HEAD,
    Field("name", "name", required=True),
    Field("short_name", "short_name"),
    Field("value", "price", "float", required=True),
    # centia's only product code: the product number, Microbizz ``productnumber``, Cirrus ``number``.
    Field("sku", "number"),
    Field("description", "description"),
    Field("profile_currency_type_id", "extra.currency_type_id"),
    Field("product_discount_id", "extra.discount_id", "lookup", "product_discount"),
    Field("product_validity_id", "extra.validity_id", "lookup", "product_validity"),
    Field("product_measury_id", "unit_id", "lookup", "unit"),
    Field("product_category_id", "group_id", "lookup", "product_group"),
    Field("taxes", "extra.tax_ids", "lookups", "tax"),
    *COMMON_TAIL,
))

OPPORTUNITY = ObjectMap(Opportunity, (
    *COMMON_HEAD,
    Field("user_id", "user_id", "ref", required=True),
    Field("title", "title", required=True),
    Field("value", "value", "float", required=True),
    ro("status", "status"),
    Field("stage_id", "stage_id", "lookup", "stage", required=True),
    Field("company_id", "customer_id", "ref", required=True),
    Field("contact_id", "contact_id", "ref", required=True),
    Field("campaign_id", "extra.campaign_id"),
    Field("prospect_type", "extra.prospect_type", "enum", required=True, choices=("new", "existing")),
    Field("operation_type", "extra.operation_type", "enum", required=True, choices=("new", "renew")),
    Field("want_products", "extra.want_products", "bool", required=True),
    Field("want_tax", "extra.want_tax", "bool", required=True),
    Field("estimated_end_at", "estimated_end", "date", required=True),
    Field("comment", "extra.comment"),
    ro("closed_at", "closed_at", "datetime"),
    *COMMON_TAIL,
))

LINE = (
    Param("product_id", "int", True),
    Param("amount", "float", True),
    Param("price", "float", True),
    Param("discount", "float"),
    Param("tax", "float"),
    Param("total", "float"),
)

TICKET = ObjectMap(Ticket, (
    *COMMON_HEAD,
    Field("title", "title", required=True),
    Field("description", "description", required=True),
    Field("company_id", "customer_id", "ref", required=True),
    Field("contact_id", "contact_id", "ref"),
    Field("opportunity_id", "opportunity_id", "ref"),
    Field("user_id", "user_id", "ref", required=True),
    Field("origin_id", "origin_id", "lookup", "ticket_origin", required=True),
    Field("case_id", "case_id", "lookup", "ticket_case", required=True),
    Field("priority_id", "priority_id", "lookup", "priority", required=True),
    Field("estimated_end_at", "estimated_end", "date", required=True, fmt=ISO),
    ro("status", "status"),
    Field("comment", "extra.comment"),
    *COMMON_TAIL,
))


def params(fields: ObjectMap, *, required: bool = True) -> list[Param]:
    """The parameters a Create method takes for a field map."""
    out = []
    for f in fields:
        if f.writable:
            p = f.param()
            out.append(p if required else Param(p.name, p.kind, False, p.choices, p.fmt))
    return out


def to_core(ws: Workspace, profile: Profile, fields: ObjectMap, args: Mapping[str, Any]) -> dict[str, Any]:
    """Core values for the writable fields present in ``args``; lookups and lengths are checked."""
    values: dict[str, Any] = {}
    for f in fields:
        if not f.writable or f.wire not in args:
            continue
        value = args[f.wire]
        if f.kind == "lookup":
            value = profiles.lookup_ref(ws, profile, f.lookup, value, f.wire)
            if value is None and f.required:
                raise wire.ApiError(f"missing required parameter: {f.wire}")
        elif f.kind == "lookups":
            value = [profiles.lookup_ref(ws, profile, f.lookup, v, f.wire) for v in value]
        elif f.kind == "str" and isinstance(value, str):
            value = value.strip() or None
            limit = fields.max_length(f)
            if value is not None and limit is not None and len(value) > limit:
                raise wire.invalid(f.wire, f"longer than {limit} characters")
        values[f.core] = value
    return values


def to_wire(obj: Any, fields: Sequence[Field]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        value = get_path(obj, f.core)
        if f.kind == "datetime":
            value = wire.out_datetime(value)
        elif f.kind == "date":
            value = wire.out_date(value)
        elif f.kind == "float":
            value = wire.out_money(value)
        elif f.kind == "bool":
            value = bool(value) if value is not None else None
        elif f.kind == "lookups":
            value = list(value or [])
        elif f.kind == "str" and value is not None and not isinstance(value, str):
            value = str(value)
        out[f.wire] = value
    return out


ADDRESS_KEYS = ("country", "state", "street", "number", "interior_number", "zip", "suburb", "city", "latitude", "longitude")


def address_to_wire(address: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A core address as a centia address object (None when empty)."""
    if not address or not any(address.get(k) not in (None, "") for k in ADDRESS_KEYS):
        return None
    out = {k: address.get(k) for k in ADDRESS_KEYS}
    for k in ("latitude", "longitude"):
        if out[k] is not None:
            out[k] = str(out[k])
    for k in ADDRESS_KEYS[:8]:
        if out[k] is not None and not isinstance(out[k], str):
            out[k] = str(out[k])
    return out
