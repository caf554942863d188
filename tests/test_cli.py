"""The ``polycrm`` command line: db upgrade, tenant create, load, serve.

Commands run in-process through Typer's CliRunner, each against a fresh data
folder; on the PostgreSQL leg they are pointed at the test database with
``--database`` / ``POLYCRM_DATABASE_URL``. ``serve --demo`` runs as a real
subprocess on a free loopback port.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from polycrm.cli import cli
from polycrm.core import auth, tenants
from polycrm.core.models import Contact, Customer
from polycrm.store.engine import Database

runner = CliRunner()


def run(*args: str):
    return runner.invoke(cli, list(args), catch_exceptions=False)


def unique(prefix: str = "cli") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """A fresh, empty data folder and no database URL in the environment."""
    folder = tmp_path / "data"
    monkeypatch.setenv("POLYCRM_DATA_DIR", str(folder))
    monkeypatch.delenv("POLYCRM_DATABASE_URL", raising=False)
    return folder


@pytest.fixture
def cli_db(runtime, data_dir, monkeypatch) -> Database:
    """Point the CLI at the backend under test; return that database."""
    if runtime.db.is_sqlite:
        # SQLite: the embedded default, a database file in the fresh data folder.
        db = Database(f"sqlite:///{(data_dir / 'polycrm.sqlite3').resolve()}")
        db.upgrade()
        yield db
        db.dispose()
    else:
        monkeypatch.setenv("POLYCRM_DATABASE_URL", runtime.db.url)
        yield runtime.db


# -- db upgrade ----------------------------------------------------------------
def test_db_upgrade_creates_the_embedded_database_and_is_idempotent(data_dir):
    first = run("db", "upgrade")
    assert first.exit_code == 0, first.output
    assert "is up to date" in first.stdout
    assert (data_dir / "polycrm.sqlite3").is_file()

    second = run("db", "upgrade")
    assert second.exit_code == 0, second.output
    db = Database(f"sqlite:///{data_dir / 'polycrm.sqlite3'}")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    db.dispose()


def test_db_upgrade_takes_the_database_option(runtime, tmp_path, data_dir):
    url = runtime.db.url if not runtime.db.is_sqlite else f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}"
    for _ in range(2):
        result = run("db", "upgrade", "--database", url)
        assert result.exit_code == 0, result.output
    if runtime.db.is_sqlite:
        assert (tmp_path / "elsewhere.sqlite3").is_file()
        assert not (data_dir / "polycrm.sqlite3").exists()
    else:
        assert "postgresql" in result.stdout


def test_an_unreachable_database_is_a_clear_error(data_dir):
    result = run("db", "upgrade", "--database", "postgresql://nobody@127.0.0.1:1/nothing")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot open the database:")
    assert result.stdout == ""


# -- tenant create -------------------------------------------------------------
def test_tenant_create_json_prints_working_credentials(cli_db):
    name = unique()
    result = run("tenant", "create", name, "--json")
    assert result.exit_code == 0, result.output

    creds = json.loads(result.stdout)  # exactly one JSON document, nothing else
    assert set(creds) == {"tenant", "microbizz", "cirrus", "centia", "admin"}
    assert set(creds["admin"]) == {"key"}
    assert set(creds["microbizz"]) == {"contract", "apikey", "username", "password"}
    assert set(creds["cirrus"]) == {"x_token", "client_id", "client_secret"}
    assert set(creds["centia"]) == {"email", "password"}
    assert creds["tenant"] == name

    tenant = tenants.find(cli_db, name)
    assert tenant is not None and tenant.contract == creds["microbizz"]["contract"]
    assert auth.resolve_token(cli_db, auth.MICROBIZZ_APIKEY, creds["microbizz"]["apikey"]).tenant_id == tenant.id
    assert auth.resolve_token(cli_db, auth.CIRRUS_XTOKEN, creds["cirrus"]["x_token"]).tenant_id == tenant.id
    with auth.system_session(cli_db) as session:
        client = auth.find_credential(
            session, auth.CIRRUS_CLIENT, creds["cirrus"]["client_secret"], key_id=creds["cirrus"]["client_id"]
        )
        assert client is not None and client.tenant_id == tenant.id
        assert auth.find_credential(session, "polycrm.admin", creds["admin"]["key"]).tenant_id == tenant.id
        user = auth.user_by_login(session, tenant.id, creds["centia"]["email"])
        assert user is not None and user.username == creds["microbizz"]["username"]
        assert auth.verify_password(creds["centia"]["password"], user.password_hash)


def test_tenant_create_refuses_a_duplicate_name(cli_db):
    name = unique()
    assert run("tenant", "create", name, "--json").exit_code == 0
    again = run("tenant", "create", name, "--json")
    assert again.exit_code == 1
    assert again.stdout == ""
    assert again.stderr == f"error: tenant {name!r} already exists\n"


# -- load ----------------------------------------------------------------------
FIXTURE = {
    "customers": [
        {"ref": "acme", "name": "Acme A/S", "email": "info@acme.example"},
        {"ref": "acme-north", "name": "Acme Nord", "parent_ref": "acme"},
    ],
    "contacts": [{"name": "Ada Lovelace", "customer_ref": "acme", "email": "ada@acme.example"}],
}


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def count(db: Database, tenant_id: int, model) -> int:
    from polycrm.core.workspace import Workspace

    with Workspace(db, tenant_id, write=False) as ws:
        return ws.count(select(model))


def test_load_reports_counts_and_stores_the_records(cli_db, tmp_path):
    creds = new_tenant_in(cli_db)
    result = run("load", "--tenant", creds["tenant"], str(write_json(tmp_path / "f.json", FIXTURE)))
    assert result.exit_code == 0, result.output
    assert result.stdout == "2 customers, 1 contacts\n"

    from polycrm.core.workspace import Workspace

    with Workspace(cli_db, creds["tenant_id"], write=False) as ws:
        rows = {c.name: c for c in ws.scalars(select(Customer))}
        assert rows["Acme Nord"].parent_id == rows["Acme A/S"].id
        [ada] = ws.scalars(select(Contact))
        assert ada.customer_id == rows["Acme A/S"].id


def test_load_rejects_an_unknown_tenant(cli_db, tmp_path):
    name = unique("missing")
    result = run("load", "--tenant", name, str(write_json(tmp_path / "f.json", FIXTURE)))
    assert result.exit_code == 1
    assert result.stderr == f"error: no tenant named {name!r}\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "Expecting property name enclosed in double quotes"),
        ('["customers"]', "a fixture file holds one JSON object of sections"),
        ('{"customers": [], "planets": []}', "unknown fixture sections: planets"),
    ],
)
def test_load_rejects_a_bad_file(cli_db, tmp_path, content, message):
    creds = new_tenant_in(cli_db)
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    result = run("load", "--tenant", creds["tenant"], str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert result.stdout == ""


def test_a_failed_load_writes_nothing(cli_db, tmp_path):
    creds = new_tenant_in(cli_db)
    broken = {"customers": [{"ref": "a", "name": "Kept?"}], "contacts": [{"name": "X", "customer_ref": "nobody"}]}
    result = run("load", "--tenant", creds["tenant"], str(write_json(tmp_path / "f.json", broken)))
    assert result.exit_code == 1
    assert result.stderr == "error: contacts item 1: customer_ref 'nobody' names no earlier item\n"
    assert count(cli_db, creds["tenant_id"], Customer) == 0


def test_load_refuses_a_missing_file(data_dir, tmp_path):
    result = run("load", "--tenant", "demo", str(tmp_path / "absent.json"))
    assert result.exit_code == 2
    assert "does not exist" in result.output


def new_tenant_in(db: Database) -> dict:
    return tenants.create(db, tenants.NewTenant(name=unique()))


# -- serve ---------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def polycrm_command() -> list[str]:
    script = shutil.which("polycrm", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "polycrm.cli"]


def test_serve_demo_answers_http_and_creates_the_demo_tenant(cli_db, data_dir, tmp_path):
    port = free_port()
    env = dict(os.environ)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*polycrm_command(), "serve", "--demo", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    try:
        answered = None
        deadline = time.monotonic() + 120
        while answered is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                answered = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
            except httpx.TransportError:
                time.sleep(0.25)
        assert answered is not None, f"server never answered:\n{log.read_text(errors='replace')}"
        assert answered.status_code < 500, log.read_text(errors="replace")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert proc.returncode in (0, -signal.SIGTERM), log.read_text(errors="replace")

    demo = tenants.find(cli_db, "demo")
    assert demo is not None and demo.contract == 1000
    assert count(cli_db, demo.id, Customer) > 0
