"""Shared test fixtures.

Every test module runs against SQLite and, when ``POLYCRM_TEST_PG_URL`` is
set (CI sets it), against PostgreSQL too. The database is created once per
run; tests stay independent by each working in a fresh tenant.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from polycrm.app import create_app
from polycrm.config import Settings
from polycrm.core import tenants, throttle
from polycrm.runtime import Runtime
from polycrm.store.engine import Database, normalise_url

PG_URL = os.environ.get("POLYCRM_TEST_PG_URL")

# Webhook tests post to a receiver on loopback, with short retries and timeouts.
os.environ.setdefault("POLYCRM_WEBHOOK_ALLOW_PRIVATE", "1")
os.environ.setdefault("POLYCRM_WEBHOOK_RETRY_BASE_S", "0.05")
os.environ.setdefault("POLYCRM_WEBHOOK_TIMEOUT_S", "1")
os.environ.setdefault("POLYCRM_WEBHOOK_POLL_S", "0.1")
# Every request of the suite's TestClient comes from one address
# ("testclient"), and many tests send wrong passwords on purpose: the count
# per address would block the suite. tests/core/test_throttle.py sets it back.
throttle.FREE_ADDRESS_FAILURES = 10**9
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _fresh_pg_database(url: str) -> str:
    """Drop and recreate the test database named in ``url``."""
    url = normalise_url(url)
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    return url


@event.listens_for(Session, "before_flush")
def _reads_do_not_write(session, _context, _instances):
    """A workspace opened for reading must not write: on SQLite its deferred
    transaction would have to upgrade to a write lock, which fails with
    "database is locked" when another writer got there first. An operation
    that writes on GET opens a writing workspace instead."""
    if session.info.get("write", True):
        return
    changed = session.new or session.deleted or [o for o in session.dirty if session.is_modified(o)]
    assert not changed, f"a read-only workspace writes: {sorted({type(o).__name__ for o in changed})}"


@pytest.fixture(scope="session", params=BACKENDS)
def runtime(request, tmp_path_factory) -> Runtime:
    data_dir = tmp_path_factory.mktemp(f"data-{request.param}")
    if request.param == "postgresql":
        url = _fresh_pg_database(PG_URL)
    else:
        url = f"sqlite:///{data_dir / 'polycrm.sqlite3'}"
    settings = Settings(data_dir=data_dir, database_url=url)
    rt = Runtime.from_settings(settings, Database(url))
    rt.db.upgrade()
    yield rt
    rt.db.dispose()


@pytest.fixture(scope="session")
def backend(runtime) -> str:
    return runtime.db.engine.dialect.name


@pytest.fixture(scope="session")
def app(runtime):
    return create_app(runtime.settings, runtime.db)


@pytest.fixture(scope="session")
def client(app) -> TestClient:
    with TestClient(app) as c:
        yield c


def new_tenant(runtime: Runtime, **kw) -> dict:
    return tenants.create(runtime.db, tenants.NewTenant(name=f"t-{uuid.uuid4().hex[:12]}", **kw))


@pytest.fixture
def tenant(runtime) -> dict:
    """A fresh tenant; its credentials as ``polycrm tenant create --json`` prints them."""
    return new_tenant(runtime)


@pytest.fixture
def other_tenant(runtime) -> dict:
    return new_tenant(runtime)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Make "no tests collected" (exit code 5) impossible to miss."""
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        terminalreporter.write_line(
            "error: no tests were collected; check the paths and -k/-m filters", red=True, bold=True
        )
