"""What every ``polycrm`` sub-command shares: its options, opening the store
for one tenant, one transaction, and printing an answer.

A command reads ``with tenant_runtime(database, tenant) as (rt, tenant_id):``;
an unknown tenant or a core error becomes ``error: ...`` on stderr and exit
code 1, and the store is closed whatever happens.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import typer
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session

from polycrm.config import Settings
from polycrm.runtime import Runtime

DATABASE_OPTION = typer.Option(
    None, "--database", envvar="POLYCRM_DATABASE_URL",
    help="Database URL, e.g. postgresql://user:pass@host/db (default: SQLite in the data folder).",
)
TENANT_OPTION = typer.Option(..., "--tenant", help="Name of the tenant.")
JSON_OPTION = typer.Option(False, "--json", help="Print the answer as JSON.")


def open_runtime(database: str | None = None) -> Runtime:
    """The runtime over ``database`` (or the configured one), migrated to the head."""
    settings = Settings()
    if database:
        settings = Settings(data_dir=settings.data_dir, database_url=database)
    try:
        rt = Runtime.from_settings(settings)
        rt.db.upgrade()
    except (ArgumentError, OperationalError) as exc:
        # A wrong URL or an unreachable server: say so instead of a traceback.
        detail = getattr(exc, "orig", None) or exc
        typer.echo(f"error: cannot open the database: {str(detail).strip().splitlines()[0]}", err=True)
        raise typer.Exit(1) from None
    return rt


def fail(message: str) -> None:
    """``error: message`` on stderr, exit code 1."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1) from None


@contextlib.contextmanager
def tenant_runtime(database: str | None, tenant: str) -> Iterator[tuple[Runtime, int]]:
    """The runtime and the id of the tenant named ``tenant``; core errors end the command."""
    from polycrm.core import tenants
    from polycrm.core.errors import CoreError

    rt = open_runtime(database)
    try:
        found = tenants.find(rt.db, tenant)
        if found is None:
            fail(f"no tenant named {tenant!r}")
        yield rt, found.id
    except CoreError as exc:
        fail(exc.message)
    finally:
        rt.db.dispose()


@contextlib.contextmanager
def transaction(db) -> Iterator[Session]:
    """A system session in one transaction (committed unless an error escapes)."""
    from polycrm.core.auth import system_session

    with system_session(db) as session, session.begin():
        if db.is_sqlite:
            session.connection(execution_options={"polycrm_write": True})
        yield session


def key_values(value: Any) -> str:
    """``k=v k=v`` for a mapping, one such line per item for a list of mappings."""
    if isinstance(value, list):
        return "\n".join(key_values(item) for item in value)
    return " ".join(f"{k}={v}" for k, v in value.items())


def print_answer(value: Any, as_json: bool, text: Callable[[Any], str] = key_values) -> None:
    """The answer as one JSON document with ``--json``, else as ``text`` renders it."""
    rendered = orjson.dumps(value).decode() if as_json else text(value)
    if rendered:
        typer.echo(rendered)
