"""customer: a spatial index for nearto (distance from a point)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 07:30:00

``nearto`` (``polycrm.core.query.geo.near_hits``) finds the customers in a
circle by its bounding box, then measures each. ``ix_customer_geo (tenant_id,
latitude, longitude)`` serves only the latitude range of that box: every
customer in the whole latitude band around the world is read. A two-dimensional
index reads only the box:

- SQLite: ``customer_geo``, an R*Tree over each customer's point (min = max)
  keyed by the customer id, kept current by three triggers in the statement
  that writes the customer (so in its transaction: create, update, delete,
  merge, ``polycrm load``, snapshot restore). The R*Tree stores 32-bit floats
  rounded outwards, so it finds a superset of the box; the exact box on the
  real columns still applies. Skipped, with the search using the latitude
  range as before, when the SQLite library has no R*Tree module.
- PostgreSQL: a GiST index on ``point(longitude, latitude)`` (built-in
  geometric types, no PostGIS), which ``point(...) <@ box(...)`` uses. The
  server maintains it on every write, ``COPY`` included.

Neither is in the models' metadata (dialect-specific); ``env.py`` keeps
autogenerate away from them. A later migration that recreates the
``customer`` table on SQLite (a batch "move and copy") drops the triggers with
it and must call :func:`create_sqlite_rtree` again.
"""
from alembic import op
from sqlalchemy.exc import DBAPIError

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

RTREE_TABLE = "customer_geo"
TRIGGERS = ("customer_geo_insert", "customer_geo_delete", "customer_geo_update")
PG_INDEX = "ix_customer_geo_point"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        create_sqlite_rtree()
    elif dialect == "postgresql":
        op.execute(f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON customer USING gist (point(longitude, latitude)) "
                   f"WHERE latitude IS NOT NULL AND longitude IS NOT NULL")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(f"DROP TABLE IF EXISTS {RTREE_TABLE}")
    elif dialect == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")


def create_sqlite_rtree() -> None:
    """The R*Tree of customer points, its triggers and its contents (the customers that have both coordinates)."""
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.exec_driver_sql(f"CREATE VIRTUAL TABLE IF NOT EXISTS {RTREE_TABLE} "
                                 f"USING rtree(id, min_lat, max_lat, min_lng, max_lng)")
    except DBAPIError:
        return  # no R*Tree module: nearto keeps using ix_customer_geo
    point = "new.id, new.latitude, new.latitude, new.longitude, new.longitude"
    has_point = "new.latitude IS NOT NULL AND new.longitude IS NOT NULL"
    insert = f"INSERT INTO {RTREE_TABLE} SELECT {point} WHERE {has_point};"
    delete = f"DELETE FROM {RTREE_TABLE} WHERE id = old.id;"
    op.execute(f"CREATE TRIGGER IF NOT EXISTS customer_geo_insert AFTER INSERT ON customer BEGIN {insert} END")
    op.execute(f"CREATE TRIGGER IF NOT EXISTS customer_geo_delete AFTER DELETE ON customer BEGIN {delete} END")
    op.execute(f"CREATE TRIGGER IF NOT EXISTS customer_geo_update AFTER UPDATE OF id, latitude, longitude "
               f"ON customer BEGIN {delete} {insert} END")
    op.execute(f"INSERT INTO {RTREE_TABLE} SELECT id, latitude, latitude, longitude, longitude FROM customer "
               f"WHERE latitude IS NOT NULL AND longitude IS NOT NULL")
