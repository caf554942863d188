"""How long SQLite writers of one process wait for the write lock, in-process.

    .venv/bin/python bench/write_turns_bench.py [--checkout PATH ...] [--writers 4] [--writes 100] [--rounds 2]

For each checkout in turn (alternating by round), a subprocess of that
checkout's Python makes a throwaway SQLite database with one tenant and runs
``--writers`` threads, each creating ``--writes`` customers, one workspace
(one transaction) each, holding it for ``--hold-ms`` more (a sleep: the rest
of a request's work inside its transaction, without taking CPU, so the
figure is the lock hand-over rather than the machine's load), beside one
thread that writes outside workspaces every ``--side-ms`` (as the request
journal does: ``BEGIN IMMEDIATE`` on a plain connection). Printed per
checkout: writes/s, p50 and p99 of a workspace write (begin to commit), p99
of the side writes, and the time the lock stood free while someone waited
for it (the sum over hand-overs of the gap between one commit and the next
begin, beyond 1 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CHILD = textwrap.dedent('''
    import json, shutil, sys, tempfile, threading, time
    from pathlib import Path
    from sqlalchemy import text
    from polycrm.core import tenants
    from polycrm.core.models import Customer
    from polycrm.core.workspace import Workspace
    from polycrm.store.engine import Database

    writers, writes, hold, side_every = (int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000,
                                          float(sys.argv[4]) / 1000)
    folder = Path(tempfile.mkdtemp(prefix="polycrm-turns-"))
    db = Database(f"sqlite:///{folder / 'db.sqlite3'}")
    db.upgrade()
    tenant = tenants.create(db, tenants.NewTenant(name="turns"))
    with db.write_engine.connect() as conn, conn.begin():
        conn.exec_driver_sql("CREATE TABLE side_write (id INTEGER PRIMARY KEY, at REAL)")
    spans, side, lock = [], [], threading.Lock()
    barrier = threading.Barrier(writers + 1)
    stop = threading.Event()

    def writer(k):
        barrier.wait()
        for n in range(writes):
            started = time.perf_counter()
            with Workspace(db, tenant["tenant_id"], tenant["user_id"]) as ws:
                began = time.perf_counter()
                ws.create(Customer, name=f"W{k}-{n}")
                ws.flush()
                time.sleep(hold)
            ended = time.perf_counter()
            with lock:
                spans.append((started, began, ended))

    def side_writer():
        barrier.wait()
        while not stop.is_set():
            started = time.perf_counter()
            with db.write_engine.connect() as conn, conn.begin():
                conn.execute(text("INSERT INTO side_write (at) VALUES (:at)"), {"at": started})
            side.append(time.perf_counter() - started)
            stop.wait(side_every)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(writers)]
    helper = threading.Thread(target=side_writer)
    for t in [*threads, helper]:
        t.start()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    stop.set()
    helper.join()
    # The lock stood free while a writer waited: the gap between one transaction's
    # end and the next one's begin, for writers that had asked before that end.
    ordered = sorted(spans, key=lambda s: s[1])
    idle = 0.0
    for before, after in zip(ordered, ordered[1:]):
        if after[0] < before[2]:
            idle += max(0.0, after[1] - before[2] - 0.001)
    lat = sorted(e - s for s, _b, e in spans)
    side.sort()
    db.dispose()
    shutil.rmtree(folder, ignore_errors=True)
    pick = lambda xs, p: xs[min(len(xs) - 1, int(len(xs) * p / 100))] if xs else float("nan")
    print(json.dumps({"writes_per_s": len(spans) / wall, "p50_ms": pick(lat, 50) * 1000, "p99_ms": pick(lat, 99) * 1000,
                      "side_p99_ms": pick(side, 99) * 1000, "side_writes": len(side), "idle_ms": idle * 1000}))
''')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkout", action="append", type=Path)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--writes", type=int, default=100, help="per writer")
    parser.add_argument("--hold-ms", type=float, default=2.0)
    parser.add_argument("--side-ms", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    checkouts = [c.resolve() for c in (args.checkout or [REPO])]
    for round_ in range(args.rounds):
        for checkout in (checkouts if round_ % 2 == 0 else checkouts[::-1]):
            env = {**os.environ, "PYTHONPATH": str(checkout)}
            out = subprocess.run([str(checkout / ".venv/bin/python"), "-c", CHILD, str(args.writers), str(args.writes),
                                  str(args.hold_ms), str(args.side_ms)], env=env, cwd=checkout, check=True,
                                 capture_output=True, text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(f"{checkout.name}: {r['writes_per_s']:.0f} writes/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms;"
                  f" side writes p99 {r['side_p99_ms']:.1f} ms ({r['side_writes']}); lock free while awaited"
                  f" {r['idle_ms']:.0f} ms ({args.writers} writers x {args.writes}, hold {args.hold_ms} ms,"
                  f" load {os.getloadavg()[0]:.1f})", flush=True)


if __name__ == "__main__":
    sys.exit(main())
