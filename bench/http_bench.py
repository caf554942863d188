"""Cirrus over HTTP with several clients: writes (POST /accounts/) and reads
(GET /accounts/{id}), 1 or more server processes, one or more checkouts.

    .venv/bin/python bench/http_bench.py --data-dir DIR --token X_TOKEN \\
        [--checkout PATH ...] [--workers 1,2] [--clients 4] [--seconds 10] \\
        [--parts writes,reads] [--requests N] [--database URL] [--synchronous NORMAL,FULL] [--py-spy FILE]

For each checkout (alternating, A B then B A with ``--repeat 2``) and each
worker count, a copy of the SQLite data folder ``DIR`` (made by ``polycrm
load``, e.g. with bench/import_bench.py ``--keep``-style folders) is served by
that checkout's ``polycrm serve --workers N`` on a free loopback port, and
``--clients`` threads (one httpx client each) send requests for
``--seconds``: first POSTs of new accounts (name, number, type, user), then
GETs of random ids. Printed: requests/s, p50 and p99 latency, and the CPU
seconds the server processes used per request (from /proc, the server and
its workers). ``--parts writes`` measures the POSTs alone; ``--requests``
stops each part after that many requests even before ``--seconds``.
``--database`` serves that database (e.g. a PostgreSQL one made with
``polycrm load``) instead of a copy of ``DIR``'s SQLite file; the accounts it
writes stay in it. The port is the first free one of ``POLYCRM_BENCH_PORTS``
(bench/common.py). ``--py-spy FILE`` records the server during the first
part of the first run. ``--synchronous`` serves with each SQLite
``POLYCRM_SQLITE_SYNCHRONOUS`` in turn (docs/deployment.md, "Durability"). The clients run on the same machine and take CPU too; on 2
cores that caps what any server can show, so compare rows of one run.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from common import Profiler, free_port, stop_process  # noqa: E402


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its living descendants."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in Path(f"/proc/{p}/task").iterdir():
                children = (task / "children").read_text().split()
                todo.extend(int(c) for c in children)
        except (OSError, IndexError, ValueError):
            continue
    return total


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] if ordered else float("nan")


def drive(url: str, token: str, clients: int, seconds: float, make,
          requests: int | None = None) -> tuple[int, list[float], int]:
    """``clients`` threads sending ``make(rng, n)`` requests for ``seconds`` (or until
    ``requests`` were sent in all); (count, latencies, errors)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    left = iter(range(requests)) if requests else None

    def client(k: int) -> None:
        rng = random.Random(k)
        mine: list[float] = []
        bad = 0
        with httpx.Client(base_url=url, headers={"X-Token": token}, timeout=60) as http:
            n = 0
            while time.monotonic() < stop and (left is None or next(left, None) is not None):
                method, path, body = make(rng, k * 10_000_000 + n)
                n += 1
                started = time.perf_counter()
                r = http.request(method, path, json=body)
                mine.append(time.perf_counter() - started)
                if r.status_code != 200:
                    if not bad and k == 0:
                        print(f"  first error: {r.status_code} {r.text[:200]}", flush=True)
                    bad += 1
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies), latencies, errors[0]


