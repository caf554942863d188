"""Data migrations: what they do to data written under an older mapping.

Each test makes a database of its own: brought to the newest schema, taken
back to the revision before the migration under test, given rows as the old
code wrote them and upgraded again, which runs that migration on them.
"""

from __future__ import annotations

import uuid

import pytest
from alembic import command
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, _fresh_pg_database
from polycrm.core import query as q
from polycrm.core import revision, tenants
from polycrm.core.models import Customer, Product
from polycrm.store.engine import Database
from polycrm.store.migrate import alembic_config


@pytest.fixture
def fresh_db(runtime, tmp_path):
    if runtime.db.is_sqlite:
        url = f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
    else:
        url = _fresh_pg_database(make_url(PG_URL).set(database=f"polycrm_migr_{uuid.uuid4().hex[:8]}")
                                 .render_as_string(hide_password=False))
    db = Database(url)
    db.upgrade()
    yield db
    db.dispose()


def migrate(db: Database, revision: str) -> None:
    """Take the database to ``revision`` ("head" or an older one)."""
    cfg = alembic_config(db.url)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.upgrade if revision == "head" else command.downgrade)(cfg, revision)


def columns(db: Database, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(db.engine).get_columns(table)}


def test_0003_drops_centia_shipping_copies_and_makes_skus_product_numbers(fresh_db, monkeypatch):
    made = tenants.create(fresh_db, tenants.NewTenant(name="legacy"))
    migrate(fresh_db, "0002")
    monkeypatch.setattr(revision, "bump", lambda conn, tenant_id: None)  # the code of 0002 kept no revision
    place = {"street": "Av. Juárez", "number": "120", "zip": "44100", "city": "Guadalajara", "country": "MX"}
    elsewhere = {**place, "street": "Bodega", "number": "3"}
    with tenants.workspace(fresh_db, "legacy") as ws:
        profile = made["profile_id"]
        ids = {
            # CreateCompany's copy, on a company made through centia (it has a profile).
            "copy": ws.create(Customer, name="A", profile_id=profile, addresses={"visiting": place, "delivery": place}),
            # A real delivery address, and an equal one on a customer made elsewhere: both kept.
            "other": ws.create(Customer, name="B", profile_id=profile, addresses={"visiting": place, "delivery": elsewhere}),
            "not centia": ws.create(Customer, name="C", addresses={"visiting": place, "delivery": place}),
            "sku": ws.create(Product, name="P"),
            "numbered": ws.create(Product, name="Q", number="Q-1"),
        }
        ids = {k: v.id for k, v in ids.items()}
        for key, sku in (("sku", "INST-01"), ("numbered", "OLD")):  # the column the model no longer has
            ws.session.execute(sa.text("UPDATE product SET sku = :sku WHERE id = :id"), {"sku": sku, "id": ids[key]})
        before = {k: ws.get(Customer if k in ("copy", "other", "not centia") else Product, v).changed_at
                  for k, v in ids.items()}

    migrate(fresh_db, "head")

    with tenants.workspace(fresh_db, "legacy") as ws:
        copy = ws.get(Customer, ids["copy"])
        assert copy.addresses == {"visiting": place}
        assert copy.changed_at > before["copy"]
        assert ws.get(Customer, ids["other"]).addresses == {"visiting": place, "delivery": elsewhere}
        assert ws.get(Customer, ids["not centia"]).addresses == {"visiting": place, "delivery": place}
        assert ws.get(Customer, ids["not centia"]).changed_at == before["not centia"]
        product = ws.get(Product, ids["sku"])
        assert product.number == "INST-01"
        assert product.changed_at > before["sku"]
        assert ws.get(Product, ids["numbered"]).number == "Q-1"


def test_0005_drops_the_unused_billing_name_and_sku_columns(fresh_db):
    assert "billing_name" not in columns(fresh_db, "customer") and "sku" not in columns(fresh_db, "product")
    migrate(fresh_db, "0004")
    assert "billing_name" in columns(fresh_db, "customer") and "sku" in columns(fresh_db, "product")
    migrate(fresh_db, "head")
    assert "billing_name" not in columns(fresh_db, "customer") and "sku" not in columns(fresh_db, "product")
    # The customer search index still follows writes (on SQLite its FTS triggers survive the drop).
    tenants.create(fresh_db, tenants.NewTenant(name="after"))
    with tenants.workspace(fresh_db, "after") as ws:
        ws.create(Customer, name="Zebrafish Holdings")
    with tenants.workspace(fresh_db, "after") as ws:
        found = q.every(ws, Customer, [q.Criterion("fulltext", "search_text", "brafi")])
        assert [c.name for c in found] == ["Zebrafish Holdings"]


