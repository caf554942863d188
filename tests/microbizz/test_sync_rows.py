"""The lean sync path: row tuples from the core rendered by compiled field maps.

``GetCustomersByLastChange`` reads plain tuples (``polycrm.core.query.rows.tuples``)
and renders them with ``FieldMap.render_rows``. These tests hold it to the
generic path (``FieldMap.many`` over row mappings, which GetCustomerByID
uses) on real and odd rows, and check the edges of paging: an empty feed, a
feed of exactly one page, deletions and updates between pages.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import select, update

from polycrm.core import contacts, custom_fields
from polycrm.core.query import rows
from polycrm.core.errors import TenancyError
from polycrm.core.models import Customer
from polycrm.core.workspace import Workspace, columns
from polycrm.faces.microbizz import maps
from polycrm.faces.microbizz.fields import FieldMap, RenderContext
from polycrm.faces.microbizz.wire import Clock
from tests.microbizz.helpers import MB, paged_client, sync_all


def ids_of(items: list[dict]) -> list[int]:
    return [item["id"] for item in items]


def tuples_of(fieldmap: FieldMap, rows: list[dict]) -> list[tuple]:
    return [tuple(row[name] for name in fieldmap.columns) for row in rows]


def both_ways(fieldmap: FieldMap, ws: Workspace, clock: Clock, rows: list[dict]) -> tuple[object, object]:
    """What the generic path and the compiled one make of the same rows: the
    objects, or the type of the error both must raise alike."""
    outcomes = []
    for render in (lambda ctx: fieldmap.many(rows, ctx), lambda ctx: fieldmap.render_rows(tuples_of(fieldmap, rows), ctx)):
        try:
            # A savepoint each: a failed name query (an id beyond bigint on
            # PostgreSQL) must not abort the other path's transaction.
            with ws.atomic():
                outcomes.append(render(RenderContext(ws, clock)))
        except Exception as exc:  # noqa: BLE001  (the two paths must fail alike)
            outcomes.append(type(exc))
    return outcomes[0], outcomes[1]


# Values a stored row may hold, well-formed or not: JSON columns written by
# other APIs, old data, hand-edited rows.
ODD_VALUES = [
    None, "", "text", "  padded  ", "0", "17", "-3", "2.5", 0, 1, 7, -2, True, False, 2.5, 3.0, 1e20,
    dt.date(2024, 2, 29), dt.datetime(2024, 3, 31, 0, 59, 59), [], [3, 1], {}, {"nested": 1},
]


def odd_row(fieldmap: FieldMap, rng: random.Random) -> dict:
    """A row for ``fieldmap`` with every path filled from ODD_VALUES (JSON
    objects along the paths now and then missing or not objects at all)."""
    row: dict = {}
    for name in fieldmap.columns:
        row[name] = rng.choice(ODD_VALUES)
    for field in fieldmap.fields:
        head, *rest = field.core.split(".")
        if not rest:
            continue
        if rng.random() < 0.1:
            row[head] = rng.choice([None, "not an object", [1, 2]])
            continue
        row[head] = node = dict(row[head]) if isinstance(row[head], dict) else {}
        for part in rest[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {} if rng.random() < 0.9 else rng.choice(["x", 5])
                node[part] = child
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[rest[-1]] = rng.choice(ODD_VALUES)
    row["id"] = rng.randint(1, 10**6)
    return row


ROW_MAPS = {
    name: value for name, value in vars(maps).items()
    if isinstance(value, FieldMap) and all(f.core for f in value.fields)
}


@pytest.mark.parametrize("map_name", sorted(ROW_MAPS))
def test_compiled_rendering_matches_the_generic_one_on_odd_rows(runtime, tenant, map_name):
    fieldmap = ROW_MAPS[map_name]
    clock = Clock(runtime.settings.timezone)
    rng = random.Random(map_name)
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"], write=False) as ws:
        for _ in range(300):
            rows = [odd_row(fieldmap, rng) for _ in range(3)]
            generic, compiled = both_ways(fieldmap, ws, clock, rows)
            assert compiled == generic, rows
        # Rows whose every value is missing, and no rows at all.
        empty = [dict.fromkeys(fieldmap.columns) | {"id": 1}]
        assert both_ways(fieldmap, ws, clock, empty)[1] == both_ways(fieldmap, ws, clock, empty)[0]
        assert fieldmap.render_rows([], RenderContext(ws, clock)) == []


def test_a_map_with_a_computed_field_has_no_row_columns():
    with pytest.raises(TypeError, match="computed field"):
        maps.SALESCONTRACT.columns


def test_stored_customers_render_alike_both_ways(client, runtime, tenant):
    """Customers written through the API, with references, addresses with
    house numbers, icons and custom field values, read back both ways."""
    mb = MB(client, tenant)
    contact_customer = mb.customer(name="Has contacts")["id"]
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        contact_id = contacts.SERVICE.create(ws, {"name": "Kim", "customer_id": contact_customer}).id
    for i in range(5):
        mb.customer(
            name=f"Full {i}", customernumber=f"F{i}", ourreference=tenant["user_id"], theirreference=contact_id,
            address=f"Vestergade {i + 1}", invoiceaddress="Postboks 7", invoicecity="Vejle", icons=[i, 2],
            vatpercentage="25,5", startdate="05-08-2011", isclosed=i % 2, isdeleted=int(i == 4),
            latitude=55.5 + i, longitude=10.25, parentcust=contact_customer,
        )
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        field = custom_fields.define(ws, "customer", "Colour")
        first = ws.scalars(select(Customer.id).order_by(Customer.id))[0]
        custom_fields.set_values(ws, "customer", first, {field.slug: "blue"})
        # House numbers as the Cirrus face stores them, and an ourreference of no user.
        ws.session.execute(update(Customer).where(Customer.id == first).values(
            addresses={"visiting": {"street": "Av. Vallarta", "number": "1234", "letter": "B", "interior_number": 5}},
            extra={"ourreference": 999999, "team": "3"},
        ))
    clock = Clock(runtime.settings.timezone)
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"], write=False) as ws:
        mappings = ws.rows(select(*columns(Customer)).order_by(Customer.id))
        tuples = rows.tuples(ws, Customer, maps.CUSTOMER.columns, order_by=(Customer.id,))
        generic = maps.CUSTOMER.many(mappings, RenderContext(ws, clock))
        compiled = maps.CUSTOMER.render_rows(tuples, RenderContext(ws, clock))
    assert compiled == generic and len(compiled) == 6
    assert compiled[0]["address"] == "Av. Vallarta 1234B Int. 5" and compiled[0]["ourreferencetext"] == ""
    assert compiled[1]["theirreferencetext"] == "Kim"
    # The sync sends the same objects GetCustomerByID does.
    synced = mb.call("GetCustomersByLastChange")["customers"]
    for item in synced:
        assert [item] == mb.call("GetCustomerByID", customerid=item["id"])["customers"]


def test_table_rows_are_the_tenants_own(runtime, tenant, other_tenant):
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        mine = ws.create(Customer, name="Mine").id
    with Workspace(runtime.db, other_tenant["tenant_id"], other_tenant["user_id"]) as ws:
        ws.create(Customer, name="Theirs")
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"], write=False) as ws:
        assert [tuple(r) for r in rows.tuples(ws, Customer, ("id", "name"))] == [(mine, "Mine")]
    with Workspace(runtime.db, None) as ws, pytest.raises(TenancyError):
        rows.tuples(ws, Customer, ("id",))


def test_table_rows_see_the_workspaces_own_pending_changes(runtime, tenant):
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        customer = ws.create(Customer, name="Before")
        customer.name = "After"  # not flushed yet
        assert [tuple(r) for r in rows.tuples(ws, Customer, ("id", "name"))] == [(customer.id, "After")]


def test_an_empty_feed(client, tenant):
    mb = MB(client, tenant)
    result = mb.call("GetCustomersByLastChange", changedate="2000-01-01")
    assert result == {"status": 1, "customers": [], "qfoncheckout": 0}
    mb.customer(name="Only one")
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    assert mb.call("GetCustomersByLastChange", changedate=tomorrow)["customers"] == []


@pytest.mark.parametrize("count", [0, 1, 2, 3, 4, 5])
def test_page_boundaries(runtime, tenant, count):
    """Page size 2: a feed of 0-5 customers comes in ceil(n/2) pages (one
    empty page for none); only the last has no resumekey."""
    with paged_client(runtime, 2) as small:
        mb = MB(small, tenant)
        made = [mb.customer(name=f"B{i}")["id"] for i in range(count)]
        items, pages = sync_all(mb, "GetCustomersByLastChange", "customers")
    assert ids_of(items) == made
    expected = [2] * (count // 2) + ([1] if count % 2 else [])
    assert [len(p["customers"]) for p in pages] == (expected or [0])
    assert all("resumekey" in p for p in pages[:-1]) and "resumekey" not in pages[-1]


def test_deletions_and_updates_between_pages(runtime, tenant):
    """Between pages: the customer the key points after is deleted, an unsent
    one is deleted, an unsent one closed and a sent one changed. A plain sync
    still sends each customer once (deleted ones flagged); a skip_deleted or
    ignoreclosed sync drops the unsent ones that became deleted or closed."""
    with paged_client(runtime, 3) as small:
        mb = MB(small, tenant)
        ids = [mb.customer(name=f"C{i}")["id"] for i in range(9)]

        def first_page(**filters):
            result = mb.call("GetCustomersByLastChange", changedate="2000-01-01", **filters)
            assert ids_of(result["customers"]) == ids[:3]
            return result["resumekey"]

        keys = {name: first_page(**filters) for name, filters in
                {"plain": {}, "skip_deleted": {"skip_deleted": 1}, "ignoreclosed": {"ignoreclosed": 1}}.items()}
        mb.call("CreateUpdateCustomerByID", customer={"id": ids[2], "isdeleted": 1})  # the key's last id
        mb.call("CreateUpdateCustomerByID", customer={"id": ids[4], "isdeleted": 1})
        mb.call("CreateUpdateCustomerByID", customer={"id": ids[5], "isclosed": 1})
        mb.call("CreateUpdateCustomerByID", customer={"id": ids[0], "name": "Changed after it was sent"})
        rest = {name: sync_all(mb, "GetCustomersByLastChange", "customers", resumekey=key)[0]
                for name, key in keys.items()}
    assert ids_of(rest["plain"]) == ids[3:]
    assert [c["isdeleted"] for c in rest["plain"]] == [0, 1, 0, 0, 0, 0]
    assert [c["isclosed"] for c in rest["plain"]] == [0, 0, 1, 0, 0, 0]
    assert ids_of(rest["skip_deleted"]) == [ids[3], *ids[5:]]
    assert ids_of(rest["ignoreclosed"]) == [ids[3], *ids[6:]]


def test_street_line_shortcut_matches_the_full_rule():
    """derived.street_line takes a shortcut for a plain dict without house
    numbers; a read-only mapping of the same address takes the full rule."""
    from types import MappingProxyType

    from polycrm.core.derived import street_line

    rng = random.Random(7)
    values = [None, "", " ", "Algade 5", "  padded  ", 5, 0, 2.5, True, "Øster Allé"]
    for _ in range(3000):
        address = {k: rng.choice(values) for k in ("street", "number", "letter", "interior_number", "zip")
                   if rng.random() < 0.5}
        assert street_line(address) == street_line(MappingProxyType(address)), address


def test_a_paged_sync_sends_each_customer_as_get_customer_by_id_does(runtime, tenant):
    """Followed through its resumekeys (pages of 4), the sync sends every
    customer once, in id order, each object exactly what GetCustomerByID
    sends for it: names of users, contacts and types, addresses with and
    without house numbers, stamps, deleted and closed customers."""
    with paged_client(runtime, 4) as small:
        mb = MB(small, tenant)
        parent = mb.customer(name="Parent")["id"]
        with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
            contact_id = contacts.SERVICE.create(ws, {"name": "Kim", "surname": "Berg", "customer_id": parent}).id
        type_id = mb.call("GetCustomerTypes")["types"][0]["id"]
        made = [parent]
        for i in range(9):
            made.append(mb.customer(
                name=f"Paged {i}", customernumber=f"P{i}", ourreference=tenant["user_id"] if i % 2 else 0,
                theirreference=contact_id if i % 3 == 0 else 0, typeid=type_id if i % 4 else 0,
                address=f"Algade {i}" if i % 2 else "", invoiceaddress="Postboks 9" if i % 3 else "",
                isclosed=int(i == 5), isdeleted=int(i == 7), parentcust=parent if i % 2 else 0,
                latitude=55.25 + i, longitude=12.5, icons=[i] if i % 4 == 1 else [],
            )["id"])
        with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
            ws.session.execute(update(Customer).where(Customer.id == made[2]).values(
                addresses={"visiting": {"street": "Av. Vallarta", "number": "12", "letter": "c"}}))
        items, pages = sync_all(mb, "GetCustomersByLastChange", "customers", changedate="2000-01-01")
        assert [len(p["customers"]) for p in pages] == [4, 4, 2]
        assert ids_of(items) == sorted(made)
        for item in items:
            assert [item] == mb.call("GetCustomerByID", customerid=item["id"])["customers"]
    assert items[2]["address"] == "Av. Vallarta 12c"
