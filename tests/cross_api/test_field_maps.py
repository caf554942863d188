"""The field maps are the oracle: every core field two faces map is written
through one and read back through the other.

At collection time the maps of each face are read - Microbizz
``FieldMap`` objects, the Cirrus entities' writers (a ``to(path)`` writer
carries ``.path``; the other writer factories close over the ``path`` they
store) read back through the same wire name of the entity's view, the
centiaCRM ``ObjectMap`` objects and the web form fields - and for each shared
entity and each ordered pair of faces (writer, reader) the core paths the
writer can write and the reader shows are collected. A field added to two
maps is tested without touching this file.

Each case makes one record through the writer with a distinct value in every
shared field and reads it once through the reader. The records a reference
names (a customer, a contact, a user, an opportunity) and the lookup entries
are made or picked through the core beforehand, so each case costs one create
and one read over HTTP (the web form adds its sign-in and the form page for
the CSRF token).
"""

from __future__ import annotations

import datetime as dt
import inspect
import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from polycrm.core import lookups
from polycrm.core.models import Contact, Customer, Opportunity, Product, ProfileMember, Quote, User
from polycrm.core.workspace import Workspace
from polycrm.faces.centia import maps as centia_maps
from polycrm.faces.centia import table as centia_table
from polycrm.faces.centia.wire import DMY
from polycrm.faces.cirrus.groups import accounts, articles, contacts, opportunities, quotes
from polycrm.faces.cirrus.schemas import MODELS
from polycrm.faces.cirrus.operations import TABLE
from polycrm.faces.microbizz import maps as microbizz_maps
from polycrm.faces.microbizz.fields import FieldMap as MicrobizzFieldMap
from polycrm.web import pages
from tests.centia.helpers import Centia
from tests.cirrus.helpers import auth, url
from tests.cross_api.helpers import Web
from tests.microbizz.helpers import MB

MODELS_OF = {"customer": Customer, "contact": Contact, "product": Product, "opportunity": Opportunity,
             "quote": Quote}

# Core paths no case writes, each with its reason. Everything else two maps share is tested.
EXCLUDED = {
    # Microbizz's ``isdeleted``: a deleted record is not found by the readers, so it cannot be read back.
    "deleted": "a deleted record is not readable",
}


# -- what each face maps ---------------------------------------------------------------------
@dataclass(frozen=True)
class Mapped:
    """How one face carries one core path of an entity."""

    wire: tuple[str, ...]  # the wire field; a nested path for the Cirrus addresses
    writes: bool
    reads: bool
    lookup: str | None = None  # the lookup kind, where the face names it
    spec: Any = None  # the face's own field description (converter, format, writer)
    required: bool = False


def _microbizz(fields: MicrobizzFieldMap) -> dict[str, Mapped]:
    out: dict[str, Mapped] = {}
    for f in fields.fields:
        # A field spread over several core paths (the street line) has no single path to compare.
        if not f.core or f.expand is not None:
            continue
        mapped = Mapped((f.wire,), f.read is not None, True, spec=f)
        # A name field (``typetext``) shares the path of its id field; the writable one speaks for it.
        if f.core not in out or (mapped.writes and not out[f.core].writes):
            out[f.core] = mapped
    return out


def _closed_over(writer: Callable) -> dict[str, Any]:
    try:
        return inspect.getclosurevars(writer).nonlocals
    except TypeError:
        return {}


def _create_operation(collection: str) -> dict[str, Any]:
    return next(op for op in TABLE if op["method"] == "POST" and op["path"] == f"/{collection}/")


