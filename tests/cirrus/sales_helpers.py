"""Helpers for the Cirrus sales group tests: records made through the core."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.cirrus.helpers import auth, url
from polycrm.core import lookups
from polycrm.core.models import Contact, Customer, Product, Record
from polycrm.core.workspace import Workspace


def core(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"])


def seed(runtime, tenant) -> dict[str, Any]:
    """An account with a contact, a second account, and an article."""
    with core(runtime, tenant) as ws:
        account = ws.create(Customer, name="Acme", number="1001")
        other = ws.create(Customer, name="Beta", number="1002")
        contact = ws.create(Contact, customer_id=account.id, name="Ann", surname="Berg", email="ann@acme.dk")
        unit = lookups.items(ws, "unit")[0]
        product = ws.create(Product, name="Widget", number="W-1", price=Decimal("100"), unit_id=unit.id)
        ws.flush()
        return {"account": account.id, "other": other.id, "contact": contact.id, "product": product.id,
                "unit": unit.id, "user": tenant["user_id"]}


def lookup(runtime, tenant, kind: str, name: str | None = None) -> int:
    with core(runtime, tenant) as ws:
        entries = lookups.items(ws, kind)
        return next(e.id for e in entries if name is None or e.name == name)


def record(runtime, tenant, **values: Any) -> int:
    with core(runtime, tenant) as ws:
        row = ws.create(Record, values)
        ws.flush()
        return row.id


def get(client, tenant, path: str, **params: Any) -> Any:
    r = client.get(url(path), params=params, headers=auth(tenant))
    assert r.status_code == 200, r.text
    return r.json()


def post(client, tenant, path: str, body: Any) -> Any:
    r = client.post(url(path), json=body, headers=auth(tenant))
    assert r.status_code == 200, r.text
    return r.json()


def put(client, tenant, path: str, body: Any) -> Any:
    r = client.put(url(path), json=body, headers=auth(tenant))
    assert r.status_code == 200, r.text
    return r.json()
