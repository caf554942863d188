"""Bulk loading (``polycrm load``): CSV, JSON Lines and streamed JSON files,
customers written set-wise with the customer service's rules, all or nothing.

Each test loads into a fresh tenant through the loader the CLI uses, on
SQLite and PostgreSQL; batches are made small so that a load spans several.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select, text

from polycrm.core import bulk, fixture_files, fixtures, lookups, tenants
from polycrm.core import query as q
from polycrm.core.errors import CoreError
from polycrm.core.models import Contact, Customer, User
from polycrm.core.workspace import Workspace
from tests.conftest import new_tenant
from tests.core.test_spatial_index import index_agrees as spatial_index_agrees


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    monkeypatch.setattr(bulk, "BATCH_SIZE", 3)
    monkeypatch.setattr(fixture_files, "STREAM_ABOVE", 0)  # every JSON file is streamed


def load_file(runtime, tenant, path, entity=None) -> dict:
    source = fixture_files.open_source(path, entity)
    with tenants.workspace(runtime.db, tenant["tenant"], runtime.blobs) as ws:
        return fixtures.Loader(ws).load_source(source)


def stored(runtime, tenant) -> dict[str, Customer]:
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        return {c.name: c for c in ws.scalars(select(Customer))}


def found_by_fulltext(runtime, tenant, words: str) -> set[str]:
    crit = q.Criterion("fulltext", "search_text", words)
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        return set(ws.scalars(select(Customer.name).where(q.condition(Customer, crit))))


def fts_ok(runtime) -> None:
    if runtime.db.is_sqlite:
        with runtime.db.engine.begin() as conn:
            conn.execute(text("INSERT INTO customer_fts(customer_fts) VALUES ('integrity-check')"))
            triggers = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert "customer_fts_insert" in triggers  # put back after the load


CSV = (
    "ref,name,number,type_name,addresses.visiting.street,addresses.visiting.city,latitude,longitude,parent_ref,active\n"
    "hq,Fjordhuset A/S,F-1,Supplier,Havnegade 4,Aarhus,56.15,10.21,,true\n"
    'north,"Fjordhuset Nord, Aalborg",F-2,,,Aalborg,,,hq,0\n'
    "\n"
    "c3,Tredje Kunde,,,,,,,,\n"
    "c4,Fjerde Kunde,F-4,,,Odense,,,north,\n"
)


def test_a_csv_file_loads_customers_with_the_services_rules(runtime, tenant, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(CSV, encoding="utf-8")
    assert load_file(runtime, tenant, path, "customers") == {"customers": 4}
    rows = stored(runtime, tenant)
    hq, north, third, fourth = (rows[n] for n in ("Fjordhuset A/S", "Fjordhuset Nord, Aalborg", "Tredje Kunde", "Fjerde Kunde"))
    assert north.parent_id == hq.id and fourth.parent_id == north.id  # across batches of three
    assert hq.latitude == 56.15 and hq.addresses["visiting"] == {
        "street": "Havnegade 4", "city": "Aarhus", "latitude": 56.15, "longitude": 10.21}
    assert (hq.active, north.active, third.active) == (True, False, True)
    assert third.number is None and hq.name_folded == "fjordhuset a/s"
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        supplier = lookups.by_name(ws, "customer_type", "Supplier")
        default = lookups.default(ws, "customer_type")
        admin = ws.first(select(User).where(User.is_admin.is_(True)))
    assert hq.type_id == supplier.id and north.type_id == default.id  # the list's default entry
    assert {c.user_id for c in rows.values()} == {admin.id}  # the acting user as seller
    assert found_by_fulltext(runtime, tenant, "fjordhuset aalb") == {"Fjordhuset Nord, Aalborg"}
    assert found_by_fulltext(runtime, tenant, "odense") == {"Fjerde Kunde"}
    fts_ok(runtime)


def test_json_lines_load_contacts_and_customers(runtime, tenant, tmp_path):
    customers = tmp_path / "c.jsonl"
    customers.write_text("\n".join(json.dumps({"name": f"Linje {i}", "number": str(100 + i)}) for i in range(7)) + "\n")
    assert load_file(runtime, tenant, customers, "customers") == {"customers": 7}
    contacts = tmp_path / "p.ndjson"
    contacts.write_text(json.dumps({"name": "Ada", "customer_id": stored(runtime, tenant)["Linje 3"].id}) + "\n")
    assert load_file(runtime, tenant, contacts, "contacts") == {"contacts": 1}
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        [ada] = ws.scalars(select(Contact))
        assert ada.customer_id == stored(runtime, tenant)["Linje 3"].id
    assert found_by_fulltext(runtime, tenant, "105") == {"Linje 5"}


def test_a_streamed_json_file_loads_every_section(runtime, tenant, tmp_path):
    data = {
        "customer_types": ["Grossist"],
        "customers": [{"ref": f"c{i}", "name": f"Strøm {i}", "type_name": "Grossist", "vat": f"DK{i:08d}",
                       "trade": "vvs", **({"parent_ref": "c0"} if i else {})} for i in range(8)],
        "contacts": [{"name": "Bo", "customer_ref": "c7"}],
    }
    path = tmp_path / "big.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert load_file(runtime, tenant, path) == {"customer_type": 1, "customers": 8, "contacts": 1}
    rows = stored(runtime, tenant)
    assert len(rows) == 8 and rows["Strøm 7"].parent_id == rows["Strøm 0"].id
    assert rows["Strøm 2"].extra == {"trade": "vvs"} and rows["Strøm 2"].vat == "DK00000002"
    assert found_by_fulltext(runtime, tenant, "strøm dk00000005") == {"Strøm 5"}
    fts_ok(runtime)


@pytest.mark.parametrize(("content", "suffix", "message"), [
    ("name,number\nA,1\nB,2\nC,3\n,4\nE,5\n", ".csv", "line 5: name must not be empty"),
    ("name,number\nA,1\nB,2\nC,3\nD,x1\nE,X1\n", ".csv", "line 6: number X1 is already used (by line 5)"),
    ("name,latitude\nA,1\nB,2\nC,3\nD,north\n", ".csv", "line 5: latitude: 'north' is not a valid value"),
    ("name,type_id\nA,\nB,\nC,\nD,999999\n", ".csv", "line 5: type_id 999999 not found"),
    ("name,parent_ref\nA,\nB,\nC,\nD,nobody\n", ".csv", "line 5: parent_ref 'nobody' names no earlier item"),
    ('{"name": "A"}\n{"name": "B"}\n{"name": "C"}\n{"name": "D",\n', ".jsonl", "line 4: not JSON"),
    (json.dumps({"customer_types": ["Grossist"], "customers": [{"name": "A"}, {"name": "B"}, {"name": "C"}, {"name": "D", "email": "a\x00b"}]}),
     ".json", "customers item 4: email must not contain a NUL character"),
])
def test_a_bad_row_writes_nothing_and_is_named(runtime, tenant, tmp_path, content, suffix, message):
    path = tmp_path / f"bad{suffix}"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CoreError) as caught:
        load_file(runtime, tenant, path, None if suffix == ".json" else "customers")
    assert caught.value.message.startswith(message), caught.value.message
    assert stored(runtime, tenant) == {}  # the first batch of three was written, then rolled back
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        assert lookups.by_name(ws, "customer_type", "Grossist") is None
    fts_ok(runtime)


def test_a_number_another_customer_has_is_refused(runtime, tenant, tmp_path):
    with tenants.workspace(runtime.db, tenant["tenant"]) as ws:
        fixtures.load(ws, {"customers": [{"name": "Holder", "number": "K-9"}]})
    path = tmp_path / "c.csv"
    path.write_text("name,number\nA,1\nB, k-9 \n")
    with pytest.raises(CoreError) as caught:
        load_file(runtime, tenant, path, "customers")
    assert caught.value.message == "line 3: number  k-9  is already used"
    assert set(stored(runtime, tenant)) == {"Holder"}


def test_the_rows_of_a_load_belong_to_its_tenant_only(runtime, tenant, tmp_path):
    other = new_tenant(runtime)
    path = tmp_path / "c.csv"
    path.write_text("name,number\nEgen,1\n")
    load_file(runtime, tenant, path, "customers")
    load_file(runtime, other, path, "customers")  # the same number in another tenant is free
    assert set(stored(runtime, tenant)) == {"Egen"} and set(stored(runtime, other)) == {"Egen"}
    with runtime.db.engine.connect() as conn:
        counts = dict(conn.execute(select(Customer.tenant_id, func.count()).where(
            Customer.tenant_id.in_([tenant["tenant_id"], other["tenant_id"]])).group_by(Customer.tenant_id)).all())
    assert counts == {tenant["tenant_id"]: 1, other["tenant_id"]: 1}


def test_a_csv_file_needs_an_entity(runtime, tenant, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("name\nA\n")
    with pytest.raises(CoreError) as caught:
        fixture_files.open_source(path, None)
    assert caught.value.message == "c.csv: a CSV file needs --entity (e.g. --entity customers)"


def test_a_failed_load_gives_the_connection_its_page_cache_back(runtime, tenant, tmp_path):
    if not runtime.db.is_sqlite:
        pytest.skip("the page cache is SQLite's")
    path = tmp_path / "c.csv"
    path.write_text("name,number\nA,1\nB,2\nC,3\nD,4\n,5\n")  # the first batch is written, then line 6 fails
    with tenants.workspace(runtime.db, tenant["tenant"]) as ws:
        before = ws.session.connection().exec_driver_sql("PRAGMA cache_size").scalar()
        loader = fixtures.Loader(ws)
        with pytest.raises(CoreError):
            loader.load_source(fixture_files.open_source(path, "customers"))
        assert ws.session.connection().exec_driver_sql("PRAGMA cache_size").scalar() == before
        ws.rollback()


def customer_schema(runtime) -> Any:
    """The customer table's indexes and triggers, as the database describes them. On SQLite the
    indexes in the order the schema lists them: the planner breaks ties between indexes by it."""
    with runtime.db.engine.connect() as conn:
        if runtime.db.is_sqlite:
            indexes = list(conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'customer' AND type = 'index' ORDER BY rowid"))
            triggers = set(conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'customer' AND type = 'trigger'"))
            hash_size = tuple(conn.exec_driver_sql(f"SELECT v FROM {fts}_config WHERE k = 'hashsize'").scalar()
                              for fts in ("customer_fts", "customer_short"))
            return indexes, triggers, hash_size
        return set(conn.exec_driver_sql("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'customer'"))


def count_plan(runtime, tenant) -> str:
    """SQLite's plan for counting a tenant's live, active customers (as a Cirrus list counts them)."""
    stmt = select(func.count()).select_from(select(Customer).where(
        Customer.deleted.is_(False), Customer.active.is_(True), Customer.tenant_id == tenant["tenant_id"]).subquery())
    with runtime.db.engine.connect() as conn:
        compiled = stmt.compile(conn)
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", tuple(compiled.params.values()))
        return " ".join(r[-1] for r in rows)


@pytest.fixture(params=["indexes set aside", "indexes kept"])
def index_rebuild(request, monkeypatch):
    """Both ways of a load: indexes dropped and built once after the rows, or kept row by row."""
    aside = request.param == "indexes set aside"
    monkeypatch.setattr(bulk.CustomerBatches, "_rebuild_pays", lambda self, conn: aside)
    return aside


def test_a_load_leaves_the_customer_indexes_as_they_were(runtime, tenant, tmp_path, index_rebuild):
    before = customer_schema(runtime)
    path = tmp_path / "c.csv"
    path.write_text("name,number,addresses.visiting.city\n" + "".join(f"Kund {i},N{i},Lund {i}\n" for i in range(8)))
    assert load_file(runtime, tenant, path, "customers") == {"customers": 8}
    assert customer_schema(runtime) == before
    if runtime.db.is_sqlite:
        # Rebuilt in another order, the count went through ix_customer_user, reading every row.
        plan = count_plan(runtime, tenant)
        assert "ix_customer_live" in plan or "ix_customer_number_sort" in plan, plan
    assert found_by_fulltext(runtime, tenant, "lund 7") == {"Kund 7"}
    assert found_by_fulltext(runtime, tenant, "7") == {"Kund 7"}  # the short-gram index, filled per batch
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        # A number lookup after the load, through the rebuilt index.
        assert ws.scalars(select(Customer.name).where(Customer.number == "N5")) == ["Kund 5"]
    fts_ok(runtime)


def test_a_failed_load_leaves_the_schema_and_other_tenants_untouched(runtime, tenant, tmp_path, index_rebuild):
    other = new_tenant(runtime)
    keep = tmp_path / "keep.csv"
    keep.write_text("name,number\nAnnan,A-1\n")
    load_file(runtime, other, keep, "customers")
    before = customer_schema(runtime)
    path = tmp_path / "bad.csv"
    # Two batches of three are written (indexes set aside), then line 8 fails.
    path.write_text("name,number\n" + "".join(f"Kund {i},N{i}\n" for i in range(6)) + ",N6\n")
    with pytest.raises(CoreError) as caught:
        load_file(runtime, tenant, path, "customers")
    assert caught.value.message == "line 8: name must not be empty"
    assert customer_schema(runtime) == before
    assert stored(runtime, tenant) == {}
    assert set(stored(runtime, other)) == {"Annan"}
    assert found_by_fulltext(runtime, other, "annan") == {"Annan"}
    load_file(runtime, tenant, keep, "customers")  # the table takes writes again
    assert set(stored(runtime, tenant)) == {"Annan"}
    fts_ok(runtime)


def test_a_load_checks_numbers_against_rows_stored_before_it(runtime, tenant, tmp_path, index_rebuild):
    path = tmp_path / "first.csv"
    path.write_text("name,number\nFörst,K-1\n")
    load_file(runtime, tenant, path, "customers")
    clash = tmp_path / "clash.csv"
    clash.write_text("name,number\nA,K-2\nB,K-3\nC,K-4\nD, k-1\n")  # the clash is in the second batch
    with pytest.raises(CoreError) as caught:
        load_file(runtime, tenant, clash, "customers")
    assert caught.value.message == "line 5: number  k-1 is already used"
    assert set(stored(runtime, tenant)) == {"Först"}


def test_indexes_are_set_aside_when_the_load_is_larger_than_the_table(runtime, tenant, monkeypatch):
    with tenants.workspace(runtime.db, tenant["tenant"]) as ws:
        conn = ws.session.connection()
        stored_rows = conn.execute(select(func.count()).select_from(Customer)).scalar()
        batches = bulk.CustomerBatches(ws)
        batches.expected_rows = lambda: stored_rows
        assert batches._rebuild_pays(conn)
        batches.expected_rows = lambda: stored_rows - 1
        assert not batches._rebuild_pays(conn)
        ws.rollback()


def test_a_load_fills_the_spatial_index_a_batch_at_a_time(runtime, tenant, tmp_path, index_rebuild):
    """SQLite: the R*Tree's insert trigger is set aside for the load and its work done per batch."""
    path = tmp_path / "points.csv"
    path.write_text("name,latitude,longitude\n" + "".join(f"Punkt {i},{55.6 + i / 100},12.5\n" for i in range(7))
                    + "Utan punkt,,\n")
    assert load_file(runtime, tenant, path, "customers") == {"customers": 8}
    centre = q.Near(55.63, 12.5, 3)  # Punkt 1 .. Punkt 5
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        assert {c.name for c in q.search(ws, Customer, near_to=centre, per_page=100).items} == {
            f"Punkt {i}" for i in range(1, 6)}
    spatial_index_agrees(runtime)
    bad = tmp_path / "bad.csv"
    bad.write_text("name,latitude,longitude\n" + "".join(f"Ny {i},55.63,12.5\n" for i in range(6)) + ",55.63,12.5\n")
    with pytest.raises(CoreError):
        load_file(runtime, tenant, bad, "customers")
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        assert len(q.search(ws, Customer, near_to=centre, per_page=100).items) == 5
    spatial_index_agrees(runtime)


