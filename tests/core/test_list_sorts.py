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


# -- the other lists (migration 0027) ------------------------------------------------------------


@pytest.fixture
def desk(ws, crowd):
    """Tickets, opportunities and quotes pointing at the crowd's customers, users and list
    entries (two of equal list order, some of none), and contacts of equal names (any case)."""
    from polycrm.core.models import Opportunity, Quote, Ticket

    priorities = [lookups.by_name(ws, "priority", name, create=True) for name in ("P-late", "P-early", "P-tie")]
    for entry, order in zip(priorities, (9, -5, 9)):
        entry.sortorder = order
    stages = [lookups.by_name(ws, "stage", name, create=True) for name in ("S-b", "S-a")]
    for entry, order in zip(stages, (3, 3)):
        entry.sortorder = order
    statuses = [lookups.by_name(ws, "quote_status", name, create=True) for name in ("zz", "Aa", "mm")]
    customers = crowd["ids"]
    for i in range(30):
        customer = None if i % 6 == 0 else customers[(i * 7) % len(customers)]
        user = None if i % 5 == 0 else crowd["users"][i % len(crowd["users"])]
        ws.create(Ticket, title=f"T{i}", customer_id=customer, user_id=user,
                  priority_id=None if i % 4 == 0 else priorities[i % 3].id)
        ws.create(Opportunity, title=f"O{i}", customer_id=customer, user_id=user,
                  stage_id=None if i % 4 == 1 else stages[i % 2].id)
        ws.create(Quote, title=f"Q{i}", customer_id=customer, user_id=user,
                  status_id=None if i % 4 == 2 else statuses[i % 3].id)
        ws.create(Contact, name=["anna", "Anna", "Bo", "", "åse"][i % 5], surname=["Berg", "berg", "Ek"][i % 3],
                  jobtitle=[None, "Buyer", "buyer", "CEO"][i % 4], email=f"{'ABc'[i % 3]}{i % 4}@example.com",
                  customer_id=customer)
    for model in (Ticket, Opportunity, Quote, Contact):
        for row in ws.scalars(select(model).order_by(model.id))[::8]:
            row.deleted = True
    ws.flush()
    return crowd


def live_ids(ws, model) -> list[int]:
    return [r.id for r in ws.scalars(select(model).where(model.deleted.is_(False)).order_by(model.id))]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("table, path, mode", [
    ("ticket", "customer_id->customer.name_folded", "plain"), ("ticket", "priority_id->lookup.sortorder", "plain"),
    ("ticket", "user_id->app_user.name", "text"), ("opportunity", "stage_id->lookup.sortorder", "plain"),
    ("opportunity", "user_id->app_user.name", "text"), ("quote", "status_id->lookup.name", "text"),
    ("quote", "user_id->app_user.name", "text"),
])
def test_the_other_lists_walks_give_every_row_once_in_order(ws, backend, desk, walked, descending, table, path, mode):
    """The walks of migration 0027's indexes (on PostgreSQL each referenced row's rows
    through its (tenant_id, fk, id) index, ``listing.WALK_INDEXED``): the looked-up value,
    the referenced row's id, the row's id; rows without a reference where NULLs sort."""
    from polycrm.core.models import ENTITIES

    model = ENTITIES[table]
    fk, _, rest = path.partition("->")
    other_table, _, column = rest.partition(".")
    assert (table, fk) in listing.WALK_INDEXED
    other = ENTITIES[other_table]
    values = {r.id: getattr(r, column) for r in ws.scalars(select(other))}
    rows = {r.id: r for r in ws.scalars(select(model))}
    ids = live_ids(ws, model)

    def key(row):
        ref = getattr(row, fk)
        if ref is None:
            return None
        value = values[ref]
        return (value.lower() if mode == "text" else value, ref)

    linked = sorted((i for i in ids if key(rows[i]) is not None), key=lambda i: (key(rows[i]), i), reverse=descending)
    unlinked = sorted((i for i in ids if key(rows[i]) is None), reverse=descending)
    nulls_first = (backend == "sqlite") != descending
    want = unlinked + linked if nulls_first else linked + unlinked
    for per_page in (1, 4, 50):
        assert every_page(ws, model, (q.Sort(path, descending, mode),), per_page) == want, per_page


@pytest.mark.parametrize("keys", [
    ((q.Sort("name"), q.Sort("surname"))),
    ((q.Sort("name", mode="text"), q.Sort("surname", mode="text"))),
    ((q.Sort("jobtitle", mode="text"),)), ((q.Sort("email", mode="text"),)),
])
def test_the_contact_sorts_page_like_a_python_sort(ws, desk, keys):
    rows = {c.id: c for c in ws.scalars(select(Contact))}

    def value(c, key):
        v = getattr(c, key.path)
        return v.lower() if key.mode == "text" and v is not None else v

    for descending in (False, True):
        sort = tuple(q.Sort(k.path, descending, k.mode) for k in keys)
        got = every_page(ws, Contact, sort, 4)
        assert sorted(got) == live_ids(ws, Contact)
        valued = [i for i in got if all(value(rows[i], k) is not None for k in keys)]
        assert valued == sorted(valued, key=lambda i: (tuple(value(rows[i], k) for k in keys), i),
                                reverse=descending)


