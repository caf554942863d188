"""The listing engine (polycrm.core.query): criteria, the paging rule, the one
LIKE escaping, fulltext through the trigram indexes (short and long terms),
and an activity's date searched as its ISO text."""

from __future__ import annotations

import datetime as dt
import importlib
import subprocess
import sys

import pytest
from sqlalchemy import select

from polycrm.core import query as q
from polycrm.core.models import Activity, Contact, Customer, Product
from polycrm.core.workspace import Workspace


@pytest.fixture
def ws(runtime, tenant):
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as workspace:
        yield workspace


def names(rows) -> list[str]:
    return [r.name for r in rows]


def customers(ws, *criteria, **kw) -> list[str]:
    """The names found, sorted in Python (the database's collation may order ``_`` and ``X`` either way)."""
    return sorted(names(q.search(ws, Customer, list(criteria), per_page=50, **kw).items))


@pytest.fixture
def shop(ws):
    made = [
        ws.create(Customer, name="Alpha 100% ApS", number="7", extra={"rfc": "AAA010101"}),
        ws.create(Customer, name="Beta_Tools", number="12", extra={"rfc": "BBB"}),
        ws.create(Customer, name="BetaXTools", number="3"),
        ws.create(Customer, name="Gamma", number=None),
    ]
    ws.flush()
    return made


# -- criteria ------------------------------------------------------------------------------
def test_criteria_compare_as_documented(ws, shop):
    assert customers(ws, q.Criterion("eq", "name", "gamma")) == ["Gamma"]  # eq is case-insensitive on text
    assert customers(ws, q.Criterion("one_of", "name", ["gamma"])) == []  # one_of is exact
    assert customers(ws, q.Criterion("one_of", "name", ["Gamma"])) == ["Gamma"]
    assert customers(ws, q.Criterion("in", "id", [shop[0].id, shop[3].id])) == ["Alpha 100% ApS", "Gamma"]
    assert customers(ws, q.Criterion("in", "id", [])) == []
    assert customers(ws, q.Criterion("set", "number", False)) == ["Gamma"]
    assert customers(ws, q.Criterion("eq", "extra.rfc", "bbb")) == ["Beta_Tools"]
    either = q.Criterion("any", "id", (q.Criterion("eq", "name", "gamma"), q.Criterion("eq", "number", "3")))
    assert customers(ws, either) == ["BetaXTools", "Gamma"]
    assert customers(ws, q.Criterion("any", "id", ())) == []


def test_date_bounds_are_inclusive_days(ws, shop):
    today = shop[0].created_at.date()
    assert len(customers(ws, q.Criterion("from", "created_at", today), q.Criterion("to", "created_at", today))) == 4
    assert customers(ws, q.Criterion("to", "created_at", today - dt.timedelta(days=1))) == []


def test_contains_is_one_substring_spaces_and_all(ws, shop):
    assert customers(ws, q.Criterion("contains", "search_text", "alpha 100")) == ["Alpha 100% ApS"]
    assert customers(ws, q.Criterion("contains", "search_text", "alpha aps")) == []  # not two terms
    # An indexed and an unindexed path together: the rfc lives in extra.
    assert customers(ws, q.Criterion("contains", "search_text,extra.rfc", "aaa01")) == ["Alpha 100% ApS"]
    assert customers(ws, q.Criterion("contains", "search_text,extra.rfc", "beta")) == ["BetaXTools", "Beta_Tools"]


# -- escaping -------------------------------------------------------------------------------
def test_the_one_escaper():
    assert q.escape_like("100%_a\\b") == "100\\%\\_a\\\\b"
    assert q.escape_like("a%b_", keep_percent=True) == "a%b\\_"


@pytest.mark.parametrize("op", ["fulltext", "contains"])
def test_percent_and_underscore_in_a_search_are_literal(ws, shop, op):
    assert customers(ws, q.Criterion(op, "search_text", "%")) == ["Alpha 100% ApS"]
    assert customers(ws, q.Criterion(op, "search_text", "100%")) == ["Alpha 100% ApS"]
    assert customers(ws, q.Criterion(op, "search_text", "_")) == ["Beta_Tools"]
    assert customers(ws, q.Criterion(op, "search_text", "beta_")) == ["Beta_Tools"]
    assert customers(ws, q.Criterion(op, "name", "a_t")) == ["Beta_Tools"]  # unindexed path too


def test_like_keeps_percent_as_its_only_wildcard(ws, shop):
    assert customers(ws, q.Criterion("like", "name", "beta%")) == ["BetaXTools", "Beta_Tools"]
    assert customers(ws, q.Criterion("like", "name", "beta_tools")) == ["Beta_Tools"]
    assert customers(ws, q.Criterion("eq", "name", "beta_tools")) == ["Beta_Tools"]


