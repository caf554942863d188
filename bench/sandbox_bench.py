"""Sandbox toolkit benchmark: snapshot and restore of a tenant with N records.

    .venv/bin/python bench/sandbox_bench.py [--records 1000] [--runs 20] [--database URL] [--requests 300]

Makes a throwaway tenant in a temporary SQLite database (or the database
given), adds N customers with a contact each (2 x N/2 records), then times
``snapshots.save`` and ``snapshots.restore`` in-process (the admin API adds
one HTTP round trip): a restore after a test's worth of changes (10 customers
renamed, 10 added, 5 deleted), the same restore again (nothing differs), and
a restore into an empty tenant (every row written again). Prints the median
and 95th percentile of the runs; docs/benchmarks.md says what they were.

Then the request journal's cost: ``polycrm serve`` on a free loopback port,
once with the journal (the default) and once without (``POLYCRM_JOURNAL_SIZE=0``),
each taking ``--requests`` Cirrus reads (``GET /cirrus/accounts/{id}``) and
writes (``POST /cirrus/accounts/accountgroups/``) from one client; printed
as wall time per request and the server's CPU time per request.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import select

from polycrm.core import contacts, customers, tenants
from polycrm.core.models import Customer
from polycrm.core.workspace import Workspace
from polycrm.sandbox import snapshots
from polycrm.store.engine import Database


def _customers(db: Database, tenant_id: int) -> list[Customer]:
    with Workspace(db, tenant_id, write=False) as ws:
        return list(ws.session.scalars(select(Customer).order_by(Customer.id)))


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database", default=None)
    parser.add_argument("--requests", type=int, default=300, help="per kind and setting; 0: no journal figures")
    args = parser.parse_args()
    url = args.database or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    db = Database(url)
    db.upgrade()
    made = tenants.create(db, tenants.NewTenant(name=f"bench-{uuid.uuid4().hex[:8]}"))
    tenant_id = made["tenant_id"]
    with Workspace(db, tenant_id, made["user_id"]) as ws:
        for i in range(args.records // 2):
            c = customers.create(ws, {"name": f"Customer {i}", "number": f"N{i}", "phone": "+45 70 20 30 40"})
            contacts.create(ws, {"name": f"Contact {i}", "customer_id": c.id, "email": f"c{i}@example.com"})
    ids = [c.id for c in _customers(db, tenant_id)]
    saves, after_changes, unchanged, from_empty = [], [], [], []
    info = {}
    for run in range(args.runs):
        start = time.perf_counter()
        info = snapshots.save(db, tenant_id, "bench")
        saves.append(time.perf_counter() - start)
        with Workspace(db, tenant_id, made["user_id"]) as ws:
            for i in ids[:10]:
                customers.update(ws, ws.get(Customer, i), {"name": f"Renamed {run}"})
            for i in range(10):
                customers.create(ws, {"name": f"Added {run} {i}"})
            for i in ids[10:15]:
                customers.delete(ws, ws.get(Customer, i))
        start = time.perf_counter()
        snapshots.restore(db, tenant_id, "bench")
        after_changes.append(time.perf_counter() - start)
        start = time.perf_counter()
        snapshots.restore(db, tenant_id, "bench")
        unchanged.append(time.perf_counter() - start)
        snapshots.reset(db, tenant_id, "empty")
        start = time.perf_counter()
        snapshots.restore(db, tenant_id, "bench")
        from_empty.append(time.perf_counter() - start)
    print(f"database: {db.engine.dialect.name}; tenant rows in the snapshot: {info['rows']} "
          f"({args.records} records), {info['size']} bytes compressed")
    for label, values in (("save", saves), ("restore after a test's changes", after_changes),
                          ("restore with nothing changed", unchanged),
                          ("restore into the empty tenant", from_empty)):
        print(f"{label:32s} median {statistics.median(values) * 1000:7.1f} ms   "
              f"p95 {_p95(values) * 1000:7.1f} ms   ({args.runs} runs)")
    db.dispose()
    if args.requests:
        journal_cost(url, made, args.requests)


def journal_cost(url: str, made: dict, requests: int) -> None:
    import sys

    import httpx

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import Server  # noqa: E402

    db = Database(url)
    ids = [c.id for c in _customers(db, made["tenant_id"])][:50]
    db.dispose()
    headers = {"X-Token": made["cirrus"]["x_token"]}
    for label, env in (("journal off", {"POLYCRM_JOURNAL_SIZE": "0"}), ("journal on", {})):
        server = Server(url, Path(tempfile.mkdtemp()), env)
        try:
            with httpx.Client(base_url=server.url, headers=headers) as client:
                client.get(f"/cirrus/accounts/{ids[0]}")
                for kind in ("read", "write"):
                    cpu, start = server.cpu_seconds(), time.perf_counter()
                    for i in range(requests):
                        if kind == "read":
                            response = client.get(f"/cirrus/accounts/{ids[i % len(ids)]}")
                        else:
                            response = client.post("/cirrus/accounts/accountgroups/", json={"name": f"G {label} {i}"})
                        response.raise_for_status()
                    wall = (time.perf_counter() - start) / requests
                    cpu = (server.cpu_seconds() - cpu) / requests
                    print(f"{label:12s} {kind:5s}  wall {wall * 1000:6.2f} ms/request   "
                          f"server CPU {cpu * 1000:6.2f} ms/request   ({requests} requests)")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