def _cirrus(entity, collection: str) -> dict[str, Mapped]:
    """Writers with a core path, read back through the same wire name of the view; the create
    operation's body fields say which are required and how each is sent."""
    out: dict[str, Mapped] = {}
    readers = entity.view.readers
    body = {f["name"]: f for f in _create_operation(collection)["body_fields"]}
    for name, writer in entity.writers.items():
        closed = _closed_over(writer)
        path = getattr(writer, "path", None) or closed.get("path")
        if not isinstance(path, str):
            continue
        lookup = closed.get("kind") if closed.get("kind") in lookups.KINDS else None
        field = body.get(name, {"type": "str"})
        out[path] = Mapped((name,), True, name in readers, lookup, field, bool(field.get("required")))
    if entity.writers.get("addresses") is accounts.write_addresses:
        # The addresses object: each part of each address is a core path of its own.
        for kind, part in itertools.product(MODELS["Addresses"], accounts.ADDRESS_PARTS):
            out[f"addresses.{kind}.{part}"] = Mapped(("addresses", kind, part), True, True, spec={"type": "str"})
    return out


def centia_method(module: str, name: str) -> Any:
    return next(m for m in centia_table.METHODS if (m.module, m.name) == (module, name))


def _centia(fields: centia_maps.ObjectMap, module: str, method: str) -> dict[str, Mapped]:
    required = {p.name for p in centia_method(module, method).params if p.required}
    return {f.core: Mapped((f.wire,), f.writable, True, f.lookup, f, f.writable and (f.required or f.wire in required))
            for f in fields}


def _web(fields) -> dict[str, Mapped]:
    out = {}
    for f in fields:
        lookup = f.choices if f.kind == "select" and f.choices not in ("customer", "user") else None
        out[f.path] = Mapped((f.name,), True, False, lookup, f, f.required)
    return out


MAPS: dict[str, dict[str, dict[str, Mapped]]] = {
    "customer": {
        "microbizz": _microbizz(microbizz_maps.CUSTOMER), "cirrus": _cirrus(accounts.ACCOUNT_ENTITY, "accounts"),
        "centia": _centia(centia_maps.COMPANY, "companies", "CreateCompany"), "web": _web(pages.CUSTOMER_FIELDS),
    },
    "contact": {
        "cirrus": _cirrus(contacts.CONTACT_ENTITY, "contacts"),
        "centia": _centia(centia_maps.CONTACT, "contacts", "CreateContact"),
    },
    "product": {
        "microbizz": _microbizz(microbizz_maps.PRODUCT), "cirrus": _cirrus(articles.ARTICLE_ENTITY, "articles"),
        "centia": _centia(centia_maps.PRODUCT, "products", "CreateProduct"), "web": _web(pages.PRODUCT_FIELDS),
    },
    "opportunity": {
        "cirrus": _cirrus(opportunities.OPPORTUNITY_ENTITY, "opportunities"),
        "centia": _centia(centia_maps.OPPORTUNITY, "opportunities", "CreateOpportunity"),
    },
    "quote": {"microbizz": _microbizz(microbizz_maps.SALESCONTRACT), "cirrus": _cirrus(quotes.QUOTE_ENTITY, "quotes")},
}


# -- core kinds ----------------------------------------------------------------------------------
def core_kind(entity: str, path: str) -> str:
    """``text``, ``number``, ``bool``, ``date``, ``datetime``, ``int``, ``lookup`` or ``ref:<table>``."""
    if "." in path:  # a part of a JSON column: a lookup where a face names its list, else text
        return "lookup" if lookup_kind(entity, path) else "text"
    column = MODELS_OF[entity].__table__.c[path]
    for fk in column.foreign_keys:
        table = fk.column.table.name
        return "lookup" if table == "lookup" else f"ref:{table}"
    kinds = {bool: "bool", Decimal: "number", dt.datetime: "datetime", dt.date: "date", int: "int", str: "text"}
    return kinds[column.type.python_type]


def lookup_kind(entity: str, path: str) -> str | None:
    """The lookup list a lookup path picks from, as the faces that name it say."""
    named = {m.lookup for m in (faces.get(path) for faces in MAPS[entity].values()) if m is not None and m.lookup}
    assert len(named) <= 1, f"{entity}.{path}: the faces disagree on its list: {named}"
    return next(iter(named), None)


REFERENCED = {"customer", "contact", "app_user", "opportunity"}  # the records every case has made beforehand


def comparable(entity: str, path: str) -> bool:
    if path in EXCLUDED:
        return False
    kind = core_kind(entity, path)
    if kind == "lookup":
        return lookup_kind(entity, path) is not None
    return not kind.startswith("ref:") or kind[4:] in REFERENCED


