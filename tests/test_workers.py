"""Several server processes on one database (docs/deployment.md).

Two separate ``polycrm serve`` processes on the same database: an account
written through one is read through the other at once (on PostgreSQL, the
way N machines share one server; on SQLite, N processes on one machine).
``serve --workers 2`` runs two processes behind one port.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator

import httpx

from polycrm.core import lookups
from polycrm.core.workspace import Workspace

from tests.test_cli import cli_db, data_dir, free_port, new_tenant_in, polycrm_command  # noqa: F401 (fixtures)


@contextlib.contextmanager
def server(tmp_path, *args: str) -> Iterator[str]:
    """A ``polycrm serve`` subprocess on a free loopback port; yields its base URL."""
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([*polycrm_command(), "serve", "--host", "127.0.0.1", "--port", str(port), *args],
                                env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")
            try:
                httpx.get(base + "/", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, f"server never answered:\n{log.read_text(errors='replace')}"
                time.sleep(0.25)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def account_body(db, creds: dict, name: str) -> dict:
    with Workspace(db, creds["tenant_id"], write=False) as ws:
        typeid = lookups.default(ws, "customer_type").id
    return {"name": name, "userid": creds["user_id"], "typeid": typeid}


def test_a_write_through_one_process_is_read_through_another(cli_db, tmp_path):
    creds = new_tenant_in(cli_db)
    headers = {"X-Token": creds["cirrus"]["x_token"]}
    with server(tmp_path) as one, server(tmp_path) as two:
        created = httpx.post(f"{one}/cirrus/accounts/", json=account_body(cli_db, creds, "Written by one"),
                             headers=headers, timeout=30)
        assert created.status_code == 200, created.text
        account_id = created.json()["id"]
        read = httpx.get(f"{two}/cirrus/accounts/{account_id}", headers=headers, timeout=30)
        assert read.status_code == 200, read.text
        assert read.json()["name"] == "Written by one"
        changed = httpx.put(f"{two}/cirrus/accounts/{account_id}", json={"name": "Renamed by two"},
                            headers=headers, timeout=30)
        assert changed.status_code == 200, changed.text
        again = httpx.get(f"{one}/cirrus/accounts/{account_id}", headers=headers, timeout=30)
        assert again.json()["name"] == "Renamed by two"
        missing = httpx.get(f"{two}/cirrus/accounts/{account_id + 1000}", headers=headers, timeout=30)
        assert missing.status_code == 404


def test_serve_workers_runs_processes_behind_one_port(cli_db, tmp_path):
    creds = new_tenant_in(cli_db)
    headers = {"X-Token": creds["cirrus"]["x_token"]}
    with server(tmp_path, "--workers", "2") as base:
        ids = []
        for i in range(6):
            r = httpx.post(f"{base}/cirrus/accounts/", json=account_body(cli_db, creds, f"Worker {i}"),
                           headers=headers, timeout=30)
            assert r.status_code == 200, r.text
            ids.append(r.json()["id"])
        for i, account_id in enumerate(ids):  # each read may land on either process
            r = httpx.get(f"{base}/cirrus/accounts/{account_id}", headers=headers, timeout=30)
            assert r.status_code == 200 and r.json()["name"] == f"Worker {i}", r.text
        bad = httpx.get(f"{base}/cirrus/accounts/", headers={"X-Token": "wrong"}, timeout=30)
        assert bad.status_code == 401
