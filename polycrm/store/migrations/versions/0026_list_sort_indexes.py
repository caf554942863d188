"""Indexes that serve the web lists' sorts: customers by number, city, e-mail and
creation, and the names a list sorts by through a join (users, lookup entries)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 13:20:00

A list page of 25 sorted by a column no index orders reads and sorts every
row of the tenant (1-3 s of a busy server at 100,000 customers). Each index
below holds one sort's expressions exactly as ``core.query.listing.order_by``
writes them (the JSON path written into the SQL, ``paths.JsonText``), so a
page walks the index and stops after its rows; PostgreSQL gets the row id last
(the tie-breaker of every sort; SQLite has it in every index already). The
customer indexes are partial on live rows, which every list asks for.

- ``ix_customer_number_all_sort``: numbers as numbers (shorter first, then as
  text) over every live customer; ``ix_customer_number_sort`` (0007) covers
  only the active ones Cirrus lists by default.
- ``ix_customer_city_sort``: the visiting address's city, lower-cased.
- ``ix_customer_email_sort``, ``ix_customer_created``.
- ``ix_app_user_name_sort`` (name, surname lower-cased) and
  ``ix_lookup_name_sort``: the referenced rows a sort by a user's or a lookup
  entry's name walks in order (``listing.LinkWalk``); each one's customers
  come from ``ix_customer_user`` / ``ix_customer_type`` in id order on SQLite
  (the row id is in every index), from ``ix_customer_user_id_walk`` /
  ``ix_customer_type_id_walk`` (tenant_id, fk, id) on PostgreSQL.

On SQLite the indexes of the rows Cirrus lists by default, ``ix_customer_number_sort``
and ``ix_customer_live`` (0004, 0007: partial on live *and* active rows), are
made again after the new ones. SQLite plans without statistics and breaks a tie
between equally good indexes in favour of the one made last (sqlite_master's
rowid order; ``core.bulk`` keeps that order when a load rebuilds them). Every
index partial on live rows is as good as those two for a query of the live,
active customers by tenant, so made after them one of the new ones won: a count
of a Cirrus list went through ``ix_customer_created``, reading every row for
``active`` (``ix_customer_live`` answers it from the index alone), and Cirrus'
sort by number through ``ix_customer_number_all_sort``, testing each row's
``active``. Made last, the two win those ties again; a web list, which asks
for live rows whether active or not, cannot use them and keeps its own.

Dialect-specific expressions, so not in the models' metadata (``env.py`` keeps
autogenerate away from them).
"""
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

_NUMBER = "length(coalesce(number, '')), coalesce(number, '')"
_CITY = {"sqlite": "lower(CAST(json_extract(addresses, '$.visiting.city') AS VARCHAR))",
         "postgresql": "lower((addresses #>> '{visiting,city}'))"}
# name -> (table, the indexed expressions after tenant_id; None: the city's, per dialect)
INDEXES = {
    "ix_customer_number_all_sort": ("customer", _NUMBER),
    "ix_customer_city_sort": ("customer", None),
    "ix_customer_email_sort": ("customer", "lower(email)"),
    "ix_customer_created": ("customer", "created_at"),
    "ix_app_user_name_sort": ("app_user", "lower(name), lower(surname)"),
    "ix_lookup_name_sort": ("lookup", "lower(name)"),
}


# PostgreSQL only: a sort by a type's or responsible's name reads each one's
# customers in id order, at most a page's worth (listing.LinkWalk, WALK_INDEXED).
# SQLite's ix_customer_type and ix_customer_user hold the row id already.
WALK_INDEXES = {"ix_customer_type_id_walk": "type_id", "ix_customer_user_id_walk": "user_id"}

# SQLite: made again after the indexes above, ix_customer_live last (a count reads
# the narrowest index), so that they win the planner's ties (see the docstring).
_LIVE_ACTIVE = "WHERE deleted IS 0 AND active IS 1"
LIVE_ACTIVE_INDEXES = {
    "ix_customer_number_sort": f"(tenant_id, length(coalesce(number, '')), coalesce(number, ''), id) {_LIVE_ACTIVE}",
    "ix_customer_live": f"(tenant_id) {_LIVE_ACTIVE}",
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    tail = ", id" if dialect == "postgresql" else ""
    live = "deleted IS false" if dialect == "postgresql" else "deleted IS 0"
    for name, (table, expressions) in INDEXES.items():
        expressions = expressions or _CITY[dialect]
        # The customer indexes over live rows only: SQLite's planner (no statistics)
        # would otherwise take one for a query it does not suit, the count of the
        # deleted rows (ix_customer_deleted) among them. The referenced rows a
        # sort walks are joined whether deleted or not.
        where = f" WHERE {live}" if table == "customer" else ""
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} (tenant_id, {expressions}{tail}){where}")
    if dialect == "postgresql":
        for name, fk in WALK_INDEXES.items():
            op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON customer (tenant_id, {fk}, id) WHERE {live}")
    else:
        for name, definition in LIVE_ACTIVE_INDEXES.items():
            op.execute(f"DROP INDEX IF EXISTS {name}")
            op.execute(f"CREATE INDEX {name} ON customer {definition}")


def downgrade() -> None:
    for name in [*INDEXES, *WALK_INDEXES]:
        op.execute(f"DROP INDEX IF EXISTS {name}")
