"""Fulltext and nearto through the search indexes (migration 0002).

On SQLite a ``fulltext`` term of three or more characters is looked up in the
FTS5 trigram table ``customer_fts`` (kept current by triggers), shorter terms
are scanned for with LIKE; on PostgreSQL ``ILIKE`` runs as before with a
pg_trgm GIN index under it. Either way the matches must be exactly those of
"every term occurs in search_text, case-insensitively". No timings here:
docs/benchmarks.md has those.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, text

from tests.cirrus.helpers import auth, new_account, url
from tests.microbizz.helpers import MB
from polycrm.core import query as q
from polycrm.core.query import listing
from polycrm.core.models import Customer
from polycrm.core.workspace import Workspace
from polycrm.store.engine import fts_tables


def listed(client, tenant, **params) -> dict:
    r = client.get(url("/accounts/"), params={"per_page": 50, **params}, headers=auth(tenant))
    assert r.status_code == 200, r.text
    return r.json()


def names(page: dict) -> list[str]:
    return [a["name"] for a in page["items"]]


def fts_ok(runtime) -> None:
    """SQLite: the FTS index agrees with the customer table it indexes."""
    if runtime.db.is_sqlite:
        with runtime.db.engine.begin() as conn:
            conn.execute(text("INSERT INTO customer_fts(customer_fts) VALUES ('integrity-check')"))


def test_sqlite_searches_through_the_fts_table(runtime):
    if not runtime.db.is_sqlite:
        pytest.skip("PostgreSQL keeps ILIKE (with a GIN trigram index under it)")
    assert "customer_fts" in fts_tables(runtime.db.engine.dialect)
    stmt = select(Customer.id).where(q.condition(Customer, q.Criterion("fulltext", "search_text", "Nordic aa")))
    sql = str(stmt.compile(runtime.db.engine))
    assert "customer_fts MATCH" in sql  # "nordic" through the index ...
    assert "LIKE" in sql  # ... "aa" (two characters) scanned for


def sqlite_plan(runtime, stmt) -> str:
    """SQLite's query plan of ``stmt``, one line (the test skips on PostgreSQL)."""
    if not runtime.db.is_sqlite:
        pytest.skip("PostgreSQL plans by its statistics")
    with runtime.db.engine.connect() as conn:
        compiled = stmt.compile(conn)
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", tuple(compiled.params.values()))
        return " ".join(r[-1] for r in rows)


LIVE = (Customer.deleted.is_(False), Customer.active.is_(True), Customer.tenant_id == 1)


def test_sqlite_sorts_account_numbers_through_their_index(runtime):
    stmt = select(Customer.id).where(*LIVE).order_by(*q.order_by(Customer, [q.Sort("number", mode="numeric_text")]))
    plan = sqlite_plan(runtime, stmt)
    assert "ix_customer_number_sort" in plan and "TEMP B-TREE" not in plan  # no sort of the whole tenant


def test_sqlite_keeps_lookups_off_the_partial_indexes(runtime):
    """Migrations 0004 and 0007: a lookup by number or name uses its own index
    (a partial index would read the whole tenant), and a count of the live,
    active customers one of the partial indexes."""
    by_number = sqlite_plan(runtime, select(Customer.id).where(*LIVE, Customer.number == "10001"))
    assert "INDEX ix_customer_number (" in by_number
    by_name = sqlite_plan(runtime, select(Customer.id).where(*LIVE, Customer.name_folded == "acme"))
    assert "INDEX ix_customer_name (" in by_name
    counted = sqlite_plan(runtime, select(func.count()).select_from(select(Customer).where(*LIVE).subquery()))
    assert "ix_customer_live" in counted or "ix_customer_number_sort" in counted