def shared_paths(entity: str, writer: str, reader: str) -> list[str]:
    written, shown = MAPS[entity][writer], MAPS[entity][reader]
    return sorted(p for p, m in written.items() if m.writes and p in shown and shown[p].reads and comparable(entity, p))


def cases() -> Iterator[Any]:
    for entity, faces in MAPS.items():
        for writer, reader in itertools.permutations(faces, 2):
            if reader == "web":  # the web pages are a writer here; the APIs read
                continue
            if shared_paths(entity, writer, reader):
                yield pytest.param(entity, writer, reader, id=f"{entity}-{writer}-to-{reader}")


# -- values --------------------------------------------------------------------------------------
COUNTRIES = ("DK", "SE", "NO", "DE", "MX", "FI", "NL", "ES")


@dataclass
class Setup:
    """The records and lookup entries of one case's tenant that references may name."""

    records: dict[str, int]
    profile_id: int

    def lookup(self, ws: Workspace, kind: str) -> int:
        # The last entry of the list: not the default a face fills in by itself.
        return lookups.items(ws, kind, self.profile_id)[-1].id


def make_setup(runtime, tenant: dict) -> Setup:
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        profile_id = tenant["profile_id"]
        customer = ws.create(Customer, name="Referenced A/S", profile_id=profile_id)
        contact = ws.create(Contact, name="Rita", surname="Referenced", customer_id=customer.id, profile_id=profile_id)
        # A user other than the caller, a member of the profile, so a default of "the caller" does not pass for it.
        user = ws.create(User, username=f"seller-{uuid.uuid4().hex[:6]}", name="Sigrid", surname="Seller", active=True)
        ws.create(ProfileMember, profile_id=profile_id, user_id=user.id)
        opportunity = ws.create(Opportunity, title="Referenced deal", customer_id=customer.id, profile_id=profile_id,
                                status="active")
        return Setup({"customer": customer.id, "contact": contact.id, "app_user": user.id,
                      "opportunity": opportunity.id}, profile_id)


def core_values(runtime, tenant: dict, setup: Setup, entity: str, paths: list[str]) -> dict[str, Any]:
    """One distinct, valid core value per path (texts carry the path's position and a token)."""
    token = uuid.uuid4().hex[:6]
    values: dict[str, Any] = {}
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        for i, path in enumerate(paths):
            kind = core_kind(entity, path)
            leaf = path.rsplit(".", 1)[-1]
            if kind == "text":
                if leaf.endswith("email"):
                    values[path] = f"{leaf}{i}.{token}@example.com"
                elif leaf == "country":
                    values[path] = COUNTRIES[i % len(COUNTRIES)]
                elif leaf == "www":
                    values[path] = f"www{i}.{token}.example.com"
                else:
                    values[path] = f"{leaf[:10]}-{i}{token}"
            elif kind == "number":
                values[path] = Decimal(f"{10 + i}.25")
            elif kind == "int":
                values[path] = 10 + i
            elif kind == "bool":
                # The opposite of what a new record has by default, so a dropped value shows.
                default = MODELS_OF[entity].__table__.c[path].default
                values[path] = not (default.arg if default is not None else False)
            elif kind == "date":
                values[path] = dt.date(2026, 5, 1 + i)
            elif kind == "datetime":  # midnight: a face may take a date-time as a plain date
                values[path] = dt.datetime(2026, 5, 1 + i)
            elif kind == "lookup":
                values[path] = setup.lookup(ws, lookup_kind(entity, path))
            else:
                values[path] = setup.records[kind[4:]]
    return values


def required_values(runtime, tenant, setup: Setup, entity: str, writer: str, given: dict[str, Any]) -> dict[str, Any]:
    """Values for the fields the writer requires that the case does not test."""
    maps = MAPS[entity][writer]
    missing = [p for p, m in maps.items() if m.required and p not in given]
    out = core_values(runtime, tenant, setup, entity, missing)
    for path in missing:
        spec = maps[path].spec
        if isinstance(spec, centia_maps.Field) and spec.kind in ("enum", "bool"):  # centia keeps these in ``extra``
            out[path] = spec.choices[0] if spec.kind == "enum" else False
    return out


