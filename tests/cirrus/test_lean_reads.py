"""The lean read path of the Cirrus face: generic GETs render read-only records
(polycrm/core/query/rows.py) with every reference kind loaded once per page."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from polycrm.core import fixtures, demo, links
from polycrm.core import query as q
from polycrm.core.documents import store_bytes
from polycrm.core.models import Contact, Customer, Document, Lookup, User
from polycrm.core.query import rows
from polycrm.core.workspace import Workspace
from polycrm.faces.cirrus.groups import served_operations
from polycrm.faces.cirrus.groups.accounts import BINDINGS as ACCOUNT_BINDINGS
from polycrm.faces.cirrus.handlers import Call
from polycrm.faces.cirrus.views import Ctx, prefetch, render
from tests.cirrus.helpers import auth, new_account, url


class OrmLoader(q.Loader):
    """What the face loaded before records: ORM objects, one query each time a row is read."""

    def _load(self, model, ids):
        found = self.ws.by_ids(model, ids)
        for i in ids:
            self._rows[(model, i)] = found.get(i)

    def prime_links_many(self, me_kind, ids, specs):
        for kind, outgoing, other in specs:
            for i in ids:
                key = self._link_key((kind, outgoing, other), me_kind, i)
                if outgoing:
                    self._links[key] = self._any_other_end(kind, me_kind, i, other, None)
                else:
                    self._links[key] = self._any_other_end(kind, other, None, me_kind, i)

    def prime_children(self, model, fk, parent_ids, sort=()):
        for i in parent_ids:
            self._children[(model, fk, int(i), tuple(sort))] = q.every(
                self.ws, model, [q.Criterion("eq", fk, int(i))], sort=sort)


def _account_world(client, runtime, tenant) -> dict[str, Any]:
    """Accounts with every kind of reference, some of them to deleted or missing rows."""
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"], blobs=runtime.blobs) as ws:
        fixtures.load(ws, demo.sample_data())
    h = auth(tenant)
    group = client.post(url("/accounts/accountgroups/"), json={"name": "Key"}, headers=h).json()
    gone_group = client.post(url("/accounts/accountgroups/"), json={"name": "Gone"}, headers=h).json()
    parent = new_account(client, tenant, name="Parent", addresses={"visiting": {"coordinates": {
        "latitude": "56.1", "longitude": "10.2"}}})
    plain = new_account(client, tenant, name="Plain")
    rich = new_account(client, tenant, name="Rich", parentaccountid=parent["id"],
                       accountgroups=[{"id": group["id"]}, {"id": gone_group["id"]}],
                       alternateuserid=tenant["user_id"])
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"], blobs=runtime.blobs) as ws:
        other_user = ws.create(User, username="gone", name="Gone", surname="User")
        tag = ws.create(Lookup, kind="tag", name="VIP", extra={"type": "account"})
        gone_type = ws.create(Lookup, kind="customer_type", name="Old type")
        for account in (rich, plain):
            links.link(ws, links.TAG, "customer", account["id"], "lookup", tag.id)
        # A link to a lookup that does not exist, and a follower who is deleted later.
        links.link(ws, links.TAG, "customer", rich["id"], "lookup", 987654)
        links.link(ws, links.FOLLOW, "app_user", tenant["user_id"], "customer", rich["id"])
        links.link(ws, links.FOLLOW, "app_user", other_user.id, "customer", rich["id"])
        doc = ws.create(Document, filename="offer.pdf", blob_sha256=store_bytes(ws, b"%PDF"))
        links.link(ws, links.FILE, "document", doc.id, "customer", rich["id"])
        ws.create(Contact, customer_id=rich["id"], name="Bo", surname="B", is_primary=False)
        ws.create(Contact, customer_id=rich["id"], name="Ann", surname="A", is_primary=True)
        ws.create(Contact, customer_id=rich["id"], name="Deleted", deleted=True)
        ws.create(Contact, customer_id=plain["id"], name="Cy")
        # Deleted references: a user, an account type, an account group; a missing alternate user.
        ws.get(User, other_user.id).deleted = True
        ws.get(Customer, plain["id"]).type_id = gone_type.id
        ws.get(Customer, plain["id"]).user_id = other_user.id
        ws.get(Lookup, gone_type.id).deleted = True
        ws.get(Lookup, gone_group["id"]).deleted = True
        customer = ws.get(Customer, plain["id"])
        customer.extra = {**(customer.extra or {}), "alternateuser_id": 876543}
    return {"rich": rich, "plain": plain, "parent": parent, "tag": tag.id, "group": group["id"]}


def _generic(binding) -> bool:
    return binding.handler.__qualname__.split(".")[0] in ("paged", "item", "listing")


def test_every_generic_read_renders_records_as_it_rendered_orm_objects(client, runtime, tenant):
    _account_world(client, runtime, tenant)
    checked = 0
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"], write=False) as ws:
        for operation in served_operations():
            binding = operation.binding
            if binding.entity is None or binding.view is None or not _generic(binding):
                continue
            entity, view = binding.entity, binding.view
            objs = q.every(ws, entity.model, list(entity.scope))
            records = q.every(ws, entity.model, list(entity.scope), records=True)
            assert [r.id for r in records] == [o.id for o in objs]
            old = Ctx(ws=ws, loader=OrmLoader(ws), user_id=tenant["user_id"])
            expected = [render(old, view, o) for o in objs]
            lean = Ctx(ws=ws, loader=q.Loader(ws), user_id=tenant["user_id"])
            prefetch(lean, view, records)
            assert [render(lean, view, r) for r in records] == expected, operation.operation_id
            checked += bool(records)
    assert checked >= 10


def test_a_page_reads_each_reference_kind_once(client, runtime, tenant):
    world = _account_world(client, runtime, tenant)
    binding = ACCOUNT_BINDINGS["get_account_collection"]
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    def page(per_page: int) -> tuple[dict, list[str]]:
        statements.clear()
        with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"], write=False) as ws:
            event.listen(ws.session.connection(), "before_cursor_execute", count)
            ctx = Ctx(ws=ws, loader=q.Loader(ws), user_id=tenant["user_id"])
            result = binding.handler(Call(op={}, ctx=ctx, path={}, query={"per_page": per_page}, body=None))
        return result, list(statements)

    small, small_statements = page(2)
    full, full_statements = page(50)
    assert len(full["items"]) > 5
    # No statement twice: nothing is read per row. The tenant's revision, the page (its
    # count is the small page's, kept for the same revision and list), the links of
    # every kind, then lookups, users, documents, accounts and contacts, one query each.
    assert not any("count(" in s for s in full_statements), full_statements
    assert len(set(full_statements)) == len(full_statements) <= 9, full_statements
    assert len([s for s in small_statements if "count(" not in s]) <= len(full_statements)
    rich = next(a for a in full["items"] if a["id"] == world["rich"]["id"])
    assert rich == client.get(url(f"/accounts/{world['rich']['id']}"), headers=auth(tenant)).json()


def test_references_to_deleted_and_missing_rows(client, runtime, tenant):
    world = _account_world(client, runtime, tenant)
    h = auth(tenant)
    page = client.get(url("/accounts/?per_page=50&sorting=name_asc"), headers=h).json()
    by_id = {a["id"]: a for a in page["items"]}
    rich, plain = by_id[world["rich"]["id"]], by_id[world["plain"]["id"]]
    assert rich["tags"] == [{"id": world["tag"], "name": "VIP", "type": "account"}]
    assert rich["accountgroups"] == [{"id": world["group"], "name": "Key"}]
    assert [f["id"] for f in rich["followers"]] == [tenant["user_id"]]
    assert [c["name"] for c in rich["contacts"]] == ["Ann", "Bo"]
    assert rich["files"][0]["name"] == "offer.pdf"
    assert rich["parentaccount"]["name"] == "Parent"
    assert rich["parentaccount"]["coordinates"] == {"latitude": "56.1", "longitude": "10.2", "distance": None}
    assert rich["alternateuser"]["id"] == tenant["user_id"]
    assert (plain["type"], plain["user"], plain["alternateuser"]) == (None, None, None)
    assert plain["alternateuserid"] == "876543"
    assert [c["name"] for c in plain["contacts"]] == ["Cy"]
    for account in (rich, plain):
        assert client.get(url(f"/accounts/{account['id']}"), headers=h).json() == account


def test_masks_on_items_pages_and_empty_pages(client, runtime, tenant):
    world = _account_world(client, runtime, tenant)
    h = auth(tenant)
    rich_id = world["rich"]["id"]
    full = client.get(url(f"/accounts/{rich_id}"), headers=h).json()
    r = client.get(url(f"/accounts/{rich_id}"), headers={**h, "X-Fields": "{tags{name},id,nosuch,contacts}"})
    assert r.json() == {"tags": [{"name": "VIP"}], "id": rich_id, "nosuch": None, "contacts": full["contacts"]}
    # Listed fields first, in mask order, then the rest in model order.
    r = client.get(url(f"/accounts/{rich_id}"), headers={**h, "X-Fields": "{name,*}"})
    assert list(r.json()) == ["name"] + [k for k in full if k != "name"]
    assert r.json() == full
    r = client.get(url("/accounts/?per_page=3"), headers={**h, "X-Fields": "{items{id,type{name}},page,x}"})
    assert list(r.json()) == ["items", "page", "x"]
    assert all(list(item) == ["id", "type"] for item in r.json()["items"])
    assert r.json()["page"] == 1 and r.json()["x"] is None
    r = client.get(url("/accounts/?per_page=3"), headers={**h, "X-Fields": "{total}"})
    assert r.json() == {"total": client.get(url("/accounts/"), headers=h).json()["total"]}
    r = client.get(url("/accounts/?per_page=3"), headers={**h, "X-Fields": "{pages,*}"})
    assert r.json() == client.get(url("/accounts/?per_page=3"), headers=h).json()
    assert list(r.json()) == ["pages", "page", "per_page", "total", "items"]
    # An empty page: a mask nested into the items' scalars finds nothing to refuse.
    r = client.get(url("/accounts/?name=nobody"), headers={**h, "X-Fields": "{total,items{id{x}}}"})
    assert r.status_code == 200 and r.json() == {"total": 0, "items": []}
    r = client.get(url("/accounts/?per_page=1"), headers={**h, "X-Fields": "{items{id{x}}}"})
    assert r.status_code == 400 and r.json() == {"message": "Mask error: Mask is inconsistent with model"}
    r = client.get(url("/accounts/?per_page=1"), headers={**h, "X-Fields": "{total{x}}"})
    assert r.status_code == 400 and r.json() == {"message": "Mask error: Mask is inconsistent with model"}
    # A null value takes a nested mask (it stays null), as in Flask-RESTX.
    r = client.get(url(f"/accounts/{world['plain']['id']}"), headers={**h, "X-Fields": "{type{name},alt_name{x}}"})
    assert r.json() == {"type": None, "alt_name": None}
    types = client.get(url("/accounts/accounttypes"), headers={**h, "X-Fields": "{name}"}).json()
    assert types and all(list(t) == ["name"] for t in types)


def test_lean_reads_see_only_the_workspace_tenant(client, runtime, tenant, other_tenant):
    mine = new_account(client, tenant, name="Mine")
    theirs = new_account(client, other_tenant, name="Theirs")
    with Workspace(runtime.db, other_tenant["tenant_id"]) as ws:
        ws.create(Contact, customer_id=theirs["id"], name="Their contact")
        links.link(ws, links.FOLLOW, "app_user", other_tenant["user_id"], "customer", theirs["id"])
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        assert set(rows.by_ids(ws, Customer, [mine["id"], theirs["id"]])) == {mine["id"]}
        assert rows.children(ws, Contact, "customer_id", [theirs["id"]], (), lambda: [Contact.id]) == []
        assert rows.links(ws, "customer", [theirs["id"]], [(links.FOLLOW, False, "app_user")]) == {}
    r = client.get(url(f"/accounts/{theirs['id']}"), headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": f"Account {theirs['id']} not found"}


def test_records_read_like_orm_objects(runtime, tenant):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        created = ws.create(Customer, name="Rec", addresses={"postal": {"city": "Ry"}}, extra={"a": 1})
        record = rows.by_ids(ws, Customer, [created.id])[created.id]
    assert type(record).__tablename__ == q.entity_kind(Customer) == "customer"
    assert rows.is_record(record) and not rows.is_record(created)
    for prop in Customer.__mapper__.column_attrs:
        assert getattr(record, prop.key) == getattr(created, prop.key), prop.key
    with pytest.raises(AttributeError):
        record.name = "changed"  # type: ignore[misc]


def test_a_write_workspace_reads_its_own_unflushed_changes(runtime, tenant):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        created = ws.create(Customer, name="Before")
        created.name = "After"
        assert q.Loader(ws).get(Customer, created.id).name == "After"


def test_records_links_and_children_of_any_number_of_ids(client, runtime, tenant):
    """Few ids take statements of their own (one bind parameter each), more take one
    expanding parameter: both find the same rows."""
    accounts = [new_account(client, tenant, name=f"Count {i}")["id"] for i in range(rows.INLINE_VALUES + 2)]
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        tag = ws.create(Lookup, kind="tag", name="Counted", extra={"type": "account"})
        for account in accounts:
            ws.create(Contact, customer_id=account, name=f"Contact of {account}")
            links.link(ws, links.TAG, "customer", account, "lookup", tag.id)
            links.link(ws, links.FOLLOW, "app_user", tenant["user_id"], "customer", account)
    specs = [(links.TAG, True, "lookup"), (links.FOLLOW, False, "app_user")]
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"], write=False) as ws:
        for n in (1, 2, rows.INLINE_VALUES, rows.INLINE_VALUES + 1, len(accounts)):
            wanted = accounts[:n]
            found = rows.by_ids(ws, Customer, [*wanted, 987654])
            assert sorted(found) == wanted
            assert {i: r.name for i, r in found.items()} == {
                i: o.name for i, o in ws.by_ids(Customer, wanted).items()}
            kids = rows.children(ws, Contact, "customer_id", wanted, (), lambda: [Contact.__table__.c.id])
            assert sorted(k.customer_id for k in kids) == wanted
            linked = rows.links(ws, "customer", wanted, specs)
            assert linked == {**{(specs[0], i): [tag.id] for i in wanted},
                              **{(specs[1], i): [tenant["user_id"]] for i in wanted}}
            assert rows.links(ws, "customer", wanted, specs[:1]) == {(specs[0], i): [tag.id] for i in wanted}


def test_a_record_by_id_is_read_on_the_event_loop_on_sqlite(client, runtime, backend, tenant, monkeypatch):
    """A GET of one record skips the thread hand-over on SQLite (WAL reads never wait);
    lists, writes and every request on PostgreSQL still run in the thread pool."""
    from polycrm.faces.cirrus import endpoint

    account = new_account(client, tenant, name="Inline")
    pooled: list[str] = []
    plain = endpoint.run_in_threadpool

    async def noted(fn, request, *args):
        pooled.append(f"{request.method} {request.url.path}")
        return await plain(fn, request, *args)

    monkeypatch.setattr(endpoint, "run_in_threadpool", noted)
    got = client.get(url(f"/accounts/{account['id']}"), headers=auth(tenant))
    assert got.status_code == 200 and got.json()["name"] == "Inline"
    missing = client.get(url("/accounts/999999999"), headers=auth(tenant))
    assert missing.status_code == 404 and "message" in missing.json()
    unauthorised = client.get(url(f"/accounts/{account['id']}"), headers={"X-Token": "nope"})
    assert unauthorised.status_code == 401
    listed = client.get(url("/accounts/"), headers=auth(tenant))
    assert listed.status_code == 200
    item = "GET " + url(f"/accounts/{account['id']}")
    if backend == "sqlite":
        assert pooled == [f"GET {url('/accounts/')}"]
    else:
        assert pooled.count(item) == 2 and len(pooled) == 4
