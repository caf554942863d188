"""Indexes that serve the sorts of the web lists other than the customers': the
contacts' name, job title and e-mail, and the walks of a sort by a looked-up
value on the ticket, opportunity and quote lists

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 03:10:00

Measured with ``bench/web_bench.py`` at 100,000 customers, a contact each and
5,000 quotes, opportunities and tickets (docs/benchmarks.md, "Issue 14: the
other lists"): a contact page of 25 read and sorted every contact (32-73 ms of
server CPU), and a sort by a looked-up value (``listing.LinkWalk``) probed the
listed table without an index for each referenced row: tickets by customer
(every customer, 230-340 ms) or by priority, opportunities by stage (100-190 ms); PostgreSQL took 120-180 ms wall for a
contact page sorted by any column.

- ``ix_contact_name_sort`` (name, surname): the contact list's default order;
  ``ix_contact_name_text_sort`` (both lower-cased): its Name column's sort;
  ``ix_contact_jobtitle_sort``, ``ix_contact_email_sort``: lower-cased, as the
  listing sorts text columns (``core.query.listing.order_by``).
- ``ix_<table>_<fk>_walk`` (tenant_id, fk): the rows of each referenced row in
  id order (SQLite has the row id in every index; PostgreSQL gets it last), for
  the walks of ``listing.WALK_INDEXED``: tickets by customer and priority,
  opportunities by stage, quotes by status, and each of the three by its user
  (the salesperson or assignee: also what a filter by one finds the rows by).
- ``ix_lookup_sortorder_sort`` (tenant_id, sortorder): the lookup entries a
  walk by a stage's or priority's list order goes through in that order.
- ``ix_activity_list_sort``: the activity list's one order
  (``browse.ACTIVITY_ORDER``), which sorted every activity for a page (a page
  200 of 20,000: 31 ms of PostgreSQL's time, 37 ms of the SQLite server's).

The listed tables' indexes are partial on live rows, which every list asks for
(and SQLite's planner, without statistics, then never takes one for a query it
does not suit). On SQLite ``ix_<table>_live`` (tenant_id) of the live rows is
made after them, for the same reason as ``ix_customer_live`` in 0026: SQLite
breaks a tie between equally good indexes in favour of the one made last, and
every partial index of live rows is as good as any other for a query of the
live rows with a condition on an unindexed column. Without it a count of
contacts created before a date (none) read every contact in e-mail order
through ``ix_contact_email_sort``, 103 ms against 21 ms in row order through
``ix_contact_sync`` before 0027; with it the rows are read in row order, and a
count of all live contacts needs the index alone (39 -> 9 ms).

On PostgreSQL (14 and later) ``st_customer_visiting_city`` gives the planner
statistics of the visiting address's city (``addresses #>> '{visiting,city}'``,
the expression of the web list's city filter; ``ANALYZE customer``, run here
when there are customers, fills them). Without them it guessed a handful of
customers for ``f_city=aalborg`` (8,277 of 100,000 match) and sorted all the
trigram index found (30 ms) instead of walking ``ix_customer_name`` (0.6 ms
with them).

Written per dialect, so not in the models' metadata (``env.py``
keeps autogenerate away from them).
"""
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

# name -> (table, the indexed expressions after tenant_id)
INDEXES = {
    "ix_contact_name_sort": ("contact", "name, surname"),
    "ix_contact_name_text_sort": ("contact", "lower(name), lower(surname)"),
    "ix_contact_jobtitle_sort": ("contact", "lower(jobtitle)"),
    "ix_contact_email_sort": ("contact", "lower(email)"),
    "ix_ticket_customer_id_walk": ("ticket", "customer_id"),
    "ix_ticket_priority_id_walk": ("ticket", "priority_id"),
    "ix_opportunity_stage_id_walk": ("opportunity", "stage_id"),
    "ix_quote_status_id_walk": ("quote", "status_id"),
    "ix_quote_user_id_walk": ("quote", "user_id"),
    "ix_opportunity_user_id_walk": ("opportunity", "user_id"),
    "ix_ticket_user_id_walk": ("ticket", "user_id"),
    "ix_lookup_sortorder_sort": ("lookup", "sortorder"),
    # browse.ACTIVITY_ORDER: open before done, then by date, newest first, undated last, then
    # newest id; the id is a key of the sort, so written out on both dialects.
    "ix_activity_list_sort": ("activity", "closed, (date IS NULL), date DESC, id DESC"),
}


# SQLite: made after the indexes above, the narrowest index of each table's live rows
# (tenant_id, then the row id), so that it wins the planner's ties (see the docstring).
LIVE_INDEXES = {f"ix_{table}_live": table for table in ("contact", "ticket", "opportunity", "quote", "activity")}


# PostgreSQL (14 and later): statistics of the visiting address's city, the one JSON
# part a web list filters by (see the docstring).
CITY_STATISTICS = "st_customer_visiting_city"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    tail = ", id" if dialect == "postgresql" else ""
    live = "deleted IS false" if dialect == "postgresql" else "deleted IS 0"
    for name, (table, expressions) in INDEXES.items():
        # The referenced lookup entries are joined whether deleted or not (as in 0026).
        where = "" if table == "lookup" else f" WHERE {live}"
        last = "" if expressions.endswith("id DESC") else tail
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} (tenant_id, {expressions}{last}){where}")
    if dialect == "sqlite":
        for name, table in LIVE_INDEXES.items():
            op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} (tenant_id) WHERE {live}")
    elif op.get_bind().dialect.server_version_info >= (14,):
        op.execute(f"CREATE STATISTICS IF NOT EXISTS {CITY_STATISTICS} ON ((addresses #>> '{{visiting,city}}')) "
                   "FROM customer")
        # Filled at once where there are customers; an empty table gets them from
        # autovacuum as it fills (an ANALYZE of no rows would tell the planner it stays empty).
        if op.get_bind().exec_driver_sql("SELECT EXISTS (SELECT 1 FROM customer)").scalar():
            op.execute("ANALYZE customer")


def downgrade() -> None:
    for name in [*INDEXES, *LIVE_INDEXES]:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP STATISTICS IF EXISTS {CITY_STATISTICS}")
