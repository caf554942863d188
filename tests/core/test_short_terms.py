"""Search terms of one and two characters through the short-gram index (migration 0025).

On SQLite the FTS5 table ``<table>_short`` holds every one- and two-character
substring of each ``search_text`` (kept by triggers), on PostgreSQL a GIN index
on ``polycrm_short_grams(search_text)``. The rows found must be exactly those
of "every term occurs in the folded text", as the scan (``ILIKE``) finds them,
for 1-, 2- and 3+-character terms, accents, case and texts of every length.
No timings here: bench/scale_bench.py prints those.
"""

from __future__ import annotations

import json
import random

import pytest
from sqlalchemy import delete, select, text, update

from polycrm.core import customers, fixture_files, fixtures, tenants
from polycrm.core import query as q
from polycrm.core.models import Contact, Customer, Product
from polycrm.core.query import fulltext as ft
from polycrm.core.query.paths import contains_text
from polycrm.core.workspace import Workspace
from polycrm.store import index_fill
from polycrm.store.engine import Database, fts_tables
from tests.cirrus.helpers import auth, url
from tests.store.test_migrations import fresh_db, migrate  # noqa: F401 (fixture)

NAMES = [
    "Åberg Bygg AB", "ÖBERG EL HB", "Lindqvist & Söner", "Straße Müller GmbH", "X", "Qi", "ab", "",
    "Café Ñandú", "İstanbul Döner", "ǅemal Ǆ", "日本語 株式会社", "Zz top", "a b c", "quist-qv 7",
]
# A search text longer than the SQLite index's 1,024 characters, with rare grams at its end.
LONG_STREET = "L" + "o" * 1100 + "ng zq"
TERMS = [
    "a", "A", "å", "Å", "ö", "ß", "ss", "é", "e", "x", "q", "qv", "Qi", "ab", "AB", "b c", "7", " ", "&",
    "日", "日本", "株式会社", "zq", "z", "Ǆ", "ǆ", "i̇", "ng", "oo", "oberg", "öberg", "qvist", "%", "_",
    "a ab", "qv 7", "ö el", "zz nope", "é ñ",
]


def make(ws: Workspace) -> None:
    for i, name in enumerate(NAMES):
        ws.create(Customer, name=name, number=f"N{i}")
    ws.create(Customer, name="Long", addresses={"visiting": {"street": LONG_STREET}})


def expected(ws: Workspace, text_: str, *, whole: bool = False) -> set[int]:
    """Ids of the live customers whose search text holds every term (or the whole text): Python's substring test."""
    terms = [text_.casefold()] if whole else ft.terms_of(text_)
    rows = ws.session.execute(select(Customer.id, Customer.search_text).where(
        Customer.tenant_id == ws.tenant_id, Customer.deleted.is_(False))).all()
    return {id_ for id_, st in rows if all(t in st for t in terms)}


def found(ws: Workspace, text_: str, op: str = "fulltext", model=Customer) -> set[int]:
    cond = q.condition(model, q.Criterion(op, "search_text", text_))
    return set(ws.scalars(select(model.id).where(model.deleted.is_(False), cond)))


def scanned(ws: Workspace, text_: str) -> set[int]:
    """What the plain scan (``ILIKE`` of every term, the search before 0025) finds."""
    conds = [contains_text(Customer.search_text, t) for t in ft.terms_of(text_)]
    return set(ws.scalars(select(Customer.id).where(Customer.deleted.is_(False), *conds)))


def short_index_agrees(runtime) -> None:
    """SQLite: each short index holds the grams of every row (two characters at each
    position, one at the end), and finds no row by a gram the row's text lacks."""
    if not runtime.db.is_sqlite:
        return
    with runtime.db.engine.connect() as conn:
        for table in ("customer", "contact", "product"):
            rows = conn.exec_driver_sql(f"SELECT id, search_text FROM {table}").all()
            for id_, st in rows:
                grams = {st[i:i + 2] for i in range(min(len(st), 1024))}
                for gram in grams | {"q\u00e5", "\u00e5"}:
                    hit = conn.exec_driver_sql(f"SELECT count(*) FROM {table}_short WHERE {table}_short MATCH ? "
                                               f"AND rowid = ?", (f'"{ft.gram_token(gram)}"', id_)).scalar()
                    assert hit == (gram in grams), (table, id_, gram)


