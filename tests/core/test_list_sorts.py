"""The listing engine's fast list pages: a sort by a looked-up name walked through a
join (``listing.LinkWalk``), sorts by JSON parts and columns through the indexes of
migration 0026, counts that stop at a limit (``count_limit``), and a path filter
narrowed by the search text's index (``browse.contains_criteria``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event, select, text

from polycrm.core import browse, lookups
from polycrm.core import query as q
from polycrm.core.models import Contact, Customer, User
from polycrm.core.query import listing
from polycrm.core.workspace import Workspace


@pytest.fixture
def ws(runtime, tenant, other_tenant):
    # Another tenant's customer, of its own user: never listed here.
    with Workspace(runtime.db, other_tenant["tenant_id"], other_tenant["user_id"]) as other:
        other.create(Customer, name="Elsewhere", user_id=other_tenant["user_id"])
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as workspace:
        yield workspace


@pytest.fixture
def walked(monkeypatch):
    """Every page walks, however few rows match (the walk is for many)."""
    monkeypatch.setattr(listing, "FEW_MATCHES", -1)


@pytest.fixture
def crowd(ws):
    """Customers of users and types with equal names (any case), of none, and deleted ones."""
    users = [ws.create(User, username=f"u{i}", name=name, surname=surname, active=True).id
             for i, (name, surname) in enumerate([("anna", "Holm"), ("Anna", "Berg"), ("Bo", "Ek"), ("Anna", "Berg"),
                                                   ("Åse", "Lund"), ("", "")])]
    types = [lookups.by_name(ws, "customer_type", name, create=True).id for name in ("Zeta", "alfa", "Mid")]
    rows = []
    for i in range(40):
        user = None if i % 7 == 0 else users[i % len(users)]
        kind = None if i % 5 == 0 else types[i % len(types)]
        city = ["Aarhus C", "aalborg", "Århus", "ÅRHUS", None, "Hillerød"][i % 6]
        c = ws.create(Customer, name=f"C{i:02d}", user_id=user, type_id=kind,
                      addresses={"visiting": {"city": city}} if city else {}, email=f"X{i % 9}@example.com")
        rows.append(c)
    for c in rows[::9]:
        c.deleted = True
    ws.flush()
    return {"users": users, "types": types, "ids": [c.id for c in rows if not c.deleted]}


def every_page(ws, model, sort, per_page, criteria=()) -> list[int]:
    found, page = [], 1
    while True:
        got = q.search(ws, model, list(criteria), sort=sort, page=page, per_page=per_page, past_end="empty")
        found += [r.id for r in got.items]
        if not got.has_next:
            return found
        page += 1


def expected(ws, backend, ids, key, descending) -> list[int]:
    """The order the walk promises: the looked-up values (lower-cased), the referenced
    row's id, the row's id; rows without a reference where the dialect puts NULLs."""
    rows = {c.id: c for c in ws.scalars(select(Customer).where(Customer.id.in_(ids)))}
    linked = [i for i in ids if key(rows[i]) is not None]
    unlinked = sorted((i for i in ids if key(rows[i]) is None), reverse=descending)
    linked.sort(key=lambda i: (key(rows[i]), i), reverse=descending)
    nulls_first = (backend == "sqlite") != descending
    return unlinked + linked if nulls_first else linked + unlinked


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("per_page", [1, 3, 7, 50])
def test_a_sort_by_a_users_name_walks_every_row_once_in_order(ws, backend, crowd, walked, descending, per_page):
    users = {u.id: u for u in ws.scalars(select(User))}
    sort = (q.Sort("user_id->app_user.name", descending, "text"), q.Sort("user_id->app_user.surname", descending, "text"))

    def key(c):
        u = users.get(c.user_id)
        return None if u is None else (u.name.lower(), u.surname.lower(), u.id)

    assert every_page(ws, Customer, sort, per_page) == expected(ws, backend, crowd["ids"], key, descending)


@pytest.mark.parametrize("descending", [False, True])
def test_a_sort_by_a_lookup_name_with_a_filter_walks_the_matches(ws, backend, crowd, walked, descending):
    names = {e.id: e.name for e in lookups.items(ws, "customer_type")}
    sort = (q.Sort("type_id->lookup.name", descending, "text"),)
    only = [q.Criterion("set", "email", True), q.Criterion("contains", "email", "x1")]
    matching = [i for i in crowd["ids"] if ws.get(Customer, i).email.lower().startswith("x1")]

    def key(c):
        return None if c.type_id is None else (names[c.type_id].lower(), c.type_id)

    assert every_page(ws, Customer, sort, 2, only) == expected(ws, backend, matching, key, descending)


def test_the_walk_and_the_looked_up_sort_agree_when_names_differ(ws, crowd, monkeypatch):
    sort = (q.Sort("type_id->lookup.name", False, "text"),)
    sorted_rows = every_page(ws, Customer, sort, 4)
    monkeypatch.setattr(listing, "FEW_MATCHES", -1)
    assert every_page(ws, Customer, sort, 4) == sorted_rows


def test_a_walk_that_cannot_apply_is_the_plain_sort(ws, crowd, walked):
    # Keys through two different links, or mixed with a plain column: sorted as before.
    assert listing.LinkWalk.of(Customer, (q.Sort("type_id->lookup.name"), q.Sort("name"))) is None
    assert listing.LinkWalk.of(Customer, (q.Sort("type_id->lookup.name"), q.Sort("user_id->app_user.name"))) is None
    assert listing.LinkWalk.of(Customer, (q.Sort("user_id->app_user.name", mode="numeric_text"),)) is None
    mixed = (q.Sort("type_id->lookup.name", mode="text"), q.Sort("name"))
    assert len(every_page(ws, Customer, mixed, 5)) == len(crowd["ids"])


@pytest.mark.parametrize("path, mode", [("addresses.visiting.city", "text"), ("email", "text"),
                                        ("number", "numeric_text"), ("created_at", "plain")])
def test_sorts_by_the_indexed_expressions_page_like_a_python_sort(ws, crowd, path, mode):
    for i, c in enumerate(ws.scalars(select(Customer).where(Customer.id.in_(crowd["ids"])))):
        c.number = str((i * 37) % 101)
        c.created_at = dt.datetime(2026, 1, 1) + dt.timedelta(hours=(i * 13) % 17)
    ws.flush()
    rows = {c.id: c for c in ws.scalars(select(Customer).where(Customer.id.in_(crowd["ids"])))}

    def value(c):
        if path == "addresses.visiting.city":
            v = ((c.addresses or {}).get("visiting") or {}).get("city")
        else:
            v = getattr(c, path)
        if mode == "numeric_text":
            return (len(v or ""), v or "")
        return v.lower() if isinstance(v, str) else v

    for descending in (False, True):
        got = every_page(ws, Customer, (q.Sort(path, descending, mode),), 4)
        with_value = [i for i in got if value(rows[i]) is not None]
        assert with_value == sorted(with_value, key=lambda i: (value(rows[i]), i), reverse=descending)
        assert sorted(got) == sorted(crowd["ids"])


def test_sqlite_serves_the_list_sorts_from_their_indexes(ws, backend, crowd):
    if backend != "sqlite":
        pytest.skip("the plan of SQLite's planner (PostgreSQL chooses by its statistics)")
    for path, mode, index in [("addresses.visiting.city", "text", "ix_customer_city_sort"),
                              ("email", "text", "ix_customer_email_sort"),
                              ("number", "numeric_text", "ix_customer_number_all_sort"),
                              ("created_at", "plain", "ix_customer_created")]:
        stmt = (select(Customer.id).where(Customer.deleted.is_(False), Customer.tenant_id == ws.tenant_id)
                .order_by(*listing.order_by(Customer, (q.Sort(path, mode=mode),))).limit(25))
        compiled = stmt.compile(ws.session.get_bind(), compile_kwargs={"literal_binds": True})
        plan = " ".join(r[-1] for r in ws.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert index in plan and "TEMP B-TREE" not in plan, (path, plan)


def test_a_limited_count_says_more_and_keeps_paging(ws, crowd):
    criteria = [q.Criterion("set", "name", True)]
    live = len(crowd["ids"])
    first = q.search(ws, Customer, criteria, page=1, per_page=5, count_limit=10, past_end="last")
    assert (first.total, first.more, first.has_next, first.last_index) == (10, True, True, 5)
    # Counted up to the end of the page asked for, when that is further than the limit.
    third = q.search(ws, Customer, criteria, page=3, per_page=5, count_limit=10, past_end="last")
    assert (third.total, third.more, third.first_index) == (15, True, 11)
    # Below the limit the count is exact, and the last page is the last.
    whole = q.search(ws, Customer, criteria, page=1, per_page=5, count_limit=1000, past_end="last")
    assert (whole.total, whole.more) == (live, False)
    last = q.search(ws, Customer, criteria, page=99, per_page=5, count_limit=10, past_end="last")
    assert (last.total, last.more, last.has_next) == (live, False, False)
    assert last.page == -(-live // 5) and len(last.items) == live - (last.page - 1) * 5
    # Without a limit (the APIs) the total is exact.
    exact = q.search(ws, Customer, criteria, page=1, per_page=5)
    assert (exact.total, exact.more) == (live, False)


def test_the_web_search_counts_up_to_its_limit(ws, crowd, monkeypatch):
    monkeypatch.setattr(browse, "COUNT_LIMIT", 3)
    page = browse.search(ws, Customer, "c", per_page=2)
    assert (page.total, page.more) == (3, True)
    assert browse.search(ws, Customer, "", per_page=2).more is False  # unfiltered: counted from the indexes


@pytest.mark.parametrize("term", ["aar", "AALBORG", "århus", "ÅRHUS", "Hillerød", "rhus", "us c", "zz", "ø"])
def test_a_city_filter_narrowed_by_the_search_text_finds_what_the_city_alone_finds(ws, crowd, term):
    path = "addresses.visiting.city"
    alone = {c.id for c in q.every(ws, Customer, [q.Criterion("contains", path, term)])}
    narrowed = browse.contains_criteria(Customer, path, term)
    assert len(narrowed) == 2
    assert {c.id for c in q.every(ws, Customer, narrowed)} == alone
    # A path outside the search text is filtered as it is.
    assert browse.contains_criteria(Customer, "extra.trade", term) == [q.Criterion("contains", "extra.trade", term)]
    assert len(browse.contains_criteria(Contact, "city", term)) == 2


def test_a_sort_by_a_json_number_reads_it_as_text_on_every_database(ws):
    # As before the sort's JSON part was written into the SQL: digits compare as text (10 before 9).
    for value in (9, 10, 100):
        ws.create(Customer, name=f"N{value}", extra={"team": value})
    ws.flush()
    found = q.search(ws, Customer, [q.Criterion("set", "extra.team", True)], sort=(q.Sort("extra.team"),), per_page=10)
    assert [c.name for c in found.items] == ["N10", "N100", "N9"]


@pytest.fixture
def dated(ws, crowd):
    """The crowd's customers created a day apart, from 2026-01-01 on."""
    start = dt.datetime(2026, 1, 1, 12)
    for n, customer in enumerate(ws.scalars(select(Customer).order_by(Customer.id.desc()))):
        customer.created_at = start + dt.timedelta(days=n)
    ws.flush()
    return crowd


