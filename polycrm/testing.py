"""A pytest plugin for testing integrations against polycrm (registered as ``pytest11``).

Installing polycrm makes two fixtures available to any test suite::

    def test_lists_accounts(polycrm_tenant):
        polycrm_tenant.cirrus.post("/accounts/", json={...})
        assert polycrm_tenant.journal(api="cirrus")[0]["operation"] == "post_account_collection"

``polycrm_server`` (session): a real ``polycrm serve`` on a free loopback port
over a temporary SQLite database, stopped at the end of the session; or the
server named by ``--polycrm-url`` (or ``POLYCRM_URL``).

``polycrm_tenant`` (function): a fresh, empty tenant of its own; with
``@pytest.mark.polycrm_demo`` the demo tenant, put back into its demo state
from a snapshot before the test. Against a ``--polycrm-url`` server, whose
database the plugin cannot reach, every test uses the demo tenant (its admin
key from ``--polycrm-admin-key``, default ``demo-admin``), reset to empty or
restored to the demo snapshot through the admin API.

See docs/sandbox.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

DEMO_SNAPSHOT = "pytest-demo"
DEMO_CREDENTIALS = {
    "microbizz": {"contract": 1000, "apikey": "demo-apikey", "username": "demo", "password": "demo"},
    "cirrus": {"x_token": "demo-token", "client_id": "demo-client", "client_secret": "demo-secret"},
    "centia": {"email": "demo@example.com", "password": "demo"},
}


def pytest_addoption(parser) -> None:
    group = parser.getgroup("polycrm")
    group.addoption("--polycrm-url", default=os.environ.get("POLYCRM_URL"),
                    help="use this running polycrm server instead of starting one (env POLYCRM_URL)")
    group.addoption("--polycrm-admin-key", default=os.environ.get("POLYCRM_ADMIN_KEY", "demo-admin"),
                    help="the demo tenant's admin key on --polycrm-url (default demo-admin)")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "polycrm_demo: polycrm_tenant is the demo tenant with its demo data")


# -- the server ---------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PolycrmServer:
    """A polycrm server: its URL and, when the plugin started it, its database."""

    base_url: str
    database_url: str | None = None
    admin_key: str = "demo-admin"
    process: subprocess.Popen | None = None
    _db: Any = None

    @property
    def db(self):
        """The server's database (only for a server the plugin started)."""
        if self._db is None and self.database_url:
            from polycrm.store.engine import Database

            self._db = Database(self.database_url)
        return self._db

    def admin(self, key: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.base_url + "/_polycrm",
                            headers={"Authorization": f"Bearer {key or self.admin_key}"}, timeout=30)

    def stop(self) -> None:
        if self._db is not None:
            self._db.dispose()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(data_dir: Path, *, timeout: float = 60.0) -> PolycrmServer:
    """``polycrm serve --demo`` on a free loopback port over SQLite in ``data_dir``."""
    port = _free_port()
    database_url = f"sqlite:///{(data_dir / 'polycrm.sqlite3').resolve()}"
    env = {**os.environ, "POLYCRM_DATA_DIR": str(data_dir)}
    env.pop("POLYCRM_DATABASE_URL", None)
    log = open(data_dir / "server.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-c", "from polycrm.cli import main; main()", "serve", "--demo",
         "--host", "127.0.0.1", "--port", str(port), "--database", database_url],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    server = PolycrmServer(f"http://127.0.0.1:{port}", database_url, process=process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"polycrm serve exited with {process.returncode}; see {data_dir / 'server.log'}")
        with contextlib.suppress(OSError):
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"polycrm serve did not listen within {timeout:.0f} s; see {data_dir / 'server.log'}")


@pytest.fixture(scope="session")
def polycrm_server(request):
    url = request.config.getoption("--polycrm-url")
    if url:
        yield PolycrmServer(url.rstrip("/"), admin_key=request.config.getoption("--polycrm-admin-key"))
        return
    with tempfile.TemporaryDirectory(prefix="polycrm-") as folder:
        server = start_server(Path(folder))
        try:
            yield server
        finally:
            server.stop()


# -- the tenant ---------------------------------------------------------------------------
class Microbizz:
    """The Microbizz command API with the tenant's envelope credentials."""

    def __init__(self, base_url: str, credentials: dict[str, Any]):
        self.credentials = credentials
        self.http = httpx.Client(base_url=base_url, timeout=60)

    def call(self, *commands: dict[str, Any], **envelope: Any) -> dict[str, Any]:
        """Send one envelope with these commands; the decoded answer."""
        body = {**self.credentials, "commands": list(commands), **envelope}
        return self.http.post("/api/endpoint.php", data={"json": json.dumps(body)}).json()


