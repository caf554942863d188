"""kill -9 under write load: every acknowledged write is in the database afterwards.

A real server (``polycrm serve``) on the test's database takes single-command
Microbizz creates from four clients; once some are acknowledged the server
is killed with SIGKILL mid-load. Every customer whose create was answered
``status`` 1 must then be stored, and the database must still open and
take writes (a server started again on it answers).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import orjson
from sqlalchemy import select

from polycrm.core.models import Customer
from polycrm.core.workspace import Workspace
from tests.conftest import new_tenant

CLIENTS = 4
ACKNOWLEDGED_BEFORE_KILL = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(runtime, data_dir) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "POLYCRM_DATA_DIR": str(data_dir), "POLYCRM_DATABASE_URL": runtime.db.url}
    server = subprocess.Popen([sys.executable, "-m", "polycrm.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
            time.sleep(0.2)


def _envelope(tenant: dict, name: str) -> dict[str, str]:
    mb = tenant["microbizz"]
    body = {"contract": mb["contract"], "apikey": mb["apikey"], "username": mb["username"], "password": mb["password"],
            "commands": [{"command": "CreateUpdateCustomerByID", "customer": {"id": 0, "name": name}}]}
    return {"json": orjson.dumps(body).decode()}


def test_no_acknowledged_write_is_lost_on_kill_9(runtime, tmp_path):
    tenant = new_tenant(runtime)
    server, url = _serve(runtime, tmp_path)
    acknowledged: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()

    def client(k: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            for n in range(100_000):
                name = f"Kill9 {k}-{n}"
                try:
                    r = http.post("/api/endpoint.php", data=_envelope(tenant, name))
                    body = r.json()
                except (httpx.HTTPError, ValueError):
                    return  # the server is gone
                if body["status"] == 1 and body["results"][0]["status"] == 1:
                    with lock:
                        acknowledged.append(name)
                        if len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL:
                            enough.set()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        assert enough.wait(120), "the server acknowledged too few writes"
        server.send_signal(signal.SIGKILL)  # while the clients keep writing
        server.wait(30)
    finally:
        if server.poll() is None:
            server.kill()
        for thread in threads:
            thread.join(60)
    with lock:
        promised = set(acknowledged)
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        stored = set(ws.scalars(select(Customer.name).where(Customer.name.like("Kill9 %"))))
    assert promised <= stored, sorted(promised - stored)[:10]
    # The database opens and takes writes again.
    again, url = _serve(runtime, tmp_path)
    try:
        r = httpx.post(url + "/api/endpoint.php", data=_envelope(tenant, "After the kill"), timeout=30)
        assert r.json()["results"][0]["status"] == 1
    finally:
        again.terminate()
        again.wait(30)
