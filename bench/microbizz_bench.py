"""Microbizz API benchmark over real HTTP.

    .venv/bin/python bench/microbizz_bench.py [--customers 100000 | --sizes 10000,100000] [--database URL]
    .venv/bin/python bench/microbizz_bench.py --sizes 10000,100000 --compare ../before --compare . [--rounds 3]

Loads a throwaway tenant with N customers, starts ``polycrm serve`` on a free
loopback port and measures, with an httpx client:

  (a) a full GetCustomersByLastChange sync through ``resumekey`` pages,
      and the server's peak resident memory afterwards;
  (b) batches of 100 GetCustomerByID commands on random ids;
  (c) single-command CreateUpdateCustomerByCustomerNumber requests, half
      updates of existing customers and half creates.

With ``--compare`` it measures only (a), served in turn by each checkout
over the same data (wall, server CPU and peak memory per round, and the
ratios): before against after, alike under the machine's load.

It prints figures only; what they should be is in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BenchEnv, Server, common_arguments, percentile, rate  # noqa: E402

ENDPOINT = "/api/endpoint.php"


class Microbizz:
    """A minimal Microbizz client: one envelope per request, posted as form field ``json``."""

    def __init__(self, http, credentials: dict[str, Any]):
        self.http = http
        mb = credentials["microbizz"]
        self.auth = {"contract": mb["contract"], "apikey": mb["apikey"], "username": mb["username"],
                     "password": mb["password"]}

    def run(self, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        envelope = {**self.auth, "commands": commands}
        response = self.http.post(ENDPOINT, data={"json": orjson.dumps(envelope).decode()})
        response.raise_for_status()
        body = orjson.loads(response.content)  # the client's parsing time is part of every figure: keep it small
        if body.get("status") != 1:
            raise RuntimeError(f"envelope failed: {body.get('msg')}")
        for result in body["results"]:
            if result.get("status") != 1:
                raise RuntimeError(f"command failed: {result.get('msg')}")
        return body["results"]


def full_sync(server: Server, client: Microbizz, since: str | None) -> dict[str, Any]:
    """One GetCustomersByLastChange sync through its resumekeys: wall and
    server CPU seconds, customers, pages and their times."""
    command: dict[str, Any] = {"command": "GetCustomersByLastChange"}
    if since:
        command["changedate"] = since
    pages = records = 0
    page_seconds: list[float] = []
    cpu = server.cpu_seconds()
    started = time.perf_counter()
    next_command = command
    while True:
        t0 = time.perf_counter()
        result = client.run([next_command])[0]
        page_seconds.append(time.perf_counter() - t0)
        pages += 1
        records += len(result["customers"])
        key = result.get("resumekey")
        if not key:
            break
        next_command = {"command": "GetCustomersByLastChange", "resumekey": key}
    return {"wall": time.perf_counter() - started, "cpu": server.cpu_seconds() - cpu, "records": records,
            "pages": pages, "page_seconds": page_seconds}


def bench_sync(env: BenchEnv, client: Microbizz, since: str | None) -> None:
    profiler = env.profiler()
    run = full_sync(env.server, client, since)
    total, cpu, records, pages, page_seconds = (run[k] for k in ("wall", "cpu", "records", "pages", "page_seconds"))
    profiler.stop()
    memory = env.server.memory_mb()
    print(f"(a) GetCustomersByLastChange full sync (changedate {since or 'none'}):")
    print(f"    {records:,} customers in {pages} pages: {total:.2f} s, {rate(records, total)} customers/s "
          f"(server CPU {cpu:.2f} s)")
    print(f"    page: median {percentile(page_seconds, 50) * 1000:.0f} ms, "
          f"p95 {percentile(page_seconds, 95) * 1000:.0f} ms, max {max(page_seconds) * 1000:.0f} ms")
    print(f"    server memory: peak {memory.get('VmHWM', 0):.0f} MB, now {memory.get('VmRSS', 0):.0f} MB")
    if records != env.customers:
        print(f"    note: the sync returned {records:,} customers, {env.customers:,} were loaded")


def compare_sync(env: BenchEnv, checkouts: list[Path], rounds: int, since: str | None) -> None:
    """The sync served by each checkout in turn, over the same data, ``rounds``
    times: each run on a fresh server (so its peak memory is the sync's own),
    the checkouts alternating so that the machine's load falls on each alike."""
    runs: dict[Path, list[dict[str, Any]]] = {path: [] for path in checkouts}
    env.server.stop()  # the loader's server; every run below starts its own
    for round_no in range(rounds):
        for path in checkouts:
            server = Server(env.database_url, env.data_dir, env.server_env, repo=path)
            try:
                with httpx.Client(base_url=server.url, timeout=300.0) as http:
                    client = Microbizz(http, env.data.credentials)
                    client.run([{"command": "GetCustomerTypes"}])
                    run = full_sync(server, client, since)
                run["peak"] = server.memory_mb().get("VmHWM", 0)
            finally:
                server.stop()
            runs[path].append(run)
            print(f"    round {round_no + 1} {path.name}: {run['records']:,} customers, wall {run['wall']:.2f} s, "
                  f"server CPU {run['cpu']:.2f} s, peak {run['peak']:.0f} MB "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)
    first = checkouts[0]
    print(f"(a') GetCustomersByLastChange full sync of {env.customers:,} customers ({env.backend}), "
          f"median of {rounds} alternating rounds:")
    for path in checkouts:
        wall, cpu, peak = (statistics.median(r[k] for r in runs[path]) for k in ("wall", "cpu", "peak"))
        ratios = ""
        if path != first:
            ratio = [statistics.median(a[k] / b[k] for a, b in zip(runs[path], runs[first])) for k in ("wall", "cpu")]
            ratios = f"; x{ratio[0]:.2f} wall, x{ratio[1]:.2f} CPU of {first.name} (median of per-round ratios)"
        print(f"    {path}: wall {wall:.2f} s, server CPU {cpu:.2f} s, peak {peak:.0f} MB{ratios}")


def bench_get_by_id(env: BenchEnv, client: Microbizz, batches: int, size: int, rng: random.Random) -> None:
    ids = env.data.customer_ids
    seconds: list[float] = []
    found = 0
    cpu = env.server.cpu_seconds()
    started = time.perf_counter()
    for _ in range(batches):
        commands = [{"command": "GetCustomerByID", "customerid": rng.choice(ids)} for _ in range(size)]
        t0 = time.perf_counter()
        results = client.run(commands)
        seconds.append(time.perf_counter() - t0)
        found += sum(len(r["customers"]) for r in results)
    total = time.perf_counter() - started
    cpu = env.server.cpu_seconds() - cpu
    print(f"(b) GetCustomerByID, {batches} requests of {size} commands on random ids:")
    print(f"    {total:.2f} s: {rate(batches, total)} requests/s, {rate(batches * size, total)} commands/s "
          f"(request median {percentile(seconds, 50) * 1000:.0f} ms, p95 {percentile(seconds, 95) * 1000:.0f} ms; "
          f"server CPU {cpu:.2f} s)")
    if found != batches * size:
        print(f"    note: {batches * size - found} lookups found nothing")


def bench_writes(env: BenchEnv, client: Microbizz, count: int, rng: random.Random) -> None:
    numbers = env.data.customer_numbers
    next_number = 10001 + len(numbers) + 1_000_000
    seconds: list[float] = []
    cpu = env.server.cpu_seconds()
    started = time.perf_counter()
    for i in range(count):
        if i % 2 == 0:
            customer = {"customernumber": rng.choice(numbers), "phone": f"+45 {rng.randint(20000000, 99999999)}",
                        "city": rng.choice(("Aarhus C", "Odense C", "Vejle")), "trade": "Updated"}
        else:
            customer = {"customernumber": str(next_number + i), "name": f"New Customer {i} ApS",
                        "address": f"Nygade {i % 200 + 1}", "zip": "8000", "city": "Aarhus C", "country": "DK",
                        "email": f"new{i}@example.dk", "latitude": 56.15, "longitude": 10.2}
        t0 = time.perf_counter()
        client.run([{"command": "CreateUpdateCustomerByCustomerNumber", "customer": customer}])
        seconds.append(time.perf_counter() - t0)
    total = time.perf_counter() - started
    cpu = env.server.cpu_seconds() - cpu
    print(f"(c) CreateUpdateCustomerByCustomerNumber, {count} single-command requests (half updates, half creates):")
    print(f"    {total:.2f} s: {rate(count, total)} writes/s "
          f"(request median {percentile(seconds, 50) * 1000:.1f} ms, p95 {percentile(seconds, 95) * 1000:.1f} ms; "
          f"server CPU {cpu:.2f} s)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common_arguments(parser)
    parser.add_argument("--since", default="2000-01-01",
                        help="changedate of the sync (default %(default)s; '' for none)")
    parser.add_argument("--batches", type=int, default=200, help="GetCustomerByID requests (default %(default)s)")
    parser.add_argument("--batch-size", type=int, default=100, help="commands per request (default %(default)s)")
    parser.add_argument("--writes", type=int, default=1000, help="write requests (default %(default)s)")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: sync,get,write")
    parser.add_argument("--compare", metavar="DIR", action="append", default=[],
                        help="only the sync, served in turn by this checkout and each other --compare "
                        "(before and after a change), over one load; repeat it for each checkout")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of --compare (default %(default)s)")
    parser.add_argument("--sizes", default="",
                        help="comma-separated customer counts, one load and measurement each (instead of --customers)")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.sizes.split(",") if n.strip()] or [args.customers]
    for size in sizes:
        measure(args, size)


def measure(args: argparse.Namespace, customers: int) -> None:
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    rng = random.Random(args.seed)
    with BenchEnv(args, customers=customers) as env:
        if args.compare:
            checkouts = [Path(p).resolve() for p in args.compare]
            compare_sync(env, checkouts, args.rounds, args.since or None)
            return
        client = Microbizz(env.http, env.data.credentials)
        client.run([{"command": "GetCustomerTypes"}])  # warm up: authentication, imports, pools
        if "sync" not in skip:
            bench_sync(env, client, args.since or None)
        if "get" not in skip:
            bench_get_by_id(env, client, args.batches, args.batch_size, rng)
        if "write" not in skip:
            bench_writes(env, client, args.writes, rng)


if __name__ == "__main__":
    main()
