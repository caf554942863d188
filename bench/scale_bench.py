"""The same reads at a small and a large customer count ("fast at every size", issue 12).

    .venv/bin/python bench/scale_bench.py --sqlite SMALL.db LARGE.db --postgres SMALL_URL LARGE_URL \\
        [--tenant bench] [--rounds 3] [--repeat 5] [--skip sync_full]

Each pair is two databases of one backend holding the same tenant with
different numbers of customers, made beforehand with ``polycrm load`` of
``bench/scale_data.py``'s files (``python bench/scale_data.py DIR 10000
1000000`` writes them; ``polycrm tenant create bench`` then ``polycrm load
--tenant bench --entity customers FILE``). Both are migrated first. The bench
gives the tenant's admin a Cirrus X-Token and a Microbizz API key (fixed
values, added once) and calls the app of this checkout in-process through
Starlette's TestClient (no sockets; the request journal is off, so nothing
is written):

- Cirrus ``GET /accounts/``: the first page of 50 (default order, with its
  total), a name prefix (``name=Berg%``), ``fulltext`` with a long term
  (``konsult``), a two-character term (``xp``) and a one-character term
  (``q``), and ``nearto`` (50 km around Jönköping, nearest first);
- Microbizz ``GetCustomersByLastChange``: the first resumekey page (1,000
  customers), and at the small size the whole sync (per customer).

Rounds alternate the small and the large database, so both see the same
machine load. Per operation it prints the median wall and CPU (``time.
process_time``: the app runs in a thread of this process) of ``--repeat``
calls per round over all rounds, the rows the answer counted, and the ratio
large / small. It prints figures only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import orjson

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine  # noqa: E402

from starlette.testclient import TestClient  # noqa: E402

from polycrm.app import create_app  # noqa: E402
from polycrm.config import Settings  # noqa: E402
from polycrm.core import auth, tenants  # noqa: E402
from polycrm.core.models import Tenant  # noqa: E402
from polycrm.store.engine import Database  # noqa: E402

X_TOKEN = "scale-bench-x-token"
MICROBIZZ_KEY = "scale-bench-microbizz-key"
ENDPOINT = "/api/endpoint.php"
CIRRUS_LISTS = {
    "cirrus list, first page of 50": {"per_page": 50},
    "cirrus name=Berg%": {"name": "Berg%", "per_page": 50},
    "cirrus fulltext=konsult": {"fulltext": "konsult", "per_page": 50},
    "cirrus fulltext=xp (2 chars)": {"fulltext": "xp", "per_page": 50},
    "cirrus fulltext=q (1 char)": {"fulltext": "q", "per_page": 50},
    "cirrus nearto 50 km": {"nearto": "57.7826,14.1618", "distance": 50, "per_page": 50},
}


class Side:
    """One database of a pair: its app, credentials and what the tenant holds."""

    def __init__(self, url: str, tenant: str, data_dir: Path):
        if "://" not in url:
            url = f"sqlite:///{Path(url).resolve()}"
        self.url = url
        self.db = Database(url)
        self.db.upgrade()
        self.db.dispose()
        self.db = Database(url)  # a fresh pool notices index tables the upgrade made
        found = tenants.find(self.db, tenant)
        if found is None:
            raise SystemExit(f"{url}: no tenant {tenant!r}")
        self.contract = self._credentials(found.id)
        settings = Settings(data_dir=data_dir, database_url=url, journal_size=0)
        self.client = TestClient(create_app(settings, self.db))
        self.client.__enter__()
        self.customers = self.cirrus({"per_page": 1})["total"]

    def _credentials(self, tenant_id: int) -> int:
        with auth.system_session(self.db, write=True) as session, session.begin():
            tenant = session.get(Tenant, tenant_id)
            admin = auth.first_admin_id(session, tenant_id)
            for kind, secret in ((auth.CIRRUS_XTOKEN, X_TOKEN), (auth.MICROBIZZ_APIKEY, MICROBIZZ_KEY)):
                cred = auth.find_credential(session, kind, secret)
                if cred is None:
                    auth.add_credential(session, tenant_id, admin, kind, secret)
                elif cred.tenant_id != tenant_id:
                    raise SystemExit(f"{self.url}: the bench's credential belongs to another tenant")
            return tenant.contract

    def cirrus(self, params: dict[str, Any]) -> dict[str, Any]:
        r = self.client.get("/cirrus/accounts/", params=params, headers={"X-Token": X_TOKEN})
        if r.status_code != 200:
            raise RuntimeError(f"{params}: {r.status_code} {r.text[:300]}")
        return orjson.loads(r.content)

    def microbizz(self, command: dict[str, Any]) -> dict[str, Any]:
        envelope = {"contract": self.contract, "accesstoken": MICROBIZZ_KEY, "commands": [command]}
        r = self.client.post(ENDPOINT, data={"json": orjson.dumps(envelope).decode()})
        body = orjson.loads(r.content)
        if r.status_code != 200 or body.get("status") != 1 or body["results"][0].get("status") != 1:
            raise RuntimeError(f"{command}: {r.status_code} {r.text[:300]}")
        return body["results"][0]

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        self.db.dispose()


def operations(skip: set[str]) -> dict[str, Callable[[Side], int]]:
    """Label -> a call that returns how many rows its answer counted."""
    ops: dict[str, Callable[[Side], int]] = {}
    for label, params in CIRRUS_LISTS.items():
        ops[label] = lambda side, params=params: side.cirrus(params)["total"]
    ops["microbizz sync, first page"] = lambda side: len(
        side.microbizz({"command": "GetCustomersByLastChange", "changedate": "2000-01-01"})["customers"])
    if "sync_full" not in skip:
        ops["microbizz sync, all pages (small only), per 1,000"] = full_sync
    return {k: v for k, v in ops.items() if k.split(",")[0] not in skip}


def full_sync(side: Side) -> int:
    command: dict[str, Any] = {"command": "GetCustomersByLastChange", "changedate": "2000-01-01"}
    total = 0
    while True:
        result = side.microbizz(command)
        total += len(result["customers"])
        if not result.get("resumekey") or not result["customers"]:
            return total
        command = {"command": "GetCustomersByLastChange", "resumekey": result["resumekey"]}


def measure(pair: str, small: Side, large: Side, ops: dict[str, Callable[[Side], int]],
            rounds: int, repeat: int) -> None:
    print(f"\n{pair}: {small.customers:,} and {large.customers:,} customers")
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    counted: dict[tuple[str, str], int] = {}
    for op, call in ops.items():
        for side in (small, large):  # warm up (caches, compiled statements)
            if "small only" in op and side is large:
                continue
            counted[op, side.url] = call(side)
    for _ in range(rounds):
        for op, call in ops.items():
            for side in (small, large):
                if "small only" in op and side is large:
                    continue
                n = 1 if "all pages" in op else repeat
                for _ in range(n):
                    cpu, wall = time.process_time(), time.perf_counter()
                    call(side)
                    times.setdefault((op, side.url), []).append(
                        (time.perf_counter() - wall, time.process_time() - cpu))
    print(f"| operation | rows found (small / large) | small wall / CPU ms | large wall / CPU ms "
          f"| ratio wall / CPU |")
    print("|---|---|---|---|---|")
    for op in ops:
        cells = []
        medians = []
        for side in (small, large):
            got = times.get((op, side.url))
            if not got:
                cells.append("-")
                continue
            wall = statistics.median(t[0] for t in got) * 1000
            cpu = statistics.median(t[1] for t in got) * 1000
            if "all pages" in op:  # per 1,000 customers, comparable with a page of the large side
                per = counted[op, side.url] / 1000
                wall, cpu = wall / per, cpu / per
            medians.append((wall, cpu))
            cells.append(f"{wall:.1f} / {cpu:.1f}")
        ratio = "-"
        if len(medians) == 2:
            ratio = f"{medians[1][0] / medians[0][0]:.2f} / {medians[1][1] / medians[0][1]:.2f}"
        rows = " / ".join(f"{counted[op, s.url]:,}" for s in (small, large) if (op, s.url) in counted)
        print(f"| {op} | {rows} | {cells[0]} | {cells[1]} | {ratio} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite", nargs=2, metavar=("SMALL", "LARGE"), help="two SQLite files (or URLs)")
    parser.add_argument("--postgres", nargs=2, metavar=("SMALL", "LARGE"), help="two PostgreSQL URLs")
    parser.add_argument("--tenant", default="bench")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5, help="calls of each operation per round and side")
    parser.add_argument("--skip", default="", help="comma-separated: cirrus, microbizz sync, sync_full")
    args = parser.parse_args()
    if not (args.sqlite or args.postgres):
        parser.error("give --sqlite and/or --postgres")
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    print(machine())
    ops = operations(skip)
    with tempfile.TemporaryDirectory(prefix="polycrm-scale-") as tmp:
        for pair, urls in (("SQLite", args.sqlite), ("PostgreSQL", args.postgres)):
            if not urls:
                continue
            small = Side(urls[0], args.tenant, Path(tmp) / f"{pair}-small")
            large = Side(urls[1], args.tenant, Path(tmp) / f"{pair}-large")
            try:
                measure(pair, small, large, ops, args.rounds, args.repeat)
            finally:
                small.close()
                large.close()


if __name__ == "__main__":
    main()