@pytest.mark.parametrize("term", TERMS)
def test_terms_find_what_the_scan_finds(runtime, tenant, term):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        make(ws)
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        assert found(ws, term) == expected(ws, term) == scanned(ws, term)
        assert found(ws, term, "contains") == expected(ws, term, whole=True)


def test_short_terms_use_the_index(runtime, tenant):
    stmt = select(Customer.id).where(q.condition(Customer, q.Criterion("fulltext", "search_text", "Nordic aa ö")))
    sql = str(stmt.compile(runtime.db.engine))
    if runtime.db.is_sqlite:
        assert "customer_short" in fts_tables(runtime.db.engine.dialect)
        assert "customer_fts MATCH" in sql and "customer_short MATCH" in sql
        with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
            compiled = stmt.compile(runtime.db.engine)
            plan = " ".join(r[-1] for r in ws.session.connection().exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled}", tuple(compiled.params.values())))
        assert "customer_short VIRTUAL TABLE" in plan and "ix_customer_long_search" in plan
        assert "SCAN customer" not in plan.replace("SCAN customer_", "")
    else:
        assert "polycrm_short_grams(customer.search_text) @>" in sql
        with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
            short = select(Customer.id).where(q.condition(Customer, q.Criterion("fulltext", "search_text", "qv")))
            compiled = short.compile(runtime.db.engine, compile_kwargs={"literal_binds": True})
            conn = ws.session.connection()
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = " ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}"))
        assert "ix_customer_search_short" in plan


def test_every_write_keeps_the_index(runtime, tenant):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        make(ws)
        ws.create(Contact, name="Ölund", surname="Qx")
        ws.create(Product, name="Åsa zq", number="P1")
    with tenants.workspace(runtime.db, tenant["tenant"]) as ws:
        first = ws.session.scalar(select(Customer).where(Customer.name == "Qi"))
        customers.update(ws, first, {"name": "Wq renamed"})
        customers.delete(ws, ws.session.scalar(select(Customer).where(Customer.name == "X")))
        ws.session.execute(update(Customer).where(Customer.name == "ab").values(search_text="yz"))
        ws.session.execute(delete(Customer).where(Customer.name == "Zz top"))
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        for term in ("qi", "wq", "x", "ab", "yz", "zz", "z", "q"):
            assert found(ws, term) == expected(ws, term) == scanned(ws, term), term
        assert len(found(ws, "wq")) == 1 and found(ws, "qi") == set() and len(found(ws, "yz")) == 1
        assert len(found(ws, "qx", model=Contact)) == 1 and len(found(ws, "ö", model=Contact)) == 1
        assert len(found(ws, "zq", model=Product)) == 1 and found(ws, "zx", model=Product) == set()
    short_index_agrees(runtime)


def test_a_failed_write_leaves_the_index_as_it_was(runtime, tenant):
    with pytest.raises(RuntimeError):
        with Workspace(runtime.db, tenant["tenant_id"]) as ws:
            ws.create(Customer, name="Qz rolled back")
            ws.flush()
            raise RuntimeError("the transaction fails")
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        assert found(ws, "qz") == set()
    short_index_agrees(runtime)


def test_a_bulk_load_indexes_its_customers(runtime, tenant, tmp_path):
    path = tmp_path / "short.jsonl"
    path.write_text("\n".join(json.dumps({"name": f"Qö {i}", "number": f"L{i}"}) for i in range(30)) + "\n")
    with tenants.workspace(runtime.db, tenant["tenant"], runtime.blobs) as ws:
        assert fixtures.Loader(ws).load_source(fixture_files.open_source(path, "customers")) == {"customers": 30}
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        assert len(found(ws, "qö")) == 30 and len(found(ws, "ö 1")) == 12  # 1, 10-19, 21
        assert found(ws, "qö") == expected(ws, "qö")
    short_index_agrees(runtime)
    # The load's tokens are the triggers': a changed and a deleted row leave none of theirs behind.
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        ws.session.execute(update(Customer).where(Customer.number == "L3").values(search_text="zz"))
        ws.session.execute(delete(Customer).where(Customer.number == "L4"))
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        assert len(found(ws, "qö")) == 28 and found(ws, "qö") == expected(ws, "qö")
        assert len(found(ws, "ö")) == 28 and found(ws, "ö") == expected(ws, "ö")
    short_index_agrees(runtime)