def fts_segments(runtime) -> dict[str, int]:
    """How many segments each customer FTS5 index has (every segment has a row in ``_idx``)."""
    with runtime.db.engine.connect() as conn:
        return {fts: conn.exec_driver_sql(f"SELECT count(DISTINCT segid) FROM {fts}_idx").scalar()
                for fts in ("customer_fts", "customer_short")}


def test_a_large_load_leaves_its_fts_indexes_merged(runtime, tenant, tmp_path, monkeypatch):
    """SQLite: a load that brings a large share of the table ends with each FTS5 index in
    one segment, so later single writes do not pay for finishing the load's merges."""
    if not runtime.db.is_sqlite:
        pytest.skip("FTS5 is SQLite's")
    monkeypatch.setattr(bulk, "MERGE_MIN_ROWS", 5)
    monkeypatch.setattr(bulk, "LOAD_FTS_HASH_BYTES", 2048)  # a flush every few rows: many segments
    merged = {"customer_fts": 1, "customer_short": 1}

    def load(name: str, rows: int, share: int) -> dict[str, int]:
        monkeypatch.setattr(bulk, "MERGE_SHARE", share)
        path = tmp_path / f"{name}.csv"
        path.write_text("name,addresses.visiting.city\n" + "".join(f"{name} {i},Lund {i}\n" for i in range(rows)))
        load_file(runtime, tenant, path, "customers")
        return fts_segments(runtime)

    assert load("Tidig", 10, 10**9) == merged  # a share of the table above 1 / 10**9
    kept = load("Kund", 30, 1)  # under all of the table (it held rows before): left as written
    assert kept != merged and min(kept.values()) > 1, kept
    assert min(load("Sen", 4, 10**9).values()) > 1  # under MERGE_MIN_ROWS: not merged either
    assert load("Sist", 6, 10**9) == merged
    assert found_by_fulltext(runtime, tenant, "kund 29") == {"Kund 29"}
    assert found_by_fulltext(runtime, tenant, "lund 29") == {"Kund 29"}
    assert found_by_fulltext(runtime, tenant, "sen 3") == {"Sen 3"}
    fts_ok(runtime)


