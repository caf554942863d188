"""Core services behind the centia face: custom fields, profiles, numbering, fixtures, cross-API reads."""

from __future__ import annotations

import threading
import time

import pytest
from tests.centia.helpers import SHIPPING_MX, Centia
from sqlalchemy import select, text

from polycrm.core import custom_fields, fixtures, numbering
from polycrm.core.errors import Conflict, Invalid
from polycrm.core.models import CustomValue, Customer, Profile
from polycrm.core.workspace import Workspace


def ws_of(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"])


# -- custom fields -------------------------------------------------------------------------
def test_define_and_read_values_typed(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        number = custom_fields.define(ws, "customer", "Employees", field_type="number")
        flag = custom_fields.define(ws, "customer", "Key account", field_type="boolean")
        when = custom_fields.define(ws, "customer", "Signed", field_type="date")
        tags = custom_fields.define(ws, "customer", "Tags", field_type="multiselect", options=["a", "b", "c"])
        a, b = ws.create(Customer, name="A"), ws.create(Customer, name="B")
        custom_fields.set_values(ws, "customer", a.id, {"employees": "12.50", "key_account": "yes", "signed": "2026-01-02", "tags": ["a", "c"]})
        custom_fields.set_values(ws, "customer", b.id, {"employees": 7})
        values = custom_fields.bulk_values(ws, "customer", [a.id, b.id])
        assert values[a.id] == {"employees": 12.5, "key_account": True, "signed": "2026-01-02", "tags": ["a", "c"]}
        assert values[b.id] == {"employees": 7, "key_account": None, "signed": None, "tags": None}
        assert [f.slug for f in custom_fields.fields(ws, "customer")] == [number.slug, flag.slug, when.slug, tags.slug]


def test_none_clears_a_value_and_updates_replace(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        custom_fields.define(ws, "contact", "Nickname")
        custom_fields.set_values(ws, "contact", 5, {"nickname": "Bo"})
        custom_fields.set_values(ws, "contact", 5, {"nickname": "Bob"})
        assert custom_fields.values(ws, "contact", 5) == {"nickname": "Bob"}
        custom_fields.set_values(ws, "contact", 5, {"nickname": None})
        assert custom_fields.values(ws, "contact", 5) == {"nickname": None}
        assert ws.count(select(CustomValue.id)) == 0


@pytest.mark.parametrize(
    "field_type,options,value",
    [("number", [], "twelve"), ("boolean", [], "perhaps"), ("date", [], "02/01/2026"), ("select", ["x"], "y"), ("multiselect", ["x"], ["x", "z"])],
)
def test_bad_values_are_refused(runtime, tenant, field_type, options, value):
    with ws_of(runtime, tenant) as ws:
        custom_fields.define(ws, "product", "Field", field_type=field_type, options=options)
        with pytest.raises(Invalid) as err:
            custom_fields.set_values(ws, "product", 1, {"field": value})
        assert err.value.field == "field"


def test_slugs_are_unique_within_what_a_profile_sees(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        other = ws.create(Profile, name="Other")
        custom_fields.define(ws, "customer", "Region", profile_id=tenant["profile_id"])
        custom_fields.define(ws, "customer", "Region", profile_id=other.id)
        with pytest.raises(Conflict):
            custom_fields.define(ws, "customer", "Region")
        with pytest.raises(Conflict):
            custom_fields.define(ws, "customer", "region", profile_id=other.id)
        custom_fields.define(ws, "contact", "Region")
        assert [f.profile_id for f in custom_fields.fields(ws, "customer", other.id)] == [other.id]


def test_definition_rules(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(Invalid):
            custom_fields.define(ws, "nothing", "X")
        with pytest.raises(Invalid):
            custom_fields.define(ws, "customer", "X", field_type="colour")
        with pytest.raises(Invalid):
            custom_fields.define(ws, "customer", "  ")
        field = custom_fields.define(ws, "customer", "Größe & Co.")
        assert field.slug == "grosse_co"
        custom_fields.update(ws, field, {"name": "Size", "required": True})
        assert (field.name, field.required) == ("Size", True)
        with pytest.raises(Invalid):
            custom_fields.update(ws, field, {"entity": "contact"})


def test_required_fields_are_enforced_on_create_only(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        custom_fields.define(ws, "opportunity", "Budget", field_type="number", required=True)
        with pytest.raises(Invalid, match="missing required input: budget"):
            custom_fields.set_values(ws, "opportunity", 1, {}, creating=True)
        custom_fields.set_values(ws, "opportunity", 1, {})


def test_removing_a_field_drops_its_values(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        field = custom_fields.define(ws, "customer", "Old")
        custom_fields.set_values(ws, "customer", 1, {"old": "x"})
        custom_fields.remove(ws, field)
        assert custom_fields.fields(ws, "customer") == []
        assert ws.count(select(CustomValue.id)) == 0
        custom_fields.define(ws, "customer", "Old")


def test_custom_fields_are_tenant_scoped(runtime, tenant, other_tenant):
    with ws_of(runtime, tenant) as ws:
        custom_fields.define(ws, "customer", "Mine")
    with ws_of(runtime, other_tenant) as ws:
        assert custom_fields.fields(ws, "customer") == []
        custom_fields.define(ws, "customer", "Mine")


def test_fixtures_define_custom_fields(runtime, tenant, client):
    data = {"custom_fields": [
        {"entity": "customer", "name": "Segment", "field_type": "select", "options": ["SMB", "Enterprise"]},
        {"entity": "product", "name": "Colour", "slug": "color", "required": True},
    ]}
    with ws_of(runtime, tenant) as ws:
        assert fixtures.load(ws, data)["custom_fields"] == 2
        # Loading again keeps the existing definitions.
        fixtures.load(ws, data)
        assert len(custom_fields.fields(ws, "customer")) == 1
    api = Centia(client, tenant)
    assert [i["slug"] for i in api.call("products", "GetInputs")["inputs"]] == ["color"]
    with ws_of(runtime, tenant) as ws, pytest.raises(Invalid):
        fixtures.load(ws, {"custom_fields": [{"entity": "customer", "name": "X", "colour": "red"}]})


# -- numbering -----------------------------------------------------------------------
def test_next_free_number_skips_non_numeric_numbers(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        assert numbering.next_free(ws, Customer.number) == "1"
        ws.create(Customer, name="A", number="41")
        ws.create(Customer, name="B", number="C-900")
        assert numbering.next_free(ws, Customer.number) == "42"


def test_claim_refuses_a_live_number_in_use(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        ws.create(Customer, name="A", number="7")
        ws.create(Customer, name="Gone", number="8", deleted=True)
        with pytest.raises(Conflict, match="client_number 7 is already used"):
            numbering.claim(ws, Customer.number, "7", field="client_number")
        assert numbering.claim(ws, Customer.number, "8") == "8"
        assert numbering.claim(ws, Customer.number) == "9"


def _waits_for_a_lock(runtime, backend, thread: threading.Thread) -> bool:
    """Whether ``thread`` is (still) waiting for a lock the test holds."""
    if backend == "sqlite":
        # A second writing workspace waits in BEGIN IMMEDIATE until the first ends.
        thread.join(0.2)
        return thread.is_alive()
    stmt = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    deadline = time.monotonic() + 30
    with runtime.db.engine.connect() as conn:
        while thread.is_alive() and time.monotonic() < deadline:
            if conn.execute(stmt).scalar():
                return True
            conn.rollback()
            time.sleep(0.01)
    return False


def test_concurrent_claims_get_different_numbers(runtime, tenant, backend):
    """A claim holds its lock until the transaction ends: a second one waits, then sees the first number."""
    got: dict = {}

    def second() -> None:
        try:
            with ws_of(runtime, tenant) as ws:
                got["number"] = numbering.claim(ws, Customer.number)
                ws.create(Customer, name="B", number=got["number"])
        except Exception as exc:  # reported below
            got["error"] = exc

    thread = threading.Thread(target=second)
    with ws_of(runtime, tenant) as ws:
        ws.create(Customer, name="A", number=numbering.claim(ws, Customer.number))
        thread.start()
        waited = _waits_for_a_lock(runtime, backend, thread)
    thread.join(60)
    assert waited and got == {"number": "2"}


# -- cross-API -----------------------------------------------------------------------
def test_a_centia_company_is_a_microbizz_customer(client, tenant):
    api = Centia(client, tenant)
    company = api.company(name="Acme de México", phone="+52 33", shipping_address=SHIPPING_MX)
    mb = tenant["microbizz"]
    envelope = {
        "contract": mb["contract"], "apikey": mb["apikey"], "username": mb["username"], "password": mb["password"],
        "commands": [{"command": "GetCustomerByID", "customerid": company["id"]}],
    }
    r = client.post("/api/endpoint.php", json=envelope)
    assert r.status_code == 200, r.text
    result = r.json()["results"][0]
    customer = result["customers"][0]
    assert customer["name"] == "Acme de México"
    assert customer["city"] == "Guadalajara"


def test_a_centia_company_is_a_cirrus_account(client, tenant):
    api = Centia(client, tenant)
    company = api.company(name="Acme de México", website="acme.mx", shipping_address=SHIPPING_MX)
    r = client.get(f"/cirrus/accounts/{company['id']}", headers={"X-Token": tenant["cirrus"]["x_token"]})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Acme de México"


def test_a_microbizz_customer_is_a_centia_company_of_the_default_profile(runtime, client, tenant):
    with ws_of(runtime, tenant) as ws:
        customer = ws.create(Customer, {"name": "From elsewhere", "number": "9", "addresses.visiting.city": "Aarhus"})
    api = Centia(client, tenant)
    company = api.call("companies", "GetCompany", search_by="client_number", search_value="9")["company"]
    assert company["id"] == customer.id
    assert company["profile_id"] == tenant["profile_id"]
    assert company["shipping_address"]["city"] == "Aarhus"