# -- fulltext -------------------------------------------------------------------------------
def test_fulltext_with_short_and_long_terms(ws):
    customer = ws.create(Customer, name="Nordic Tømrer ApS")
    ws.create(Contact, name="Åse", surname="Lund", email="ase@nordic.dk", customer_id=customer.id)
    ws.create(Contact, name="Bo", surname="Ek", email="bo@vvs.dk")
    ws.create(Product, name="Kobberrør 15 mm", number="KR-15")
    ws.create(Product, name="Ventil", number="V-2")
    ws.flush()

    def found(model, text):
        crit = [q.Criterion("fulltext", "search_text", text)]
        return sorted(r.name for r in q.search(ws, model, crit, per_page=50).items)

    assert found(Contact, "å") == ["Åse"]  # one character
    assert found(Contact, "ek") == ["Bo"]  # two
    assert found(Contact, "NORDIC") == ["Åse"]  # through the trigram index
    assert found(Contact, "lund nordic.dk") == ["Åse"]
    assert found(Contact, "ek nordic") == []
    assert found(Product, "15") == ["Kobberrør 15 mm"]
    assert found(Product, "kobberrør kr-15") == ["Kobberrør 15 mm"]
    assert found(Product, "v-") == ["Ventil"]
    assert found(Customer, "tømrer aps") == ["Nordic Tømrer ApS"]
    assert found(Product, "") == ["Kobberrør 15 mm", "Ventil"]  # no terms: every row


def test_sqlite_searches_contacts_and_products_through_their_fts_tables(runtime):
    if not runtime.db.is_sqlite:
        pytest.skip("PostgreSQL keeps ILIKE (with a GIN trigram index under it, migration 0008)")
    for model, table in ((Contact, "contact_fts"), (Product, "product_fts")):
        stmt = select(model.id).where(q.condition(model, q.Criterion("fulltext", "search_text", "nordic aa")))
        sql = str(stmt.compile(runtime.db.engine))
        assert f"{table} MATCH" in sql and "LIKE" in sql  # "nordic" through the index, "aa" scanned for
        with runtime.db.engine.connect() as conn:
            compiled = stmt.compile(conn)
            plan = " ".join(r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}",
                                                                tuple(compiled.params.values())))
        assert "VIRTUAL TABLE INDEX" in plan and table in plan


# -- an activity's date -------------------------------------------------------------------
def test_a_date_path_is_searched_as_its_iso_text(ws):
    ws.create(Activity, description="Site visit", date=dt.date(2026, 5, 14), location="Aarhus")
    ws.create(Activity, description="Call back", date=dt.date(2026, 6, 2))
    ws.create(Activity, description="Undated note")
    ws.flush()

    def found(text):
        crit = [q.Criterion("fulltext", "description,date,location", text)]
        return [a.description for a in q.search(ws, Activity, crit, sort=[q.Sort("id")]).items]

    assert found("2026-05-14") == ["Site visit"]
    assert found("2026") == ["Site visit", "Call back"]
    assert found("05-14 aarhus") == ["Site visit"]
    assert found("-06-") == ["Call back"]
    assert found("14.05.2026") == []  # the ISO text only
    assert found("note") == ["Undated note"]


# -- sorting and the paging rule ----------------------------------------------------------
def test_nulls_last_and_an_explicit_id_key(ws, shop):
    order = [q.Sort("number", descending=True, mode="nulls_last")]
    assert names(q.every(ws, Customer, sort=order)) == ["Alpha 100% ApS", "BetaXTools", "Beta_Tools", "Gamma"]
    newest = q.every(ws, Customer, sort=[q.Sort("id", descending=True)])
    assert [c.id for c in newest] == sorted((c.id for c in shop), reverse=True)
    assert names(q.every(ws, Customer, sort=[q.Sort("number", mode="numeric_text")], limit=2)) == ["Gamma", "BetaXTools"]


def test_the_paging_rule(ws, shop):
    def page(n, past_end="raise", per_page=3):
        return q.search(ws, Customer, sort=[q.Sort("name")], page=n, per_page=per_page, past_end=past_end)

    first, second = page(1), page(2)
    assert (first.total, first.pages, first.last_page, len(first.items)) == (4, 2, 2, 3)
    assert names(second.items) == ["Gamma"] and not second.has_next and second.has_prev
    with pytest.raises(q.PageOutOfRange):
        page(3)
    with pytest.raises(q.PageOutOfRange):
        page(0)
    beyond = page(3, "empty")
    assert (beyond.items, beyond.page, beyond.total, beyond.last_page) == ([], 3, 4, 2)
    with pytest.raises(q.PageOutOfRange):
        page(0, "empty")
    assert (page(9, "last").page, names(page(9, "last").items)) == (2, ["Gamma"])
    assert page(-1, "last").page == 1
    with pytest.raises(ValueError):
        page(1, "wrap")
    nothing = q.search(ws, Customer, [q.Criterion("eq", "name", "nobody")])
    assert (nothing.items, nothing.total, nothing.page, nothing.last_page, nothing.pages) == ([], 0, 1, 1, 0)


# -- the package -----------------------------------------------------------------------------
@pytest.mark.parametrize("module", ["paths", "fulltext", "criteria", "geo", "listing", "loader"])
def test_each_module_imports_on_its_own(module):
    code = f"import polycrm.core.query.{module}"
    subprocess.run([sys.executable, "-c", code], check=True)
    assert importlib.import_module(f"polycrm.core.query.{module}")
