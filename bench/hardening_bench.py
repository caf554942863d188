"""Hardening benchmark: memory after the largest Microbizz request, and fairness of writes.

    .venv/bin/python bench/hardening_bench.py [--customers 100000] [--seconds 5] [--database URL]

Loads a throwaway tenant with N customers, starts ``polycrm serve`` on a free
loopback port and measures:

  (a) the server's resident memory before and after the largest Microbizz
      request the limits allow (``GetCustomersByLastChange`` commands until
      the row limit: 20 pages of 1,000 customers by default), and after one
      command more, which the server refuses (docs/limits.md);
  (b) single-write latency: ``--writers`` clients each sending one
      ``CreateUpdateCustomerByCustomerNumber`` per request for ``--seconds``,
      alone, then next to a client sending ``--batch-size``-command write
      batches (polycrm/core/write_turns.py).

It prints figures only; docs/benchmarks.md has them.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BenchEnv, common_arguments, percentile, rate  # noqa: E402

ENDPOINT = "/api/endpoint.php"


def envelope(credentials: dict[str, Any], commands: list[dict[str, Any]]) -> dict[str, str]:
    mb = credentials["microbizz"]
    body = {"contract": mb["contract"], "apikey": mb["apikey"], "username": mb["username"],
            "password": mb["password"], "commands": commands}
    return {"json": orjson.dumps(body).decode()}


def post(http: httpx.Client, credentials: dict[str, Any], commands: list[dict[str, Any]]) -> dict[str, Any]:
    response = http.post(ENDPOINT, data=envelope(credentials, commands))
    response.raise_for_status()
    return orjson.loads(response.content)


def bench_memory(env: BenchEnv, commands: int) -> None:
    creds = env.data.credentials
    before = env.server.memory_mb()
    sync = [{"command": "GetCustomersByLastChange", "changedate": "2000-01-01"}] * commands
    started = time.perf_counter()
    response = env.http.post(ENDPOINT, data=envelope(creds, sync))
    seconds = time.perf_counter() - started
    body = orjson.loads(response.content)
    rows = sum(len(r.get("customers", [])) for r in body["results"])
    after = env.server.memory_mb()
    refused = post(env.http, creds, sync + sync[:1])
    past = env.server.memory_mb()
    print(f"(a) largest allowed Microbizz request: {commands} x GetCustomersByLastChange")
    print(f"    {rows:,} customers, {len(response.content) / 2**20:.1f} MiB answer in {seconds:.2f} s "
          f"(status {body['status']})")
    print(f"    server memory: before {before.get('VmRSS', 0):.0f} MB; after: peak {after.get('VmHWM', 0):.0f} MB, "
          f"now {after.get('VmRSS', 0):.0f} MB")
    print(f"    one command more: status {refused['status']} ({refused['msg'][:60]}...); "
          f"peak {past.get('VmHWM', 0):.0f} MB, now {past.get('VmRSS', 0):.0f} MB")


def single_writers(env: BenchEnv, writers: int, seconds: float, tag: str) -> list[float]:
    """Latencies of single-command writes by ``writers`` clients for ``seconds``."""
    creds = env.data.credentials
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(k: int) -> None:
        with httpx.Client(base_url=env.server.url, timeout=300.0) as http:
            n = 0
            while time.perf_counter() < deadline:
                customer = {"customernumber": f"{tag}-{k}-{n}", "name": f"Single {tag} {k} {n}"}
                t0 = time.perf_counter()
                result = post(http, creds, [{"command": "CreateUpdateCustomerByCustomerNumber", "customer": customer}])
                took = time.perf_counter() - t0
                if result["status"] != 1 or result["results"][0]["status"] != 1:
                    raise RuntimeError(f"write failed: {result}")
                with lock:
                    latencies.append(took)
                n += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def batch_client(env: BenchEnv, size: int, stop: threading.Event, done: list[float]) -> None:
    creds = env.data.credentials
    with httpx.Client(base_url=env.server.url, timeout=300.0) as http:
        n = 0
        while not stop.is_set():
            commands = [{"command": "CreateUpdateCustomerByID", "customer": {"id": 0, "name": f"Batch {n} {i}"}}
                        for i in range(size)]
            t0 = time.perf_counter()
            result = post(http, creds, commands)
            if result["status"] != 1:
                raise RuntimeError(f"batch failed: {result['msg']}")
            done.append(time.perf_counter() - t0)
            n += 1


def report(label: str, latencies: list[float], seconds: float) -> None:
    print(f"    {label}: {len(latencies)} writes, {rate(len(latencies), seconds)} writes/s, "
          f"p50 {percentile(latencies, 50) * 1000:.1f} ms, p99 {percentile(latencies, 99) * 1000:.1f} ms, "
          f"max {max(latencies) * 1000:.0f} ms")


def bench_fairness(env: BenchEnv, writers: int, seconds: float, size: int) -> None:
    print(f"(b) single writes, {writers} clients for {seconds:.0f} s each run:")
    alone = single_writers(env, writers, seconds, "alone")
    report("alone", alone, seconds)
    stop = threading.Event()
    batches: list[float] = []
    batcher = threading.Thread(target=batch_client, args=(env, size, stop, batches))
    batcher.start()
    time.sleep(0.5)  # the batch client is under way
    beside = single_writers(env, writers, seconds, "beside")
    stop.set()
    batcher.join()
    report(f"next to a client of {size}-command write batches", beside, seconds)
    if batches:
        print(f"    the batch client: {len(batches)} batches ({rate(len(batches) * size, sum(batches))} creates/s), "
              f"batch p50 {percentile(batches, 50):.2f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common_arguments(parser)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each write run (default %(default)s)")
    parser.add_argument("--writers", type=int, default=4, help="single-write clients (default %(default)s)")
    parser.add_argument("--batch-size", type=int, default=200, help="commands per write batch (default %(default)s)")
    parser.add_argument("--sync-commands", type=int, default=20,
                        help="GetCustomersByLastChange commands of the largest request (default %(default)s: "
                             "the 20,000-row limit at 1,000 per page)")
    parser.add_argument("--slice-ms", type=float, default=None,
                        help="the server's POLYCRM_WRITE_SLICE_MS (default: the server's own, 50); "
                             "a huge value shows a batch keeping the write lock for its whole run")
    args = parser.parse_args(argv)
    server_env = {"POLYCRM_WRITE_SLICE_MS": str(args.slice_ms)} if args.slice_ms is not None else None
    with BenchEnv(args, server_env=server_env) as env:
        post(env.http, env.data.credentials, [{"command": "GetCustomerTypes"}])  # warm up
        bench_memory(env, args.sync_commands)
        bench_fairness(env, args.writers, args.seconds, args.batch_size)


if __name__ == "__main__":
    main()