def test_cirrus_fulltext_with_short_terms(client, runtime, tenant):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        make(ws)
    r = client.get(url("/accounts/"), params={"fulltext": "Å", "per_page": 50}, headers=auth(tenant))
    assert r.status_code == 200, r.text
    assert sorted(a["name"] for a in r.json()["items"]) == ["Åberg Bygg AB"]
    r = client.get(url("/accounts/"), params={"fulltext": "ab qv", "per_page": 50}, headers=auth(tenant))
    assert r.status_code == 200 and r.json()["items"] == []
    r = client.get(url("/accounts/"), params={"fulltext": "q" * 1001, "per_page": 50}, headers=auth(tenant))
    assert r.status_code == 400, r.text
    assert r.json() == {"errors": {"fulltext": "longer than 1000 characters"}, "message": "Input payload validation failed"}


def test_set_wise_fills_give_the_tokens_of_the_triggers(runtime):
    """The bulk load and the restore index new rows with index_fill's statements; a contentless
    FTS5 table forgets a row only given the tokens it was given, so those must be the triggers'."""
    if not runtime.db.is_sqlite:
        pytest.skip("SQLite's short index")
    with runtime.db.engine.connect() as conn:
        for table in ("customer", "contact", "product"):
            for kind, row in (("insert", "new"), ("delete", "old")):
                sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = ?",
                                           (f"{table}_short_{kind}",)).scalar()
                assert index_fill.short_grams(f"{row}.search_text") in sql, (table, kind)


def test_0025_indexes_the_rows_made_before_it(fresh_db):  # noqa: F811
    made = tenants.create(fresh_db, tenants.NewTenant(name="before-0025"))
    migrate(fresh_db, "0024")
    with Workspace(fresh_db, made["tenant_id"]) as ws:
        make(ws)
        ws.create(Product, name="Åsa zq", number="P1")
    migrate(fresh_db, "head")
    fresh_db.dispose()  # the next connection notices the new FTS tables
    db = Database(fresh_db.url)
    try:
        with Workspace(db, made["tenant_id"], write=False) as ws:
            for term in ("a", "å", "qv", "zq", "日", "ab c"):
                assert found(ws, term) == expected(ws, term), term
            assert len(found(ws, "zq", model=Product)) == 1
        if db.is_sqlite:
            assert "customer_short" in fts_tables(db.engine.dialect)
    finally:
        db.dispose()


def test_the_loads_python_tokens_are_the_triggers(runtime):
    """polycrm load and large snapshot restores cut the short-gram tokens in Python
    (index_fill.short_tokens, one str.translate a text); they must be exactly those of
    the triggers' SQL, or a later delete of the row would leave its grams behind."""
    if not runtime.db.is_sqlite:
        pytest.skip("SQLite's short index")
    texts = [n.casefold() for n in NAMES] + [LONG_STREET.casefold(), "😀 emoji 𝔘", "x" * 1024, "y" * 1025, "z" * 1030,
             "a\tb\nc", "q", "ab", "é", "aé", "~\x7f ", "é" * 1024, "é" * 1025, "😀" * 1030, " ", "  a "]
    mixed = random.Random(12)
    texts += ["".join(mixed.choice("ab 1-.@øÅ€😀\t") for _ in range(mixed.randrange(1, 40))) for _ in range(200)]
    with runtime.db.engine.connect() as conn:
        for t in texts:
            in_sql = conn.exec_driver_sql(
                f"SELECT {index_fill.short_grams('?1')} FROM search_position WHERE n <= length(?1)", (t,)).scalar()
            assert index_fill.short_tokens(t) == in_sql, t
    assert index_fill.SHORT_INDEXED_CHARS == ft.SHORT_INDEXED_CHARS