def page_statements(runtime, run) -> list[tuple[str, Any]]:
    """The SELECTs of customer rows (not counts) that ``run()`` sends, with their parameters."""
    sent = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT customer."):
            sent.append((statement, parameters))

    event.listen(runtime.db.engine, "before_cursor_execute", seen)
    try:
        result = run()
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", seen)
    return result, sent


@pytest.mark.parametrize("sort", [(q.Sort("name_folded"),), (q.Sort("name_folded", descending=True),),
                                  (q.Sort("created_at"),), (q.Sort("number", mode="numeric_text"),)])
@pytest.mark.parametrize("criteria", [[q.Criterion("from", "created_at", dt.date(2026, 1, 10))],
                                      [q.Criterion("to", "created_at", dt.date(2026, 1, 20))],
                                      [q.Criterion("from", "created_at", dt.date(2026, 1, 5)),
                                       q.Criterion("to", "created_at", dt.date(2026, 1, 30))]])
def test_a_date_range_of_many_matches_pages_as_one_of_few(runtime, ws, backend, dated, monkeypatch, sort, criteria):
    """Many matches (FEW_MATCHES lowered): the range is tested on the rows a walk of the
    sort's index meets (``listing.TestWhileWalking``), unless a sort key is the ranged
    column; the pages are those of few matches (the range found first, then sorted)."""
    sorted_after = every_page(ws, Customer, sort, 4, criteria)
    monkeypatch.setattr(listing, "FEW_MATCHES", -1)
    walked_pages, sent = page_statements(runtime, lambda: every_page(ws, Customer, sort, 4, criteria))
    assert walked_pages == sorted_after and sorted_after
    ranged_by_sort = any(key.path == "created_at" for key in sort)
    tested = "+customer.created_at" in sent[0][0]
    assert tested == (backend == "sqlite" and not ranged_by_sort), sent[0][0]
    if backend == "sqlite":
        statement, parameters = sent[0]
        with runtime.db.engine.connect() as conn:
            plan = " ".join(r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
        if sort[0].path == "name_folded":
            assert "ix_customer_name" in plan and "TEMP B-TREE" not in plan, plan


def test_a_range_beside_a_sort_no_index_walks_is_left_to_the_database(ws, dated, monkeypatch):
    monkeypatch.setattr(listing, "FEW_MATCHES", -1)
    criteria = [q.Criterion("from", "created_at", dt.date(2026, 1, 10))]
    conditions = [listing.condition(Customer, c) for c in criteria]
    assert listing.ranges_tested_while_walking(Customer, criteria, (q.Sort("phone"),), conditions) == conditions
    assert listing.ranges_tested_while_walking(Customer, criteria, (), conditions) == conditions
    walked = listing.ranges_tested_while_walking(Customer, criteria, (q.Sort("name_folded"),), conditions)
    assert walked != conditions and len(walked) == 1