def test_0006_puts_house_numbers_into_customer_search_text(fresh_db):
    tenants.create(fresh_db, tenants.NewTenant(name="numbers"))
    place = {"street": "Havnevej", "number": "3", "letter": "B", "city": "Skagen"}
    with tenants.workspace(fresh_db, "numbers") as ws:
        numbered = ws.create(Customer, name="Fjord", addresses={"visiting": place})
        plain = ws.create(Customer, name="Plain", addresses={"visiting": {"street": "Torvet 1"}})
        ws.flush()
        ids = numbered.id, plain.id
    with fresh_db.engine.begin() as conn:  # as the previous code wrote it
        conn.execute(sa.text("UPDATE customer SET search_text = 'fjord havnevej skagen' WHERE id = :id"), {"id": ids[0]})
    migrate(fresh_db, "0005")
    migrate(fresh_db, "head")
    with tenants.workspace(fresh_db, "numbers") as ws:
        assert ws.get(Customer, ids[0]).search_text == "fjord havnevej 3 b skagen"
        assert ws.get(Customer, ids[1]).search_text == "plain torvet 1"
        found = q.every(ws, Customer, [q.Criterion("fulltext", "search_text", "havnevej 3")])
        assert [c.id for c in found] == [ids[0]]
    if fresh_db.is_sqlite:  # the FTS table followed the update (its trigger fired)
        with fresh_db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO customer_fts(customer_fts) VALUES ('integrity-check')"))


def test_0022_gives_existing_tenants_a_revision_that_writes_move(fresh_db):
    made = tenants.create(fresh_db, tenants.NewTenant(name="before-0022"))
    migrate(fresh_db, "0021")
    assert "revision" not in columns(fresh_db, "tenant")
    migrate(fresh_db, "head")
    with fresh_db.engine.connect() as conn:
        assert revision.read(conn, made["tenant_id"]) == 0
    with tenants.workspace(fresh_db, "before-0022") as ws:
        ws.create(Customer, name="After 0022")
    with fresh_db.engine.connect() as conn:
        assert revision.read(conn, made["tenant_id"]) == 1
        # The downgrade kept every row that hangs off the tenant.
        assert conn.execute(sa.text("SELECT count(*) FROM credential WHERE tenant_id = :t"),
                            {"t": made["tenant_id"]}).scalar() > 0


# (referencing table, column, the index that finds its rows: migration 0024)
FOREIGN_KEY_LOOKUPS = [("contact", "customer_id", "ix_contact_customer"),
                       ("contact", "superior_id", "ix_contact_superior"),
                       ("customer", "parent_id", "ix_customer_parent_ref")]


@pytest.mark.parametrize("table, column, index", FOREIGN_KEY_LOOKUPS)
def test_0024_a_delete_finds_the_rows_pointing_at_it_through_an_index(fresh_db, table, column, index):
    """Deleting a customer or contact looks for the rows pointing at it by that column alone (ON DELETE
    SET NULL): through an index, after an upgrade from 0022 as on a new database."""
    migrate(fresh_db, "0022")
    migrate(fresh_db, "head")
    with fresh_db.engine.connect() as conn:
        if fresh_db.is_sqlite:
            # What SQLite's foreign-key action runs for one deleted parent row.
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN UPDATE {table} SET {column} = NULL WHERE {column} = 1"))
            assert f"INDEX {index} ({column}=?)" in plan, plan
        else:
            # The query PostgreSQL's RI trigger runs for one deleted parent row.
            plan = " ".join(r[0] for r in conn.exec_driver_sql(
                f"EXPLAIN SELECT 1 FROM ONLY {table} x WHERE {column} = 1 FOR KEY SHARE OF x"))
            assert index in plan and f"Index Cond: ({column} = 1)" in plan, plan


SORT_INDEXES = {"ix_customer_number_all_sort", "ix_customer_city_sort", "ix_customer_email_sort",
                "ix_customer_created", "ix_app_user_name_sort", "ix_lookup_name_sort"}