def test_short_and_long_terms_both_match(client, runtime, tenant):
    new_account(client, tenant, name="Nordic Tømrer ApS", addresses={"visiting": {"street": "Havnegade 4", "city": "Aalborg"}})
    new_account(client, tenant, name="Southern Paints A/S", addresses={"visiting": {"city": "Odense C"}})
    new_account(client, tenant, name="Nord VVS", addresses={"visiting": {"city": "Aarhus C"}})
    assert names(listed(client, tenant, fulltext="aa")) == ["Nord VVS", "Nordic Tømrer ApS"]  # aarhus, aalborg
    assert names(listed(client, tenant, fulltext="nordic")) == ["Nordic Tømrer ApS"]
    assert names(listed(client, tenant, fulltext="NORD")) == ["Nord VVS", "Nordic Tømrer ApS"]
    assert names(listed(client, tenant, fulltext="aa nord")) == ["Nord VVS", "Nordic Tømrer ApS"]
    assert names(listed(client, tenant, fulltext="c vvs")) == ["Nord VVS"]
    assert names(listed(client, tenant, fulltext="TØMRER aalborg")) == ["Nordic Tømrer ApS"]
    assert names(listed(client, tenant, fulltext="a/s")) == ["Southern Paints A/S"]
    assert names(listed(client, tenant, fulltext="gade 4")) == ["Nordic Tømrer ApS"]
    assert listed(client, tenant, fulltext="nordic paints")["total"] == 0
    assert listed(client, tenant, fulltext="zzzq")["total"] == 0
    fts_ok(runtime)


def test_terms_are_text_not_search_syntax(client, runtime, tenant):
    new_account(client, tenant, name='Say "Hello" 100% Ltd_x')
    new_account(client, tenant, name="Other 1000 Ltd")
    assert names(listed(client, tenant, fulltext='"hello"')) == ['Say "Hello" 100% Ltd_x']
    assert names(listed(client, tenant, fulltext='hello" or "other')) == []
    assert names(listed(client, tenant, fulltext="100%")) == ['Say "Hello" 100% Ltd_x']
    assert names(listed(client, tenant, fulltext="ltd_")) == ['Say "Hello" 100% Ltd_x']
    assert names(listed(client, tenant, fulltext="lt* AND other")) == []
    assert names(listed(client, tenant, fulltext="other NEAR ltd")) == []


def test_a_customer_renamed_through_microbizz_is_found_by_its_new_name(client, runtime, tenant):
    mb = MB(client, tenant)
    customer = mb.customer(name="Gammel Navn A/S", city="Vejle")
    assert names(listed(client, tenant, fulltext="gammel")) == ["Gammel Navn A/S"]
    mb.call("CreateUpdateCustomerByID", customer={"id": customer["id"], "name": "Ny Virksomhed ApS"})
    assert names(listed(client, tenant, fulltext="virksomhed")) == ["Ny Virksomhed ApS"]
    assert names(listed(client, tenant, fulltext="ny vejle")) == ["Ny Virksomhed ApS"]
    assert listed(client, tenant, fulltext="gammel")["total"] == 0
    fts_ok(runtime)


def test_search_stays_in_the_tenant_and_skips_deleted_rows(client, runtime, tenant, other_tenant):
    new_account(client, other_tenant, name="Shared Name Holding")
    mine = new_account(client, tenant, name="Shared Name Holding")
    assert [a["id"] for a in listed(client, tenant, fulltext="shared holding")["items"]] == [mine["id"]]
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        ws.get(Customer, mine["id"]).deleted = True
    assert listed(client, tenant, fulltext="shared holding")["total"] == 0
    fts_ok(runtime)


def test_a_row_removed_for_good_leaves_the_index(runtime, tenant):
    """The delete trigger: a new row that gets a removed row's id is not found by the old text."""
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        gone = ws.create(Customer, name="Vanished Quux")
        gone_id = gone.id
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        ws.session.execute(delete(Customer).where(Customer.id == gone_id))
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        ws.create(Customer, name="Present Corp")
        page = q.search(ws, Customer, [q.Criterion("fulltext", "search_text", "vanished quux")])
        assert page.total == 0 and page.items == []
        assert [c.name for c in q.search(ws, Customer, [q.Criterion("fulltext", "search_text", "present")]).items] == ["Present Corp"]
    fts_ok(runtime)