def test_sqlite_serves_the_contact_sorts_and_the_walks_from_their_indexes(ws, backend, desk):
    if backend != "sqlite":
        pytest.skip("the plan of SQLite's planner (PostgreSQL chooses by its statistics)")
    from polycrm.core.models import Ticket

    def plan_of(stmt) -> str:
        compiled = stmt.compile(ws.session.get_bind(), compile_kwargs={"literal_binds": True})
        return " ".join(r[-1] for r in ws.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))

    live = (Contact.deleted.is_(False), Contact.tenant_id == ws.tenant_id)
    for keys, index in [((q.Sort("name"), q.Sort("surname")), "ix_contact_name_sort"),
                        ((q.Sort("name", mode="text"), q.Sort("surname", mode="text")), "ix_contact_name_text_sort"),
                        ((q.Sort("jobtitle", mode="text"),), "ix_contact_jobtitle_sort"),
                        ((q.Sort("email", mode="text", descending=True),), "ix_contact_email_sort")]:
        plan = plan_of(select(Contact.id).where(*live).order_by(*listing.order_by(Contact, keys)).limit(25))
        assert index in plan and "TEMP B-TREE" not in plan, (keys, plan)
    # A walk by a priority's list order: the entries in order, each one's tickets by its index.
    walk = listing.LinkWalk.of(Ticket, (q.Sort("priority_id->lookup.sortorder"),))
    seen = []

    def fetch(where, order, offset, limit, source=None):
        stmt = select(Ticket.id)
        stmt = stmt if source is None else source(stmt)
        seen.append(plan_of(stmt.where(*where).order_by(*order).limit(limit).offset(offset)))
        return []

    walk.page(ws, [Ticket.deleted.is_(False), Ticket.tenant_id == ws.tenant_id], fetch, 0, 25)
    joined = next(p for p in seen if "lookup" in p)
    assert "ix_lookup_sortorder_sort" in joined and "ix_ticket_priority_id_walk" in joined, joined
    assert "TEMP B-TREE" not in joined, joined


def test_a_date_range_beside_a_contact_sort_is_tested_while_walking(runtime, ws, backend, desk, monkeypatch):
    monkeypatch.setattr(listing, "FEW_MATCHES", -1)
    start = dt.datetime(2026, 1, 1, 12)
    for n, contact in enumerate(ws.scalars(select(Contact).order_by(Contact.id))):
        contact.created_at = start + dt.timedelta(days=n)
    ws.flush()
    criteria = [q.Criterion("from", "created_at", dt.date(2026, 1, 10))]
    rows = {c.id: c for c in ws.scalars(select(Contact))}
    want = sorted((i for i in live_ids(ws, Contact) if rows[i].created_at >= dt.datetime(2026, 1, 10)),
                  key=lambda i: (rows[i].name, rows[i].surname, i))
    sent = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT contact."):
            sent.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", seen)
    try:
        got = every_page(ws, Contact, (q.Sort("name"), q.Sort("surname")), 4, criteria)
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", seen)
    assert got == want and want
    assert ("+contact.created_at" in sent[0]) == (backend == "sqlite"), sent[0]


def test_the_activity_list_pages_in_its_order_through_its_index(ws, backend, crowd):
    """``browse.ACTIVITY_ORDER`` (open first, newest date first, undated last, newest id)
    pages like a Python sort; on SQLite a page of many walks ``ix_activity_list_sort``."""
    from polycrm.core.models import Activity

    for i in range(40):
        ws.create(Activity, description=f"A{i}", closed=i % 3 == 0,
                  date=None if i % 7 == 0 else dt.date(2026, 1, 1) + dt.timedelta(days=(i * 5) % 11))
    for row in ws.scalars(select(Activity).order_by(Activity.id))[::9]:
        row.deleted = True
    ws.flush()
    rows = {a.id: a for a in ws.scalars(select(Activity).where(Activity.deleted.is_(False)))}
    want = sorted(rows, key=lambda i: (rows[i].closed, rows[i].date is None,
                                       -(rows[i].date or dt.date.min).toordinal(), -i))
    assert every_page(ws, Activity, browse.ACTIVITY_ORDER, 6) == want
    if backend == "sqlite":
        stmt = (select(Activity.id).where(Activity.deleted.is_(False), Activity.tenant_id == ws.tenant_id)
                .order_by(*listing.order_by(Activity, browse.ACTIVITY_ORDER)).limit(25).offset(50))
        compiled = stmt.compile(ws.session.get_bind(), compile_kwargs={"literal_binds": True})
        plan = " ".join(r[-1] for r in ws.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert "ix_activity_list_sort" in plan and "TEMP B-TREE" not in plan, plan
