"""Microbizz API benchmark over real HTTP.

    .venv/bin/python bench/microbizz_bench.py [--customers 100000] [--database URL]

Loads a throwaway tenant with N customers, starts ``polycrm serve`` on a free
loopback port and measures, with an httpx client:

  (a) a full GetCustomersByLastChange sync through ``resumekey`` pages,
      and the server's peak resident memory afterwards;
  (b) batches of 100 GetCustomerByID commands on random ids;
  (c) single-command CreateUpdateCustomerByCustomerNumber requests, half
      updates of existing customers and half creates.

It prints figures only; what they should be is in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BenchEnv, common_arguments, percentile, rate  # noqa: E402

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


def bench_sync(env: BenchEnv, client: Microbizz, since: str | None) -> None:
    command: dict[str, Any] = {"command": "GetCustomersByLastChange"}
    if since:
        command["changedate"] = since
    profiler = env.profiler()
    pages = records = 0
    page_seconds: list[float] = []
    cpu = env.server.cpu_seconds()
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
    total = time.perf_counter() - started
    cpu = env.server.cpu_seconds() - cpu
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
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    rng = random.Random(args.seed)
    with BenchEnv(args) as env:
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