def required_wire_only(writer: str, entity: str) -> dict[str, Any]:
    """Required parameters of a centia method that no core path stands for (``notify``)."""
    if writer != "centia":
        return {}
    module, method, _ = CENTIA_CREATE[entity]
    in_map = {m.wire[0] for m in MAPS[entity][writer].values()} | {"profile_id"}
    filler = {"bool": False, "str": "x", "int": 0, "float": 0.0}
    return {p.name: p.choices[0] if p.kind == "enum" else filler[p.kind]
            for p in centia_method(module, method).params if p.required and p.name not in in_map}


# -- wire encodings ----------------------------------------------------------------------------
def _set(body: dict, wire: tuple[str, ...], value: Any) -> None:
    for key in wire[:-1]:
        body = body.setdefault(key, {})
    body[wire[-1]] = value


def _get(body: Any, wire: tuple[str, ...]) -> Any:
    for key in wire:
        body = body.get(key) if isinstance(body, dict) else None
    return body


def normalised(kind: str, value: Any) -> Any:
    """A value read from a wire as the core value it shows."""
    if value is None or value == "":
        return None
    if kind == "number":
        return Decimal(str(value))
    if kind == "bool":
        return bool(int(value)) if isinstance(value, (str, int)) else bool(value)
    if kind == "date":
        return dt.date.fromisoformat(str(value)[:10])
    if kind == "datetime":
        return dt.datetime.fromisoformat(str(value).replace("Z", "").replace("T", " "))
    if kind in ("int", "lookup") or kind.startswith("ref:"):
        return int(value["id"] if isinstance(value, dict) else value)
    return value


def to_microbizz(m: Mapped, kind: str, value: Any) -> Any:
    if kind == "bool":  # isclosed is the inverse of active: the map's own converter says which wire value it is
        return next(w for w in (0, 1) if m.spec.read(w, m.wire[0]) == value)
    if kind == "number":
        return float(value)
    if kind == "date":
        return value.isoformat()
    return value


def from_microbizz(m: Mapped, kind: str, value: Any) -> Any:
    if kind == "bool":
        return m.spec.read(value, m.wire[0])
    return normalised(kind, value)


def to_cirrus(m: Mapped, kind: str, value: Any) -> Any:
    """As the create operation's body field says: a number, ``0/1``, a date, a bare id or ``{"id": n}``."""
    field = m.spec
    if kind == "bool":
        return int(value)
    if kind == "number":
        return float(value)
    if kind in ("date", "datetime"):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ") if field.get("format") == "date-time" else value.strftime("%Y-%m-%d")
    if kind == "lookup" or kind.startswith("ref:"):
        return value if field["type"] == "int" else {"id": value}
    return value


def to_centia(m: Mapped, kind: str, value: Any) -> Any:
    if kind == "number":
        return float(value)
    if kind == "date":
        return value.strftime("%d/%m/%y") if m.spec.fmt == DMY else value.isoformat()
    if kind == "datetime":
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


def to_web(m: Mapped, kind: str, value: Any) -> str:
    if kind == "bool":
        return "1" if value else ""
    if kind in ("date", "datetime"):
        return value.isoformat()
    return str(value)


# -- one create and one read per face ------------------------------------------------------------
MICROBIZZ_CREATE = {"customer": ("CreateUpdateCustomerByID", "customer"),
                    "product": ("CreateUpdateProductByID", "product"),
                    "quote": ("CreateUpdateSalesContract", "salescontract")}
CIRRUS_COLLECTION = {"customer": "accounts", "contact": "contacts", "product": "articles",
                     "opportunity": "opportunities", "quote": "quotes"}
CENTIA_CREATE = {"customer": ("companies", "CreateCompany", "company"),
                 "contact": ("contacts", "CreateContact", "contact"),
                 "product": ("products", "CreateProduct", "product"),
                 "opportunity": ("opportunities", "CreateOpportunity", "opportunity")}
