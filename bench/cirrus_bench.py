"""Cirrus 2 API benchmark over real HTTP.

    .venv/bin/python bench/cirrus_bench.py [--counts 10000,100000] [--database URL]

For each count, loads a throwaway tenant with that many accounts (customers:
Danish names, streets and towns, coordinates scattered around twelve towns),
starts ``polycrm serve`` on a free loopback port and measures, with an httpx
client sending the tenant's ``X-Token``:

  (a) ``GET /cirrus/accounts/{id}`` on random ids;
  (b) ``GET /cirrus/accounts/?fulltext=<term>&per_page=50`` for selective and
      less selective terms (plus the unfiltered list as a baseline, in the
      default order, ``sorting=name_asc``, and by number);
  (c) ``GET /cirrus/accounts/?nearto=lat,lng&distance=10&per_page=50`` around
      a dense, a medium and an empty spot.

On PostgreSQL the database is vacuumed and analysed after loading: the state
autovacuum brings it to shortly after a bulk load (see ``common.settle``).
With more than one count it ends with the ratio of each figure between the
largest and the smallest count. It prints figures only; what they should be
is in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BenchEnv, common_arguments, percentile, rate  # noqa: E402

PREFIX = "/cirrus"

# (label, fulltext). Fixed terms, so every count runs the same queries. Account
# numbers run from 10001 up, so 14322 exists at every count of 10,000 or more.
FULLTEXT = (
    ("number 14322 (1-2 hits)", "14322"),
    ("3 words (~0.03 %)", "fjord logistik horsens"),
    ("2 words (~0.6 %)", "vestergade aarhus"),
    ("town (~8 %)", "aalborg"),
    ("trade, Danish letter (~7 %)", "tømrer"),
    ("no match", "zqxjv"),
    ("2-letter term (~7 %)", "vv"),
)
# (label, lat, lng): the middle of a town (dense), between two towns (medium),
# and a spot no account is near (empty).
NEARTO = (
    ("København K (dense)", 55.6786, 12.5635),
    ("Fredericia (between Vejle and Kolding)", 55.5657, 9.7526),
    ("Silkeborg (none near)", 56.1697, 9.5451),
)


class Cirrus:
    """A minimal Cirrus 2 client: ``X-Token`` header, JSON answers."""

    def __init__(self, http, credentials: dict) -> None:
        self.http = http
        self.headers = {"X-Token": credentials["cirrus"]["x_token"]}

    def get(self, path: str, params: dict | None = None) -> dict:
        response = self.http.get(PREFIX + path, params=params, headers=self.headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} {params}: {response.status_code} {response.text[:300]}")
        return orjson.loads(response.content)


@dataclass
class Figure:
    """One measured request kind: latencies and the server CPU they cost."""

    label: str
    seconds: list[float]
    cpu: float
    total: int | None = None  # the list's ``total`` (matches), where there is one

    @property
    def median_ms(self) -> float:
        return percentile(self.seconds, 50) * 1000

    @property
    def p95_ms(self) -> float:
        return percentile(self.seconds, 95) * 1000

    @property
    def cpu_ms(self) -> float:
        return self.cpu / len(self.seconds) * 1000

    def line(self) -> str:
        matches = f"{self.total:>7,} matches, " if self.total is not None else ""
        return (f"    {self.label:<44} {matches}median {self.median_ms:6.1f} ms, p95 {self.p95_ms:6.1f} ms "
                f"(server CPU {self.cpu_ms:5.1f} ms a request)")


def timed(env: BenchEnv, label: str, repeat: int, call) -> Figure:
    call()  # once untimed: the first run warms caches (and the plan) for this query
    seconds: list[float] = []
    total = None
    cpu = env.server.cpu_seconds()
    for _ in range(repeat):
        t0 = time.perf_counter()
        body = call()
        seconds.append(time.perf_counter() - t0)
        if isinstance(body, dict) and "total" in body:
            total = body["total"]
    return Figure(label, seconds, env.server.cpu_seconds() - cpu, total)


def bench_get_by_id(env: BenchEnv, client: Cirrus, requests: int, rng: random.Random) -> Figure:
    ids = env.data.customer_ids
    picks = [rng.choice(ids) for _ in range(requests)]
    client.get(f"/accounts/{picks[0]}")
    seconds: list[float] = []
    cpu = env.server.cpu_seconds()
    started = time.perf_counter()
    for id_ in picks:
        t0 = time.perf_counter()
        client.get(f"/accounts/{id_}")
        seconds.append(time.perf_counter() - t0)
    total = time.perf_counter() - started
    figure = Figure("GET /accounts/{id}", seconds, env.server.cpu_seconds() - cpu)
    print(f"(a) GET {PREFIX}/accounts/{{id}}, {requests} requests on random ids:")
    print(f"    {total:.2f} s: {rate(requests, total)} requests/s (median {figure.median_ms:.1f} ms, "
          f"p95 {figure.p95_ms:.1f} ms; server CPU {figure.cpu_ms:.1f} ms a request)")
    return figure


def bench_fulltext(env: BenchEnv, client: Cirrus, repeat: int) -> list[Figure]:
    print(f"(b) GET {PREFIX}/accounts/?fulltext=...&per_page=50, {repeat} requests each:")
    # Baselines without fulltext: the default order (sorting=name_asc) and one no index serves.
    figures = [
        timed(env, "no filter (baseline)", repeat, lambda: client.get("/accounts/", {"per_page": 50})),
        timed(env, "no filter, sorting=number_asc", repeat,
              lambda: client.get("/accounts/", {"per_page": 50, "sorting": "number_asc"})),
    ]
    print(figures[0].line())
    print(figures[1].line())
    for label, term in FULLTEXT:
        figure = timed(env, f"{term!r}: {label}", repeat,
                       lambda term=term: client.get("/accounts/", {"fulltext": term, "per_page": 50}))
        print(figure.line())
        figures.append(figure)
    return figures


def bench_nearto(env: BenchEnv, client: Cirrus, repeat: int, distance: float) -> list[Figure]:
    print(f"(c) GET {PREFIX}/accounts/?nearto=lat,lng&distance={distance:g}&per_page=50, {repeat} requests each:")
    figures = []
    for label, lat, lng in NEARTO:
        params = {"nearto": f"{lat},{lng}", "distance": f"{distance:g}", "per_page": 50}
        figure = timed(env, label, repeat, lambda params=params: client.get("/accounts/", params))
        print(figure.line())
        figures.append(figure)
    return figures


def run(args: argparse.Namespace, count: int) -> list[Figure]:
    rng = random.Random(args.seed)
    print(f"== {count:,} accounts ==")
    with BenchEnv(args, customers=count, settle=True) as env:
        client = Cirrus(env.http, env.data.credentials)
        client.get("/accounts/accounttypes")  # warm up: authentication, imports, pools
        figures: list[Figure] = []
        profiler = env.profiler()  # --py-spy: the whole measurement
        if "get" not in args.skip:
            figures.append(bench_get_by_id(env, client, args.requests, rng))
        if "fulltext" not in args.skip:
            figures += bench_fulltext(env, client, args.repeat)
        if "nearto" not in args.skip:
            figures += bench_nearto(env, client, args.repeat, args.distance)
        profiler.stop()
        memory = env.server.memory_mb()
        print(f"server memory: peak {memory.get('VmHWM', 0):.0f} MB, now {memory.get('VmRSS', 0):.0f} MB")
    print()
    return figures


def compare(counts: list[int], results: dict[int, list[Figure]]) -> None:
    small, large = min(counts), max(counts)
    print(f"== {large:,} vs {small:,} accounts: median latency (ratio) ==")
    for before, after in zip(results[small], results[large]):
        ratio = after.median_ms / before.median_ms if before.median_ms else float("nan")
        cpu_ratio = after.cpu_ms / before.cpu_ms if before.cpu_ms else float("nan")
        print(f"    {before.label:<44} {before.median_ms:7.1f} -> {after.median_ms:7.1f} ms  x{ratio:5.2f} "
              f"(server CPU {before.cpu_ms:6.1f} -> {after.cpu_ms:6.1f} ms  x{cpu_ratio:5.2f})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common_arguments(parser, customers=None)
    parser.add_argument("--counts", default="10000,100000",
                        help="comma-separated account counts, one run each (default %(default)s)")
    parser.add_argument("--count", type=int, help="one run with this many accounts (instead of --counts)")
    parser.add_argument("--requests", type=int, default=500, help="GET /accounts/{id} requests (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=20, help="requests per list query (default %(default)s)")
    parser.add_argument("--distance", type=float, default=10.0, help="nearto distance in km (default %(default)s)")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: get,fulltext,nearto")
    args = parser.parse_args(argv)
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    counts = [args.count] if args.count else [int(c.replace("_", "")) for c in args.counts.split(",") if c.strip()]
    if args.py_spy and len(counts) > 1:
        parser.error("--py-spy records one run: give --count")
    results = {count: run(args, count) for count in counts}
    if len(results) > 1:
        compare(counts, results)


if __name__ == "__main__":
    main()
