"""Alembic migrations, run programmatically (``polycrm db upgrade``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError

HERE = Path(__file__).parent
# The newest revision of migrations/versions. A database already stamped with
# it is left as it is without importing Alembic, its templates and every
# migration script (about 13 MB of a server's memory, and its start-up time);
# tests/store/test_migrations_head.py holds this to Alembic's own head.
HEAD = "0027"


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def at_head(db) -> bool:
    """Whether the database is stamped with :data:`HEAD` (and nothing else)."""
    try:
        with db.engine.connect() as conn:
            stamped = [row[0] for row in conn.exec_driver_sql("SELECT version_num FROM alembic_version")]
    except DBAPIError:  # no such table: a new database
        return False
    return stamped == [HEAD]


def upgrade(db) -> None:
    """Bring the database to the newest schema (creating it if empty)."""
    if at_head(db):
        return
    from alembic import command

    cfg = alembic_config(db.url)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