def index_names(db: Database) -> set[str]:
    # Not sa.inspect: it leaves out SQLite's indexes of expressions.
    sql = ("SELECT name FROM sqlite_master WHERE type = 'index'" if db.is_sqlite
           else "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
    with db.engine.connect() as conn:
        return set(conn.exec_driver_sql(sql).scalars())


def test_0026_an_upgrade_from_0025_makes_the_sort_indexes_and_counts_through_ix_customer_live(fresh_db):
    """A database made at 0025 gets the list sort indexes, and on SQLite the
    live-and-active indexes stay the newest (the planner, without statistics,
    takes the newest of equally good indexes)."""
    migrate(fresh_db, "0025")
    assert not SORT_INDEXES & index_names(fresh_db)
    migrate(fresh_db, "head")
    assert SORT_INDEXES <= index_names(fresh_db)
    if fresh_db.is_sqlite:
        with fresh_db.engine.connect() as conn:
            order = [name for (name,) in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'customer' ORDER BY rowid")]
            assert order[-2:] == ["ix_customer_number_sort", "ix_customer_live"], order
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT count(*) FROM customer WHERE deleted IS 0 AND active IS 1 AND tenant_id = 1"))
            assert "ix_customer_live" in plan, plan


def test_the_recorded_head_is_the_migrations_head():
    from alembic.script import ScriptDirectory

    from polycrm.store import migrate as migrate_module

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert script.get_heads() == [migrate_module.HEAD]


def test_a_database_at_the_head_is_not_migrated_again_and_an_older_one_is(fresh_db, monkeypatch):
    from polycrm.store import migrate as migrate_module

    assert migrate_module.at_head(fresh_db)
    migrate(fresh_db, "0025")
    assert not migrate_module.at_head(fresh_db)
    fresh_db.upgrade()
    assert migrate_module.at_head(fresh_db)
    # At the head, upgrade() does not reach Alembic at all.
    monkeypatch.setattr(migrate_module, "alembic_config", lambda url: (_ for _ in ()).throw(AssertionError("ran")))
    fresh_db.upgrade()


OTHER_LIST_INDEXES = {
    "ix_contact_name_sort", "ix_contact_name_text_sort", "ix_contact_jobtitle_sort", "ix_contact_email_sort",
    "ix_ticket_customer_id_walk", "ix_ticket_priority_id_walk", "ix_ticket_user_id_walk",
    "ix_opportunity_stage_id_walk", "ix_opportunity_user_id_walk", "ix_quote_status_id_walk",
    "ix_quote_user_id_walk", "ix_lookup_sortorder_sort", "ix_activity_list_sort",
}


def test_0027_an_upgrade_from_0026_makes_the_other_lists_sort_and_walk_indexes(fresh_db):
    """A database made at 0026 gets the contact sort indexes and the walk indexes of the
    ticket, opportunity and quote lists (and on SQLite each table's live-row index, made
    last); a downgrade takes them away again."""
    made = OTHER_LIST_INDEXES
    migrate(fresh_db, "0026")
    assert not made & index_names(fresh_db)
    migrate(fresh_db, "head")
    assert made <= index_names(fresh_db)
    live = {f"ix_{table}_live" for table in ("contact", "ticket", "opportunity", "quote", "activity")}
    if not fresh_db.is_sqlite:
        assert not live & index_names(fresh_db)

        def statistics() -> set[str]:
            with fresh_db.engine.connect() as conn:
                return set(conn.exec_driver_sql("SELECT stxname FROM pg_statistic_ext").scalars())

        # The planner's statistics of the visiting city (PostgreSQL 14 and later).
        if fresh_db.engine.dialect.server_version_info >= (14,):
            assert "st_customer_visiting_city" in statistics()
            migrate(fresh_db, "0026")
            assert "st_customer_visiting_city" not in statistics()
        return
    assert live <= index_names(fresh_db)
    with fresh_db.engine.connect() as conn:
        def plan(sql: str) -> str:
            return " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))

        for table in ("contact", "ticket", "opportunity", "quote", "activity"):
            order = [name for (name,) in conn.exec_driver_sql(
                f"SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '{table}' ORDER BY rowid")]
            assert order[-1] == f"ix_{table}_live", order
        # A sort walks its index; a condition on an unindexed column reads the live rows in
        # row order, and a count of them the index alone (the newest of equally good indexes).
        sorted_page = plan("SELECT id FROM contact WHERE deleted IS 0 AND tenant_id = 1 ORDER BY name, surname, id LIMIT 25")
        assert "ix_contact_name_sort" in sorted_page and "TEMP B-TREE" not in sorted_page, sorted_page
        ranged = plan("SELECT count(*) FROM contact WHERE deleted IS 0 AND created_at < '2000-01-01' AND tenant_id = 1")
        assert "ix_contact_live" in ranged, ranged
        assert "ix_contact_live" in plan("SELECT count(*) FROM contact WHERE deleted IS 0 AND tenant_id = 1")