WEB_FORM = {"customer": "/customers/new", "product": "/products/new"}


def create(face: str, entity: str, client, app, runtime, tenant: dict, values: dict[str, Any]) -> int:
    maps = MAPS[entity][face]
    if face == "web":
        form = {maps[p].wire[0]: to_web(maps[p], core_kind(entity, p), v) for p, v in values.items()}
        response = Web(app, tenant).post_form(WEB_FORM[entity], form)
        assert response.status_code == 303, response.text
        if entity == "customer":
            return int(response.headers["location"].rsplit("/", 1)[-1])
        with Workspace(runtime.db, tenant["tenant_id"]) as ws:  # the product list is where the page goes
            return max(p.id for p in ws.scalars(select(Product)))
    body: dict[str, Any] = {}
    encode = {"microbizz": to_microbizz, "cirrus": to_cirrus, "centia": to_centia}[face]
    for path, value in values.items():
        _set(body, maps[path].wire, encode(maps[path], core_kind(entity, path), value))
    body.update(required_wire_only(face, entity))
    if face == "microbizz":
        command, key = MICROBIZZ_CREATE[entity]
        return MB(client, tenant).call(command, **{key: {"id": 0, **body}})[key]["id"]
    if face == "cirrus":
        response = client.post(url(f"/{CIRRUS_COLLECTION[entity]}/"), json=body, headers=auth(tenant))
        assert response.status_code == 200, response.text
        return response.json()["id"]
    module, method, key = CENTIA_CREATE[entity]
    return Centia(client, tenant).call(module, method, **body)[key]["id"]


def read(face: str, entity: str, client, tenant: dict, record_id: int) -> dict[str, Any]:
    """The record as the face shows it, one request."""
    if face == "microbizz":
        mb = MB(client, tenant)
        if entity == "customer":
            return mb.call("GetCustomerByID", customerid=record_id)["customers"][0]
        if entity == "product":
            return mb.call("GetProductByID", productid=record_id, include_prices=1)["products"][0]
        return next(c for c in mb.call("GetSalesContractsByLastChange")["salescontracts"] if c["id"] == record_id)
    if face == "cirrus":
        response = client.get(url(f"/{CIRRUS_COLLECTION[entity]}/{record_id}"), headers=auth(tenant))
        assert response.status_code == 200, response.text
        return response.json()
    api = Centia(client, tenant)
    if entity == "customer":
        return api.call("companies", "GetCompany", search_by="id", search_value=str(record_id))["company"]
    if entity == "contact":
        return api.call("contacts", "GetContact", search_by="id", search_value=str(record_id))["contact"]
    if entity == "product":
        return next(p for p in api.call("products", "GetProducts")["products"] if p["id"] == record_id)
    return api.call("opportunities", "GetOpportunity", opportunity_id=record_id)["opportunity"]


def shown(face: str, entity: str, record: dict, path: str) -> Any:
    m, kind = MAPS[entity][face][path], core_kind(entity, path)
    value = _get(record, m.wire)
    return from_microbizz(m, kind, value) if face == "microbizz" else normalised(kind, value)


# -- the test --------------------------------------------------------------------------------------
def test_the_field_maps_carry_the_maps_shared_fields():
    """The collection itself: every shared entity has pairs, and the oracle has fields to test."""
    collected = [c.values for c in cases()]
    assert {entity for entity, _, _ in collected} == set(MAPS)
    assert {"name", "number", "phone", "www"} <= set(shared_paths("customer", "microbizz", "centia"))


@pytest.mark.parametrize("entity, writer, reader", list(cases()))
def test_a_field_written_through_one_face_reads_back_through_another(
    entity, writer, reader, app, client, runtime, tenant
):
    paths = shared_paths(entity, writer, reader)
    setup = make_setup(runtime, tenant)
    values = core_values(runtime, tenant, setup, entity, paths)
    required = required_values(runtime, tenant, setup, entity, writer, values)
    record_id = create(writer, entity, client, app, runtime, tenant, {**required, **values})
    record = read(reader, entity, client, tenant, record_id)
    assert {p: shown(reader, entity, record, p) for p in paths} == values
