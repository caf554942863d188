"""Sandbox toolkit benchmark: snapshot and restore of a tenant with N records.

    .venv/bin/python bench/sandbox_bench.py [--records 1000] [--runs 20] [--database URL] [--requests 300]
    .venv/bin/python bench/sandbox_bench.py --compare ../before --compare . [--rounds 6] [--database URL]

Makes a throwaway tenant in a temporary SQLite database (or the database
given), adds N customers with a contact each (2 x N/2 records), then times
``snapshots.save`` and ``snapshots.restore`` in-process (the admin API adds
one HTTP round trip): a restore after a test's worth of changes (10 customers
renamed, 10 added, 5 deleted), the same restore again (nothing differs), a
restore into an empty tenant (every row written again) and a restore over
another set of N records with other ids (every row of the tenant deleted,
every row of the snapshot written). Prints the median and 95th percentile of the wall time,
the median CPU time of this process and, on a PostgreSQL server on this
machine, of the server processes serving it (from /proc); docs/benchmarks.md
says what they were.

With ``--compare`` it runs only the snapshot figures, once per round in each
checkout's own environment (``DIR/.venv/bin/python`` running this script:
the checkout's polycrm), alternating, and prints each round's medians and
their ratios to the first checkout's.

Then the request journal's cost: ``polycrm serve`` on a free loopback port,
once with the journal (the default) and once without (``POLYCRM_JOURNAL_SIZE=0``),
each taking ``--requests`` Cirrus reads (``GET /cirrus/accounts/{id}``) and
writes (``POST /cirrus/accounts/accountgroups/``) from one client; printed
as wall time per request and the server's CPU time per request.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import select, text

from polycrm.core import contacts, customers, tenants
from polycrm.core.models import Customer
from polycrm.core.workspace import Workspace
from polycrm.sandbox import snapshots
from polycrm.store.engine import Database

LABELS = {
    "save": "save",
    "after_changes": "restore after a test's changes",
    "unchanged": "restore with nothing changed",
    "from_empty": "restore into the empty tenant",
    "over_others": "restore over N other records (delete, insert)",
}


def _customers(db: Database, tenant_id: int) -> list[Customer]:
    with Workspace(db, tenant_id, write=False) as ws:
        return list(ws.session.scalars(select(Customer).order_by(Customer.id)))


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _add_records(db: Database, made: dict, records: int, prefix: str) -> None:
    with Workspace(db, made["tenant_id"], made["user_id"]) as ws:
        for i in range(records // 2):
            c = customers.create(ws, {"name": f"{prefix} {i}", "number": f"{prefix[0]}{i}",
                                      "phone": "+45 70 20 30 40"})
            contacts.create(ws, {"name": f"Contact {prefix} {i}", "customer_id": c.id,
                                 "email": f"{prefix[0].lower()}{i}@example.com"})


class ServerClock:
    """CPU seconds of the PostgreSQL backends of this database, when the server
    runs on this machine (/proc/PID/stat); None otherwise."""

    def __init__(self, db: Database):
        self.db = db
        self.usable = db.engine.dialect.name == "postgresql" and self._read() is not None

    def _read(self) -> dict[int, float] | None:
        with self.db.engine.connect() as conn:
            pids = conn.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).all()
        found = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                if pid == pids[0]:
                    return None
                continue
            found[pid] = (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks
        return found

    def seconds(self) -> dict[int, float] | None:
        return self._read() if self.usable else None

    @staticmethod
    def spent(before: dict[int, float] | None, after: dict[int, float] | None) -> float | None:
        if before is None or after is None:
            return None
        return sum(v - before.get(pid, 0.0) for pid, v in after.items())


def measure(url: str, records: int, runs: int) -> dict:
    db = Database(url)
    db.upgrade()
    made = tenants.create(db, tenants.NewTenant(name=f"bench-{uuid.uuid4().hex[:8]}"))
    tenant_id = made["tenant_id"]
    _add_records(db, made, records, "Customer")
    ids = [c.id for c in _customers(db, tenant_id)]
    snapshots.save(db, tenant_id, "bench")
    # Another set of records under other ids (SQLite hands out the highest id
    # + 1, so they are made while the first set still exists), saved alone.
    _add_records(db, made, records, "Other")
    with db.engine.begin() as conn:
        for table in ("contact", "customer"):
            conn.execute(text(f"DELETE FROM {table} WHERE tenant_id = :t AND name NOT LIKE '%Other%'"),
                         {"t": tenant_id})
    snapshots.save(db, tenant_id, "others")
    snapshots.restore(db, tenant_id, "bench")
    clock = ServerClock(db)
    figures: dict[str, list[tuple[float, float, float | None]]] = {k: [] for k in LABELS}
    info = {}

    def timed(label: str, call):
        server, cpu, start = clock.seconds(), time.process_time(), time.perf_counter()
        result = call()
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        figures[label].append((wall, cpu, ServerClock.spent(server, clock.seconds())))
        return result

    for run in range(runs):
        info = timed("save", lambda: snapshots.save(db, tenant_id, "bench"))
        with Workspace(db, tenant_id, made["user_id"]) as ws:
            for i in ids[:10]:
                customers.update(ws, ws.get(Customer, i), {"name": f"Renamed {run}"})
            for i in range(10):
                customers.create(ws, {"name": f"Added {run} {i}"})
            for i in ids[10:15]:
                customers.delete(ws, ws.get(Customer, i))
        timed("after_changes", lambda: snapshots.restore(db, tenant_id, "bench"))
        timed("unchanged", lambda: snapshots.restore(db, tenant_id, "bench"))
        snapshots.reset(db, tenant_id, "empty")
        timed("from_empty", lambda: snapshots.restore(db, tenant_id, "bench"))
        snapshots.restore(db, tenant_id, "others")
        timed("over_others", lambda: snapshots.restore(db, tenant_id, "bench"))
    db.dispose()
    return {"database": db.engine.dialect.name, "rows": info["rows"], "size": info["size"], "figures": figures,
            "tenant": made}


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _ms(value: float | None) -> str:
    return "      -" if value is None else f"{value * 1000:7.1f}"


def report(result: dict, records: int, runs: int) -> None:
    print(f"database: {result['database']}; tenant rows in the snapshot: {result['rows']} "
          f"({records} records), {result['size']} bytes compressed")
    for key, label in LABELS.items():
        values = result["figures"][key]
        walls = [w for w, _, _ in values]
        print(f"{label.replace('N', str(records)):34s} median {_ms(statistics.median(walls))} ms   "
              f"p95 {_ms(_p95(walls))} ms   CPU {_ms(_median(c for _, c, _ in values))} ms   "
              f"server CPU {_ms(_median(s for _, _, s in values))} ms   ({runs} runs)")


def compare(checkouts: list[Path], url: str | None, records: int, runs: int, rounds: int) -> None:
    """Alternate the checkouts, each round a fresh database (SQLite) or tenant, and compare medians."""
    medians: dict[Path, list[dict]] = {c: [] for c in checkouts}
    for round_ in range(rounds):
        for checkout in checkouts:
            database = url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
            out = subprocess.run(
                [str(checkout / ".venv" / "bin" / "python"), __file__, "--json", "--records", str(records),
                 "--runs", str(runs), "--database", database],
                check=True, capture_output=True, text=True, cwd=checkout,
            ).stdout
            result = json.loads(out.strip().splitlines()[-1])
            medians[checkout].append({
                key: [_median(v[i] for v in values) for i in range(3)] for key, values in result["figures"].items()
            })
            print(f"round {round_ + 1} {checkout}:", flush=True)
            for key, label in LABELS.items():
                wall, cpu, server = medians[checkout][-1][key]
                print(f"    {label:34s} wall {_ms(wall)} ms   CPU {_ms(cpu)} ms   server CPU {_ms(server)} ms")
    first = checkouts[0]
    print(f"\nratios to {first} (per round: wall / CPU / server CPU):")
    for checkout in checkouts[1:]:
        print(f"  {checkout}")
        for key, label in LABELS.items():
            parts = []
            for a, b in zip(medians[first], medians[checkout]):
                parts.append("/".join("-" if x is None or y is None or not x else f"{y / x:.2f}"
                                      for x, y in zip(a[key], b[key])))
            print(f"    {label:34s} {'  '.join(parts)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database", default=None)
    parser.add_argument("--requests", type=int, default=300, help="per kind and setting; 0: no journal figures")
    parser.add_argument("--compare", metavar="DIR", action="append", default=[],
                        help="only the snapshot figures, in turn by this checkout and each other --compare")
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds of --compare")
    parser.add_argument("--json", action="store_true", help="print the snapshot figures as one JSON line")
    args = parser.parse_args()
    if args.compare:
        compare([Path(p).resolve() for p in args.compare], args.database, args.records, args.runs, args.rounds)
        return
    url = args.database or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    result = measure(url, args.records, args.runs)
    if args.json:
        print(json.dumps(result))
        return
    report(result, args.records, args.runs)
    if args.requests:
        journal_cost(url, result["tenant"], args.requests)


def journal_cost(url: str, made: dict, requests: int) -> None:
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