def test_few_or_many_matches_come_in_the_same_order(runtime, tenant, monkeypatch):
    """A page of few matches is sorted after finding them; the order is the same either way."""
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        for i, name in enumerate(["delta", "Alpha", "charlie", "bravo", "alpha", "Echo"]):
            ws.create(Customer, name=f"{name} Sortco", number=str(10 - i))
    sorts = ([q.Sort("name_folded")], [q.Sort("number", True, "numeric_text")], [q.Sort("name", mode="text")], [])

    def pages():
        with Workspace(runtime.db, tenant["tenant_id"]) as ws:
            crit = [q.Criterion("fulltext", "search_text", "sortco")]
            return [[c.id for c in q.search(ws, Customer, crit, sort=s, per_page=4, page=p).items]
                    for s in sorts for p in (1, 2)]

    few = pages()
    monkeypatch.setattr(listing, "FEW_MATCHES", 0)
    assert pages() == few
    assert len(few[0]) == 4 and len(few[1]) == 2


def test_nearto_pages_total_and_sorting(client, tenant):
    def at(name, lat, lng):
        return new_account(client, tenant, name=name,
                           addresses={"visiting": {"coordinates": {"latitude": lat, "longitude": lng}}})

    for i, name in enumerate(["Echo", "Delta", "Charlie", "Bravo", "Alpha"]):
        at(name, str(55.68 + i * 0.01), "12.57")
    at("Far Away", "56.16", "10.2")
    params = {"nearto": "55.70,12.57", "distance": "10", "per_page": 2}
    first = listed(client, tenant, **params)
    assert (first["total"], first["pages"], names(first)) == (5, 3, ["Alpha", "Bravo"])
    assert names(listed(client, tenant, **params, page=3)) == ["Echo"]
    assert names(listed(client, tenant, **params, sorting="name_desc")) == ["Echo", "Delta"]
    for item in first["items"]:
        assert float(item["addresses"]["visiting"]["coordinates"]["distance"]) < 3
    r = client.get(url("/accounts/"), params={**params, "page": 4}, headers=auth(tenant))
    assert r.status_code == 400
    assert listed(client, tenant, nearto="55.70,12.57", distance="10", fulltext="charlie")["total"] == 1


def test_nearto_distances_are_the_haversine_distances(runtime, tenant):
    points = [(55.6761, 12.5683), (55.70, 12.60), (55.6, 12.4), (56.16, 10.2)]
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        for i, (lat, lng) in enumerate(points):
            ws.create(Customer, name=f"P{i}", latitude=lat, longitude=lng)
    center = q.Near(lat=55.68, lng=12.57, km=20)
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        found = q.search(ws, Customer, near_to=center, per_page=10)
        by_name = {c.name: found.distances[c.id] for c in found.items}
    expected = {f"P{i}": q.haversine_km(center.lat, center.lng, lat, lng) for i, (lat, lng) in enumerate(points)}
    assert by_name == {name: km for name, km in expected.items() if km <= center.km}  # the same floats exactly
    assert set(by_name) == {"P0", "P1", "P2"}


def test_sqlite_without_the_fts_table_falls_back_to_like(tmp_path):
    """A SQLite library without FTS5 trigram gets no customer_fts (migration 0002 skips it): LIKE, same matches."""
    from polycrm.core import tenants
    from polycrm.store.engine import Database

    db = Database(f"sqlite:///{tmp_path / 'plain.sqlite3'}")
    try:
        db.upgrade()
        with db.engine.begin() as conn:
            for trigger in ("customer_fts_insert", "customer_fts_delete", "customer_fts_update"):
                conn.execute(text(f"DROP TRIGGER {trigger}"))
            conn.execute(text("DROP TABLE customer_fts"))
        db.dispose()  # the next connection notices
        creds = tenants.create(db, tenants.NewTenant(name="plain"))
        with Workspace(db, creds["tenant_id"], creds["user_id"]) as ws:
            ws.create(Customer, name="Fallback Fabrik ApS")
            crit = [q.Criterion("fulltext", "search_text", "FABRIK aps")]
            assert "customer_fts" not in str(select(Customer.id).where(q.condition(Customer, crit[0])).compile(db.engine))
            assert [c.name for c in q.search(ws, Customer, crit).items] == ["Fallback Fabrik ApS"]
    finally:
        db.dispose()
