"""The number checks through their indexes (migration 0009).

Customer and product numbers are unique per tenant compared trimmed and
case-insensitively: the checks ask for ``lower(trim(number))``
(:func:`polycrm.core.models.folded`), which ``ix_customer_number_folded`` and
``ix_product_number_folded`` index. On SQLite the statements the checks really
run are planned; on PostgreSQL, which plans by its statistics, the test asks
whether the expression can use the index at all. No timings here:
docs/benchmarks.md has those.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import event, select

from polycrm.core import customers, products
from polycrm.core.models import Customer, Product, folded
from polycrm.core.workspace import Workspace


def sqlite_plans(runtime, ws: Workspace, call: Callable[[], object]) -> list[str]:
    """SQLite's plan of each statement ``call`` runs in ``ws``, one line each
    (the test skips on PostgreSQL)."""
    if not runtime.db.is_sqlite:
        pytest.skip("PostgreSQL plans by its statistics")
    ran: list[tuple[str, tuple]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many) -> None:
        ran.append((statement, parameters))

    connection = ws.session.connection()
    event.listen(connection, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(connection, "before_cursor_execute", record)
    return [" ".join(r[-1] for r in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
            for sql, params in ran]


def test_sqlite_checks_customer_numbers_through_the_folded_index(runtime, tenant):
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        ws.create(Customer, name="Held", number="AB-1")
        holder = sqlite_plans(runtime, ws, lambda: customers.check_number(ws, " ab-9 "))
        assert holder == ["SEARCH customer USING INDEX ix_customer_number_folded (<expr>=? AND tenant_id=?)"]
        # One query on the folded index; the number stored exactly as given sorts first.
        (by_folded,) = sqlite_plans(runtime, ws, lambda: customers.by_folded_number(ws, "ab-9"))
        assert "INDEX ix_customer_number_folded (<expr>=? AND tenant_id=?)" in by_folded


def test_sqlite_checks_product_numbers_through_the_folded_index(runtime, tenant):
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        held = products.create(ws, {"name": "Held", "number": "P-1"})
        plans = sqlite_plans(runtime, ws, lambda: products.number_holder(ws, " p-9 ", exclude=held.id))
        assert plans == ["SEARCH product USING INDEX ix_product_number_folded (<expr>=? AND tenant_id=?)"]
        live, by_folded, any_exact = sqlite_plans(runtime, ws, lambda: products.by_number_or_key(ws, "p-9"))
        assert "INDEX ix_product_number (" in live and "INDEX ix_product_number (" in any_exact
        assert by_folded == plans[0]


def test_the_number_checks_find_what_the_index_holds(runtime, tenant):
    """The indexed expression and the rule agree: trimmed, case ignored, live rows for products."""
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        customer = ws.create(Customer, name="Held", number=" AB-1")
        gone = ws.create(Customer, name="Gone", number="old-7", deleted=True)
        product = products.create(ws, {"name": "Held", "number": "P-1"})
        products.create(ws, {"name": "Gone", "number": "Q-2", "deleted": True})
        assert customers.number_holder(ws, "ab-1 ") is customer
        assert customers.number_holder(ws, "ab-1", exclude=customer.id) is None
        assert customers.number_holder(ws, "OLD-7") is None
        assert customers.by_folded_number(ws, "OLD-7") is gone
        # Among holders differing in case (kept from before the rule), the exact one wins.
        exact = ws.create(Customer, name="Exact", number="ab-1")
        assert customers.by_folded_number(ws, "ab-1") is exact
        assert customers.by_folded_number(ws, "AB-1") is customer
        assert products.number_holder(ws, " p-1") is product
        assert products.number_holder(ws, "q-2") is None
        assert products.by_number_or_key(ws, "p-1") is product


@pytest.mark.parametrize("model, index", [(Customer, "ix_customer_number_folded"), (Product, "ix_product_number_folded")])
def test_postgresql_can_check_numbers_through_the_folded_index(runtime, model, index):
    if runtime.db.is_sqlite:
        pytest.skip("SQLite's plans are checked above")
    # Without a tenant condition: with one, the planner may rightly prefer the
    # tenant's own index when that tenant has few rows (how many depends on the
    # tests that ran before), which says nothing about the folded index.
    stmt = select(model.id).where(folded(model.number) == "ab-1", model.deleted.is_(False))
    with runtime.db.engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        compiled = stmt.compile(conn)
        plan = " ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params))
    assert index in plan and "lower(TRIM(BOTH FROM number))" in plan