class Centia:
    """centiaCRM v1, signed in on first use."""

    def __init__(self, base_url: str, credentials: dict[str, str]):
        self.credentials = credentials
        self.http = httpx.Client(base_url=base_url + "/api/v1", timeout=60)
        self.token: str | None = None

    def call(self, module: str, method: str, **parameters: Any) -> dict[str, Any]:
        """``POST /api/v1/{module}`` with ``{"method", "parameters"}``; the decoded answer."""
        if self.token is None:
            login = self.http.post("/auth", json={"method": "Login", "parameters": self.credentials}).json()
            self.token = login["response"]["token"]
        return self.http.post(f"/{module}", json={"method": method, "parameters": parameters},
                              headers={"Authorization": f"Bearer {self.token}"}).json()


@dataclass
class PolycrmTenant:
    """One tenant of the server under test, with a client for each API."""

    base_url: str
    name: str
    admin_key: str
    credentials: dict[str, Any]
    microbizz: Microbizz = field(init=False)
    cirrus: httpx.Client = field(init=False)
    centia: Centia = field(init=False)

    def __post_init__(self) -> None:
        self.microbizz = Microbizz(self.base_url, self.credentials["microbizz"])
        self.cirrus = httpx.Client(base_url=self.base_url + "/cirrus", timeout=60,
                                   headers={"X-Token": self.credentials["cirrus"]["x_token"]})
        self.centia = Centia(self.base_url, self.credentials["centia"])
        self.admin = httpx.Client(base_url=self.base_url + "/_polycrm", timeout=60,
                                  headers={"Authorization": f"Bearer {self.admin_key}"})

    def _admin(self, method: str, path: str, **kw: Any) -> Any:
        response = self.admin.request(method, path, **kw)
        if response.status_code >= 400:
            raise AssertionError(f"polycrm admin API {method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    def journal(self, **filters: Any) -> list[dict[str, Any]]:
        """The journal's entries, newest first (filters: api, operation, status, since, limit)."""
        return self._admin("GET", "/journal", params={k: str(v) for k, v in filters.items()})["entries"]

    def faults(self, *rules: dict[str, Any]) -> list[dict[str, Any]]:
        """Replace the fault rules with these (none: clear them); the rules with their counts."""
        if not rules:
            self._admin("DELETE", "/faults")
            return []
        return self._admin("PUT", "/faults", json=list(rules))["rules"]

    def limits(self, *limits: dict[str, Any]) -> list[dict[str, Any]]:
        """Set rate limits (none: clear them)."""
        if not limits:
            self._admin("DELETE", "/limits")
            return []
        return self._admin("PUT", "/limits", json=list(limits))["limits"]

    def snapshot(self, name: str) -> dict[str, Any]:
        return self._admin("POST", "/snapshots", json={"name": name})

    def restore(self, name: str) -> dict[str, Any]:
        return self._admin("POST", f"/snapshots/{name}/restore")

    def reset(self, to: str = "empty") -> dict[str, Any]:
        return self._admin("POST", "/reset", json={"to": to})

    def close(self) -> None:
        for client in (self.microbizz.http, self.cirrus, self.centia.http, self.admin):
            client.close()


def _demo_tenant(server: PolycrmServer) -> PolycrmTenant:
    tenant = PolycrmTenant(server.base_url, "demo", server.admin_key, DEMO_CREDENTIALS)
    names = [s["name"] for s in tenant._admin("GET", "/snapshots")["snapshots"]]
    if DEMO_SNAPSHOT not in names:
        tenant.reset("demo")
        tenant.snapshot(DEMO_SNAPSHOT)
    return tenant


@pytest.fixture
def polycrm_tenant(request, polycrm_server):
    demo = request.node.get_closest_marker("polycrm_demo") is not None
    if demo or polycrm_server.db is None:
        tenant = _demo_tenant(polycrm_server)
        if demo:
            tenant.restore(DEMO_SNAPSHOT)
        else:
            tenant.reset("empty")
        tenant.faults()
        tenant.limits()
        tenant._admin("DELETE", "/journal")
    else:
        from polycrm.core import tenants

        made = tenants.create(polycrm_server.db, tenants.NewTenant(name=f"pytest-{uuid.uuid4().hex[:12]}"))
        tenant = PolycrmTenant(polycrm_server.base_url, made["tenant"], made["admin"]["key"],
                               {k: made[k] for k in ("microbizz", "cirrus", "centia")})
    try:
        yield tenant
    finally:
        tenant.close()
