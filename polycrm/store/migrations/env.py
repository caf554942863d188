"""Alembic environment: migrations for the polycrm schema."""

from alembic import context
from sqlalchemy import create_engine

from polycrm.core.models import Base
from polycrm.store.engine import INDEX_TABLES, SHORT_POSITIONS

config = context.config
target_metadata = Base.metadata

# Search and sort indexes made by hand in 0002, 0008, 0018, 0021, 0025 and 0026 (dialect-specific, not in the
# models): the SQLite FTS5 and R*Tree tables with their shadow tables, and the PostgreSQL
# GIN and GiST indexes.
HAND_MADE_TABLES = INDEX_TABLES + (SHORT_POSITIONS,)
HAND_MADE_INDEXES = frozenset({
    "ix_customer_search_short", "ix_contact_search_short", "ix_product_search_short",  # 0025, PostgreSQL
    "ix_customer_long_search", "ix_contact_long_search", "ix_product_long_search",  # 0025, SQLite
    "ix_customer_search_trgm", "ix_contact_search_trgm", "ix_product_search_trgm",
    "ix_customer_name_prefix",  # 0018, PostgreSQL only
    "ix_customer_geo_point",  # 0021, PostgreSQL only
    # 0026: expressions written per dialect
    "ix_customer_number_all_sort", "ix_customer_city_sort", "ix_customer_email_sort", "ix_customer_created",
    "ix_app_user_name_sort", "ix_lookup_name_sort", "ix_customer_type_id_walk", "ix_customer_user_id_walk",
    # 0027: the other lists' sorts and walks
    "ix_contact_name_sort", "ix_contact_name_text_sort", "ix_contact_jobtitle_sort", "ix_contact_email_sort",
    "ix_ticket_customer_id_walk", "ix_ticket_priority_id_walk", "ix_opportunity_stage_id_walk",
    "ix_quote_status_id_walk", "ix_quote_user_id_walk", "ix_opportunity_user_id_walk", "ix_ticket_user_id_walk",
    "ix_lookup_sortorder_sort", "ix_activity_list_sort", "ix_contact_live", "ix_ticket_live",
    "ix_opportunity_live", "ix_quote_live", "ix_activity_live",
})


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Keep autogenerate from proposing to drop the hand-made search indexes."""
    if type_ == "table" and name and name.startswith(HAND_MADE_TABLES):
        return False
    if type_ == "index" and name in HAND_MADE_INDEXES:
        return False
    return True


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url"))
        with engine.begin() as connection:
            _migrate(connection)
    else:
        _migrate(connection)


def _migrate(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