def test_a_streamed_section_is_read_up_to_its_last_item(tmp_path, monkeypatch):
    """The first pass counts each section's items: a later pass stops after the last one
    instead of parsing the rest of the file; a section given twice keeps both parts."""
    parsed_to_the_end = []

    def recording(read):
        def reader(*args, **kwargs):
            yield from read(*args, **kwargs)
            parsed_to_the_end.append(True)
        return reader

    monkeypatch.setattr(fixture_files.ijson, "items", recording(fixture_files.ijson.items))
    monkeypatch.setattr(fixture_files.ijson, "kvitems", recording(fixture_files.ijson.kvitems))
    path = tmp_path / "sections.json"
    customers = ",".join(json.dumps({"name": f"Kund {i}", "extra": {"item": [i]}}) for i in range(3000))
    path.write_text('{"customer_types": ["A", {"name": "B"}], "lookups": {"industry": ["Vvs"], "unit": []}, '
                    f'"customers": [{customers}], "tags": ["x"], "tags": ["y", "z"], "end": 1}}', encoding="utf-8")
    source = fixture_files.open_source(path)
    assert source.sections == ["customer_types", "lookups", "customers", "tags", "tags", "end"]
    assert [item for _, item in source.items("customer_types")] == ["A", {"name": "B"}]
    assert [kind for kind, _ in source.kinds("lookups")] == ["industry", "unit"]
    assert [where for where, _ in source.items("customers")][-1] == "customers item 3000"
    assert [item for _, item in source.items("tags")] == ["x", "y", "z"]
    assert parsed_to_the_end == []
    assert list(source.items("none")) == [] and parsed_to_the_end == []


