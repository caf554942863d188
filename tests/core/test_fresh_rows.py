"""A reply to a create is built without reading back links and children that
cannot exist yet (Workspace.no_referrers), and still shows those written in
the same transaction."""

from __future__ import annotations

from sqlalchemy import event

from polycrm.core import links
from polycrm.core import query as q
from polycrm.core.models import Contact, Customer, Link
from polycrm.core.workspace import Workspace


def ws_of(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"])


class Statements:
    """Counts the SELECTs run against an engine while active."""

    def __init__(self, engine):
        self.engine, self.selects = engine, []

    def _seen(self, _conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            self.selects.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)


def test_a_row_created_here_has_no_links_or_children_to_read(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        customer = ws.create(Customer, name="Fresh AB")
        loader = q.Loader(ws)
        assert ws.no_referrers("customer", customer.id, "link")
        with Statements(runtime.db.engine) as seen:
            assert loader.linked_ids(links.FOLLOW, target_kind="customer", target_id=customer.id,
                                     source_kind="app_user") == []
            assert loader.children(Contact, "customer_id", customer.id) == []
        assert seen.selects == []


def test_links_and_children_written_in_the_same_transaction_are_read(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        customer = ws.create(Customer, name="Linked AB")
        links.follow(ws, tenant["user_id"], customer)
        ws.create(Contact, customer_id=customer.id, name="Ann")
        assert not ws.no_referrers("customer", customer.id, "link")
        loader = q.Loader(ws)
        assert loader.linked_ids(links.FOLLOW, target_kind="customer", target_id=customer.id,
                                 source_kind="app_user") == [tenant["user_id"]]
        assert [c.name for c in loader.children(Contact, "customer_id", customer.id)] == ["Ann"]


def test_an_existing_contact_moved_to_the_new_row_is_read(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        contact = ws.create(Contact, name="Bo")
    with ws_of(runtime, tenant) as ws:
        customer = ws.create(Customer, name="Mover AB")
        ws.update(ws.get(Contact, contact.id), {"customer_id": customer.id})
        assert [c.name for c in q.Loader(ws).children(Contact, "customer_id", customer.id)] == ["Bo"]


def test_rows_of_earlier_transactions_are_read(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        customer = ws.create(Customer, name="Older AB")
        links.follow(ws, tenant["user_id"], customer)
    with ws_of(runtime, tenant) as ws:
        assert not ws.created_here("customer", customer.id)
        assert q.Loader(ws).linked_ids(links.FOLLOW, target_kind="customer", target_id=customer.id,
                                       source_kind="app_user") == [tenant["user_id"]]


def test_a_commit_ends_what_was_created_here(runtime, tenant):
    # A batch sharing the write lock commits; others may then refer to its rows.
    with ws_of(runtime, tenant) as ws:
        customer = ws.create(Customer, name="Shared AB")
        ws.session.commit()
        assert not ws.created_here("customer", customer.id)


def test_a_bulk_statement_counts_as_writing(runtime, tenant):
    from sqlalchemy import update

    with ws_of(runtime, tenant) as ws:
        customer = ws.create(Customer, name="Bulk AB")
        ws.session.execute(update(Link).where(Link.id == -1).values(deleted=True))
        assert ws.wrote("link") and not ws.no_referrers("customer", customer.id, "link")


def test_a_row_created_with_a_claimed_number_has_no_referrers(runtime, tenant):
    """Claiming a number takes the tenant's numbering lock (PostgreSQL: an
    advisory-lock select), which is not a write of any table."""
    from polycrm.core import numbering

    with ws_of(runtime, tenant) as ws:
        numbering.lock(ws, Customer.number)
        customer = ws.create(Customer, name="Numbered AB", number=numbering.next_free(ws, Customer.number))
        assert not ws.wrote("link") and ws.no_referrers("customer", customer.id, "link")
        with Statements(runtime.db.engine) as seen:
            assert q.Loader(ws).children(Contact, "customer_id", customer.id) == []
        assert seen.selects == []
