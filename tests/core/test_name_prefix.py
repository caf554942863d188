"""Name prefix filters (``name=Company 99%``) through an index (polycrm.core.query.prefix).

The extra index-served condition must never change which accounts match:
the same names, in every case and with non-ASCII letters, are matched as the
plain case-insensitive LIKE matches them on each database.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from polycrm.core import customers
from polycrm.core import query as q
from polycrm.core.models import Customer
from polycrm.core.query.paths import like
from polycrm.core.workspace import Workspace
from tests.cirrus.helpers import auth, url

NAMES = ["Company 99 AB", "company 990", "COMPANY 9x", "Company 98", "Compañía 99", "COMPAÑÍA 991",
         "Ærø Byg", "ærø byg 2", "Øst 1", "Straße 5", "STRASSE 6", "Company_9", "Compan", "100% Company"]
PATTERNS = ["Company 99%", "company 9%", "COMPAÑ%", "compañía 99%", "Ærø%", "ærø%", "Straße%", "stras%",
            "Company\\_%", "Company_%", "100%%", "C%", "%", "Compan%", "Company 99", "%99%", "x%"]


@pytest.fixture
def named(runtime, tenant):
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        for name in NAMES:
            customers.create(ws, {"name": name})
    return tenant


@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_prefix_filter_matches_what_the_plain_like_matches(runtime, named, pattern):
    with Workspace(runtime.db, named["tenant_id"], write=False) as ws:
        filtered = set(ws.scalars(select(Customer.name).where(
            q.condition(Customer, q.Criterion("like", "name", pattern)))))
        plain = set(ws.scalars(select(Customer.name).where(like(Customer.name, pattern))))
    assert filtered == plain


def test_cirrus_lists_a_name_prefix_page(client, named):
    r = client.get(url("/accounts/"), params={"name": "company 99%", "per_page": 2, "page": 1},
                   headers=auth(named))
    assert r.status_code == 200, r.text
    body = r.json()
    assert [a["name"] for a in body["items"]] == ["Company 99 AB", "company 990"]


def test_sqlite_reads_a_name_prefix_through_the_name_index(runtime, named):
    if not runtime.db.is_sqlite:
        pytest.skip("PostgreSQL plans by its statistics (ix_customer_name_prefix, migration 0018)")
    stmt = select(Customer.id).where(Customer.tenant_id == named["tenant_id"],
                                     q.condition(Customer, q.Criterion("like", "name", "Company 99%")))
    with runtime.db.engine.connect() as conn:
        compiled = stmt.compile(conn)
        plan = " ".join(r[-1] for r in conn.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {compiled}", tuple(compiled.params.values())))
    assert "ix_customer_name (tenant_id=? AND name_folded>? AND name_folded<?)" in plan


def test_postgresql_has_the_name_prefix_index(runtime):
    if runtime.db.is_sqlite:
        pytest.skip("SQLite ranges over ix_customer_name")
    with runtime.db.engine.connect() as conn:
        found = conn.exec_driver_sql("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_customer_name_prefix'").scalar()
    assert "lower((name)::text) text_pattern_ops" in found