def measure(checkout: Path, data_dir: Path, token: str, workers: int, clients: int, seconds: float,
            port: int | None = None, *, parts: tuple[str, ...] = ("writes", "reads"), requests: int | None = None,
            database: str | None = None, py_spy: str | None = None, synchronous: str | None = None) -> None:
    with tempfile.TemporaryDirectory(prefix="polycrm-http-") as tmp:
        data = Path(tmp) / "data"
        if database:
            data.mkdir()
        else:
            shutil.copytree(data_dir, data)
        port = port or free_port()
        env = {**os.environ, "POLYCRM_DATA_DIR": str(data)}
        env.pop("POLYCRM_DATABASE_URL", None)
        if database:
            env["POLYCRM_DATABASE_URL"] = database
        if synchronous:
            env["POLYCRM_SQLITE_SYNCHRONOUS"] = synchronous
        log = open(Path(tmp) / "server.log", "wb")
        # Without --workers for 1, so that a checkout from before the option runs too.
        more = ["--workers", str(workers)] if workers > 1 else []
        proc = subprocess.Popen([str(checkout / ".venv/bin/polycrm"), "serve", "--port", str(port), *more],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(240):
                try:
                    if httpx.get(f"{url}/cirrus/accounts/?per_page=1", headers={"X-Token": token}).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.25)
            first = httpx.get(f"{url}/cirrus/accounts/?per_page=50", headers={"X-Token": token}).json()
            types = httpx.get(f"{url}/cirrus/accounts/types/", headers={"X-Token": token})
            typeid = first["items"][0]["type"]["id"] if first["items"] and first["items"][0].get("type") else None
            if typeid is None and types.status_code == 200:
                typeid = types.json()["items"][0]["id"]
            low = min(a["id"] for a in first["items"])
            userid = first["items"][0]["user"]["id"]
            total = int(first.get("total") or 100_000)
            stamp = int(time.time())

            def write(rng, n):
                return "POST", "/cirrus/accounts/", {"name": f"Bench {stamp}-{n}", "number": f"W{stamp}-{n}",
                                                     "typeid": typeid, "userid": userid, "email": f"w{n}@example.com"}

            def read(rng, n):
                return "GET", f"/cirrus/accounts/{low + rng.randrange(total)}", None

            chosen = [(label, make) for part, label, make in
                      (("writes", "POST /accounts/", write), ("reads", "GET /accounts/{id}", read)) if part in parts]
            for label, make in chosen:
                profiler = Profiler(proc.pid, py_spy)
                py_spy = None
                cpu0 = tree_cpu(proc.pid)
                started = time.perf_counter()
                try:
                    count, lat, errors = drive(url, token, clients, seconds, make, requests)
                finally:
                    profiler.stop()
                wall = time.perf_counter() - started
                cpu = tree_cpu(proc.pid) - cpu0
                print(f"{checkout.name}{' ' + synchronous if synchronous else ''} workers={workers} {label}: {count / wall:,.0f}/s, "
                      f"p50 {percentile(lat, 50) * 1000:.1f} ms, p99 {percentile(lat, 99) * 1000:.1f} ms, "
                      f"server CPU {cpu / max(count, 1) * 1000:.2f} ms/request, {errors} errors "
                      f"({clients} clients, {wall:.0f} s, load {os.getloadavg()[0]:.1f})", flush=True)
        finally:
            stop_process(proc)
            log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--checkout", action="append", type=Path)
    parser.add_argument("--workers", default="1", help="comma-separated worker counts (default 1)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--port", type=int, help="serve on this loopback port (default: a free one)")
    parser.add_argument("--parts", default="writes,reads", help="what to measure: writes, reads (default both)")
    parser.add_argument("--requests", type=int, help="at most this many requests per part (all clients together)")
    parser.add_argument("--database", metavar="URL", help="serve this database instead of a copy of --data-dir's")
    parser.add_argument("--synchronous", help="comma-separated POLYCRM_SQLITE_SYNCHRONOUS values to serve with in "
                        "turn (OFF, NORMAL, FULL, EXTRA; default: the checkout's own)")
    parser.add_argument("--py-spy", metavar="FILE", help="record the server during the first part (flame graph SVG, "
                        ".txt for collapsed stacks)")
    args = parser.parse_args()
    parts = tuple(p.strip() for p in args.parts.split(","))
    py_spy = args.py_spy
    checkouts = [c.resolve() for c in (args.checkout or [REPO])]
    for round_ in range(args.repeat):
        for checkout in (checkouts if round_ % 2 == 0 else checkouts[::-1]):
            for workers in (int(w) for w in args.workers.split(",")):
                levels = args.synchronous.split(",") if args.synchronous else [None]
                for level in (levels if round_ % 2 == 0 else levels[::-1]):
                    measure(checkout, args.data_dir, args.token, workers, args.clients, args.seconds, args.port,
                            parts=parts, requests=args.requests, database=args.database, py_spy=py_spy,
                            synchronous=level)
                    py_spy = None


if __name__ == "__main__":
    main()
