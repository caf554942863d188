"""nearto through the spatial index of customer points (migration 0021).

On SQLite the R*Tree ``customer_geo`` (kept by triggers) finds the
candidates, on PostgreSQL a GiST index on ``point(longitude, latitude)``.
Either way the rows, their order and their distances must be exactly those of
measuring every customer: the index only narrows the candidates. No timings
here: bench/scale_bench.py prints those.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, select, text, update

from polycrm.core import customers, fixture_files, fixtures, revision, tenants
from polycrm.core import query as q
from polycrm.core.merge import merge_customers
from polycrm.core.models import Customer
from polycrm.core.query import geo
from polycrm.core.workspace import Workspace
from polycrm.store.engine import Database, fts_tables
from tests.store.test_migrations import fresh_db, migrate  # noqa: F401 (fixture)

# Points around the antimeridian, the north pole and Copenhagen, two on the same
# spot (a tie in distance), and customers with one or no coordinate.
POINTS = [
    ("Cph A", 55.6761, 12.5683), ("Cph B", 55.70, 12.60), ("Cph C", 55.6761, 12.5683), ("Roskilde", 55.64, 12.08),
    ("Aarhus", 56.16, 10.2), ("Fiji East", -16.5, 179.95), ("Fiji West", -16.5, -179.95), ("Taveuni", -16.8, 179.98),
    ("Pole A", 89.95, 0.0), ("Pole B", 89.97, 120.0), ("Equator", 0.0, 0.0), ("Lat only", 55.68, None),
    ("No point", None, None),
]
CENTRES = [
    q.Near(55.68, 12.57, 10), q.Near(55.68, 12.57, 40), q.Near(55.68, 12.57, 0.5), q.Near(-16.5, 180.0, 50),
    q.Near(-16.6, -179.99, 30), q.Near(89.9, -60.0, 20), q.Near(0.0, 0.0, 0.0), q.Near(10.0, 10.0, 20000),
]


def make_points(ws: Workspace) -> dict[str, int]:
    return {name: ws.create(Customer, name=name, latitude=lat, longitude=lng).id for name, lat, lng in POINTS}


def measured(ws: Workspace, centre: q.Near) -> list[tuple[int, float]]:
    """(id, km) of every live customer of the tenant in the circle, by id: measuring them all."""
    rows = ws.session.execute(select(Customer.id, Customer.latitude, Customer.longitude).where(
        Customer.tenant_id == ws.tenant_id, Customer.deleted.is_(False)).order_by(Customer.id)).all()
    out = []
    for id_, lat, lng in rows:
        if lat is not None and lng is not None:
            km = q.haversine_km(centre.lat, centre.lng, lat, lng)
            if km <= centre.km:
                out.append((id_, km))
    return out


def index_agrees(runtime) -> None:
    """SQLite: the R*Tree holds each customer with both coordinates once, at its point."""
    if not runtime.db.is_sqlite:
        return
    with runtime.db.engine.connect() as conn:
        indexed = {r[0]: r[1:] for r in conn.exec_driver_sql(
            "SELECT id, min_lat, max_lat, min_lng, max_lng FROM customer_geo")}
        points = {r[0]: r[1:] for r in conn.exec_driver_sql(
            "SELECT id, latitude, longitude FROM customer WHERE latitude IS NOT NULL AND longitude IS NOT NULL")}
    assert indexed.keys() == points.keys()
    for id_, (lat, lng) in points.items():
        lo_lat, hi_lat, lo_lng, hi_lng = indexed[id_]
        assert lo_lat <= lat <= hi_lat and lo_lng <= lng <= hi_lng  # 32-bit bounds, rounded outwards
        assert hi_lat - lo_lat < 1e-4 and hi_lng - lo_lng < 1e-4


def test_sqlite_has_the_rtree(runtime):
    if not runtime.db.is_sqlite:
        pytest.skip("PostgreSQL has a GiST index instead")
    assert "customer_geo" in fts_tables(runtime.db.engine.dialect)


@pytest.mark.parametrize("centre", CENTRES, ids=lambda c: f"{c.lat},{c.lng},{c.km}")
def test_nearto_finds_what_measuring_every_customer_finds(runtime, tenant, centre):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        make_points(ws)
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        found = q.search(ws, Customer, near_to=centre, per_page=100)
        assert [(c.id, found.distances[c.id]) for c in found.items] == measured(ws, centre)  # same floats, by id
    index_agrees(runtime)


def test_pages_ties_and_sorting_are_those_without_the_index(runtime, tenant, monkeypatch):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        make_points(ws)
    centre = q.Near(55.68, 12.57, 40)

    def pages(sort):
        with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
            return [(p.total, [c.name for c in p.items], p.distances) for p in
                    (q.search(ws, Customer, near_to=centre, per_page=2, page=n, sort=sort) for n in (1, 2))]

    sorts = [(), (q.Sort("name", True),), (q.Sort("name"),)]
    indexed = [pages(s) for s in sorts]
    monkeypatch.setattr(geo, "spatial_candidates", lambda *a: [])
    assert [pages(s) for s in sorts] == indexed
    assert indexed[0][0][0] == 4 and indexed[0][0][1] == ["Cph A", "Cph B"]


def test_every_customer_write_keeps_the_index(runtime, tenant):
    """Create, move, clear the coordinates, delete, merge and remove for good: the circle follows."""
    near = q.Near(55.68, 12.57, 10)
    with tenants.workspace(runtime.db, tenant["tenant"]) as ws:
        ids = make_points(ws)
    with tenants.workspace(runtime.db, tenant["tenant"]) as ws:
        customers.update(ws, ws.require(Customer, ids["Aarhus"]),
                         {"latitude": 55.69, "longitude": 12.55})
        customers.update(ws, ws.require(Customer, ids["Cph B"]),
                         {"latitude": None, "longitude": None})
        customers.delete(ws, ws.require(Customer, ids["Cph C"]))
        merge_customers(ws, ws.require(Customer, ids["Cph A"]), ws.require(Customer, ids["Roskilde"]))
        ws.session.execute(update(Customer).where(Customer.id == ids["Equator"]).values(latitude=55.68, longitude=12.57))
        ws.session.execute(delete(Customer).where(Customer.id == ids["Pole A"]))
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        found = q.search(ws, Customer, near_to=near, per_page=100)
        assert {c.name for c in found.items} == {"Cph A", "Aarhus", "Equator"}
        assert [(c.id, found.distances[c.id]) for c in found.items] == measured(ws, near)
    index_agrees(runtime)


def test_a_failed_write_leaves_the_index_as_it_was(runtime, tenant):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        make_points(ws)
    with pytest.raises(RuntimeError):
        with Workspace(runtime.db, tenant["tenant_id"]) as ws:
            ws.create(Customer, name="Rolled back", latitude=55.68, longitude=12.57)
            ws.flush()
            raise RuntimeError("the transaction fails")
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        assert "Rolled back" not in {c.name for c in q.search(ws, Customer, near_to=q.Near(55.68, 12.57, 1)).items}
    index_agrees(runtime)


def test_a_bulk_load_indexes_its_customers(runtime, tenant, tmp_path):
    path = tmp_path / "points.jsonl"
    path.write_text("\n".join(json.dumps({"name": f"Load {i}", "latitude": 55.6 + i / 100, "longitude": 12.5})
                              for i in range(20)) + "\n" + json.dumps({"name": "Load none"}) + "\n")
    with tenants.workspace(runtime.db, tenant["tenant"], runtime.blobs) as ws:
        assert fixtures.Loader(ws).load_source(fixture_files.open_source(path, "customers")) == {"customers": 21}
    centre = q.Near(55.68, 12.5, 5)
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        found = q.search(ws, Customer, near_to=centre, per_page=100)
        assert [(c.id, found.distances[c.id]) for c in found.items] == measured(ws, centre)
        assert len(found.items) == 9  # Load 4 .. Load 12
    index_agrees(runtime)


def test_sqlite_finds_the_candidates_through_the_rtree(runtime, tenant):
    if not runtime.db.is_sqlite:
        pytest.skip("PostgreSQL plans by its statistics (see the GiST test)")
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        conds = geo.spatial_candidates(ws, 55.0, 56.0, [(12.0, 13.0)])
        stmt = select(Customer.id).where(Customer.tenant_id == ws.tenant_id, Customer.deleted.is_(False), *conds)
        compiled = stmt.compile(runtime.db.engine)
        plan = " ".join(r[-1] for r in ws.session.connection().exec_driver_sql(
            f"EXPLAIN QUERY PLAN {compiled}", tuple(compiled.params.values())))
    assert "VIRTUAL TABLE INDEX" in plan and "customer_geo" in plan


def test_postgresql_can_use_the_gist_index(runtime, tenant):
    if runtime.db.is_sqlite:
        pytest.skip("SQLite has the R*Tree")
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        conds = geo.spatial_candidates(ws, 55.0, 56.0, [(12.0, 13.0)])
        stmt = select(Customer.id).where(Customer.latitude.is_not(None), Customer.longitude.is_not(None), *conds)
        compiled = stmt.compile(runtime.db.engine, compile_kwargs={"literal_binds": True})
        conn = ws.session.connection()
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = " ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}"))
    assert "ix_customer_geo_point" in plan


def test_0021_indexes_the_customers_made_before_it(fresh_db, monkeypatch):  # noqa: F811
    made = tenants.create(fresh_db, tenants.NewTenant(name="before-0021"))
    migrate(fresh_db, "0020")
    monkeypatch.setattr(revision, "bump", lambda conn, tenant_id: None)  # the code of 0020 kept no revision
    with Workspace(fresh_db, made["tenant_id"]) as ws:
        make_points(ws)
    migrate(fresh_db, "head")
    fresh_db.dispose()  # the next connection notices the R*Tree
    db = Database(fresh_db.url)
    try:
        if db.is_sqlite:
            with db.engine.connect() as conn:
                assert conn.exec_driver_sql("SELECT count(*) FROM customer_geo").scalar() == 11
        centre = q.Near(55.68, 12.57, 40)
        with Workspace(db, made["tenant_id"], write=False) as ws:
            found = q.search(ws, Customer, near_to=centre, per_page=100)
            assert [(c.id, found.distances[c.id]) for c in found.items] == measured(ws, centre)
            assert len(found.items) == 4
    finally:
        db.dispose()
