"""Several server processes on one database (docs/deployment.md).

Two separate ``polycrm serve`` processes on the same database: an account
written through one is read through the other at once (on PostgreSQL, the
way N machines share one server; on SQLite, N processes on one machine).
What a process keeps of the data is keyed by the tenant's revision, read from
the database by each request: a Cirrus ETag handed out by one process is
stale in the other right after a write, and a list count one process cached
is recounted after another's write. ``serve --workers 2`` runs two processes
behind one port.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

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


def test_an_etag_and_a_cached_count_of_one_process_follow_a_write_through_another(cli_db, tmp_path):
    creds = new_tenant_in(cli_db)
    headers = {"X-Token": creds["cirrus"]["x_token"]}
    with server(tmp_path) as one, server(tmp_path) as two:
        created = httpx.post(f"{one}/cirrus/accounts/", json=account_body(cli_db, creds, "Tagged"),
                             headers=headers, timeout=30)
        assert created.status_code == 200, created.text
        path = f"/cirrus/accounts/{created.json()['id']}"
        first = httpx.get(one + path, headers=headers, timeout=30)
        assert first.status_code == 200 and first.headers["ETag"].startswith('W/"'), first.text
        tag = first.headers["ETag"]
        # Both processes make the same tag for the same revision and request.
        unchanged = httpx.get(two + path, headers={**headers, "If-None-Match": tag}, timeout=30)
        assert (unchanged.status_code, unchanged.headers["ETag"]) == (304, tag)

        # (a) A write through one: the other answers the old tag with the new content.
        renamed = httpx.put(one + path, json={"name": "Renamed by one"}, headers=headers, timeout=30)
        assert renamed.status_code == 200, renamed.text
        fresh = httpx.get(two + path, headers={**headers, "If-None-Match": tag}, timeout=30)
        assert fresh.status_code == 200, fresh.text
        assert fresh.json()["name"] == "Renamed by one" and fresh.headers["ETag"] != tag
        assert httpx.get(one + path, headers={**headers, "If-None-Match": fresh.headers["ETag"]},
                         timeout=30).status_code == 304

        # (b) The second process counts the list and keeps the count for this revision...
        counted = [httpx.get(f"{two}/cirrus/accounts/", headers=headers, timeout=30) for _ in range(2)]
        assert [r.status_code for r in counted] == [200, 200], counted[-1].text
        total = counted[-1].json()["total"]
        assert total == counted[0].json()["total"] == 1
        list_tag = counted[-1].headers["ETag"]
        # ...and a create through the first moves the revision: the count is made again.
        added = httpx.post(f"{one}/cirrus/accounts/", json=account_body(cli_db, creds, "Counted"),
                           headers=headers, timeout=30)
        assert added.status_code == 200, added.text
        recounted = httpx.get(f"{two}/cirrus/accounts/", headers=headers, timeout=30)
        assert recounted.status_code == 200 and recounted.json()["total"] == total + 1, recounted.text
        conditional = httpx.get(f"{two}/cirrus/accounts/", headers={**headers, "If-None-Match": list_tag}, timeout=30)
        assert conditional.status_code == 200 and conditional.json()["total"] == total + 1
        # A refused write through the first moves nothing: the second's newest tag still holds.
        refused = httpx.post(f"{one}/cirrus/accounts/", json={"name": ""}, headers=headers, timeout=30)
        assert refused.status_code == 400, refused.text
        still = httpx.get(f"{two}/cirrus/accounts/", headers={**headers, "If-None-Match": recounted.headers["ETag"]},
                          timeout=30)
        assert still.status_code == 304


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


def _listening_sockets(port: int) -> dict[int, int]:
    """The listening TCP sockets (IPv4) on a port: inode -> the pid holding it."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
            inodes.add(int(fields[9]))
    owners = {}
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and int(target[8:-1]) in inodes:
            owners[int(target[8:-1])] = int(fd.parts[2])
    return owners


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT spreads connections on Linux")
def test_serve_workers_listen_on_a_socket_each(cli_db, tmp_path):
    """One shared socket let the first worker to wake accept every waiting
    connection (a client opening its kept-alive connections at once had them
    all on one process); a socket per worker has the kernel spread them."""
    creds = new_tenant_in(cli_db)
    headers = {"X-Token": creds["cirrus"]["x_token"]}
    with server(tmp_path, "--workers", "2") as base:
        port = int(base.rsplit(":", 1)[1])
        deadline = time.monotonic() + 120  # the second worker may still be starting
        while len(owners := _listening_sockets(port)) < 2 and time.monotonic() < deadline:
            time.sleep(0.25)
        assert len(owners) == 2 and len(set(owners.values())) == 2, owners
        # Both answer: 32 connections at once (each its own client) all get through.
        clients = [httpx.Client(base_url=base, headers=headers, timeout=30) for _ in range(32)]
        try:
            assert {c.get("/cirrus/accounts/").status_code for c in clients} == {200}
        finally:
            for c in clients:
                c.close()