def test_a_type_named_first_in_a_later_batch_is_made_while_the_rows_are_indexed(runtime, tenant, tmp_path):
    path = tmp_path / "types.csv"
    path.write_text("name,type_name\n" + "".join(f"Kund {i},Typ {i // 4}\n" for i in range(10)))
    assert load_file(runtime, tenant, path, "customers") == {"customers": 10}
    rows = stored(runtime, tenant)
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        types = {n: lookups.by_name(ws, "customer_type", n).id for n in ("Typ 0", "Typ 1", "Typ 2")}
    assert {rows[f"Kund {i}"].type_id for i in range(8, 10)} == {types["Typ 2"]}
    assert found_by_fulltext(runtime, tenant, "kund 9") == {"Kund 9"}
    fts_ok(runtime)


def test_a_failed_index_statement_fails_the_load(runtime, tenant, tmp_path, monkeypatch):
    """SQLite runs a batch's index statements in a thread while the next batch is made; their
    error ends the load like any other, and its rollback leaves nothing."""
    if not runtime.db.is_sqlite:
        pytest.skip("PostgreSQL maintains its indexes itself")
    made = bulk.index_fill.fill_statements
    calls = []

    def failing_second(*args, **kwargs):
        calls.append(1)
        statements = made(*args, **kwargs)
        return statements + [("SELECT no_such_function()", ())] if len(calls) == 2 else statements

    monkeypatch.setattr(bulk.index_fill, "fill_statements", failing_second)
    path = tmp_path / "c.csv"
    path.write_text("name,number\n" + "".join(f"Kund {i},N{i}\n" for i in range(9)))
    with pytest.raises(Exception, match="no_such_function"):
        load_file(runtime, tenant, path, "customers")
    assert stored(runtime, tenant) == {}
    fts_ok(runtime)
    monkeypatch.setattr(bulk.index_fill, "fill_statements", made)
    assert load_file(runtime, tenant, path, "customers") == {"customers": 9}
