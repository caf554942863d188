"""Web pages benchmark: server time of every way to ask for a customer list page of 25.

    .venv/bin/python bench/web_bench.py [--customers 100000] [--database URL] [--repeat 10]
    .venv/bin/python bench/web_bench.py --compare ../before --compare . [--rounds 3]
    .venv/bin/python bench/web_bench.py --data /tmp/web-data ...   # load once, reuse on later runs

Loads a throwaway tenant with that many customers (``common.load_customers``),
serves it with ``polycrm serve`` on a loopback port, signs in to the web pages
and times whole requests: ``/customers`` in the default order and a far page,
sorted by each sortable column both ways, filtered by each filter, a filter
with a sort, a search; then ``/search`` and ``/``. Each figure is the median
of ``--repeat`` requests after one warm-up request (wall time of the request
over loopback), and the server process's CPU time over them divided by their number.

``--compare DIR`` (repeatable): each checkout serves in turn over the same
data, ``--rounds`` times, alternating, so that the machine's load falls on each
alike. The first checkout's ``polycrm db upgrade`` makes the schema the data is
loaded into; every checkout then gets its own copy of that database, brought to
its own newest schema by its own ``db upgrade`` (so a checkout's new indexes are
not lent to the one before). Ratios are the median of per-round ratios against
the first checkout. It prints figures only; docs/web.md says what they should be.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import REPO, Server, common_arguments, load_customers, machine, settle, throwaway_database  # noqa: E402

from polycrm.core import lookups  # noqa: E402
from polycrm.core.workspace import Workspace  # noqa: E402
from polycrm.store.engine import Database, normalise_url  # noqa: E402


def pages(type_id: int, seller_id: int, today: str) -> list[tuple[str, str]]:
    """(label, path) of every page measured."""
    found = [("default order, page 1", "/customers"), ("default order, page 200", "/customers?page=200")]
    for key in ("number", "name", "type", "city", "email", "owner", "created"):
        found += [(f"sort={key}", f"/customers?sort={key}"), (f"sort=-{key}", f"/customers?sort=-{key}")]
    found += [
        ("f_type=<first type>", f"/customers?f_type={type_id}"),
        ("f_owner=<a seller>", f"/customers?f_owner={seller_id}"),
        ("f_city=aalborg", "/customers?f_city=aalborg"),
        ("f_status=active", "/customers?f_status=active"),
        ("f_status=closed", "/customers?f_status=closed"),
        ("f_status=prospect", "/customers?f_status=prospect"),
        ("f_created_from=<today>", f"/customers?f_created_from={today}"),
        ("f_created_to=2000-01-01 (none)", "/customers?f_created_to=2000-01-01"),
        ("f_type + f_city + sort=-owner", f"/customers?f_type={type_id}&f_city=aalborg&sort=-owner"),
        ("f_status=prospect, page 100", "/customers?f_status=prospect&page=100"),
        ("q=vestergade aarhus", "/customers?q=vestergade+aarhus"),
        ("/search?q=tømrer", "/search?q=t%C3%B8mrer"),
        ("/ (dashboard)", "/"),
    ]
    return found


def run_cli(repo: Path, *args: str) -> None:
    """``polycrm <args>`` with the code of checkout ``repo``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")]))}
    subprocess.run([sys.executable, "-c", "from polycrm.cli import main; main()", *args], check=True, env=env,
                   cwd=repo, stdout=subprocess.DEVNULL)


def copy_database(url: str, name: str, data_dir: Path) -> str:
    """A copy of the database at ``url`` (a file copy, or a PostgreSQL template copy)."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        target = data_dir / f"{name}.sqlite3"
        shutil.copyfile(parsed.database, target)
        return f"sqlite:///{target}"
    copy = f"{parsed.database}_{name}"[:63]
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{copy}" TEMPLATE "{parsed.database}"'))
    admin.dispose()
    return parsed.set(database=copy).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.database + suffix).unlink(missing_ok=True)
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def signed_in(server: Server, meta: dict) -> httpx.Client:
    http = httpx.Client(base_url=server.url, timeout=300.0, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/signin").text).group(1)
    signed = http.post("/signin", data={"csrf_token": token, "tenant": meta["tenant"], "login": meta["login"],
                                        "password": meta["password"]})
    assert signed.status_code == 303, signed.text
    return http


def measure(server: Server, meta: dict, repeat: int) -> dict[str, tuple[float, float]]:
    """label -> (median wall ms, median server CPU ms) of each page."""
    found = {}
    http = signed_in(server, meta)
    with contextlib.closing(http):
        for label, path in pages(meta["type_id"], meta["seller_id"], meta["today"]):
            assert http.get(path).status_code == 200, path
            walls = []
            # The CPU time is counted in clock ticks (10 ms): over all the requests, not each.
            cpu = server.cpu_seconds()
            for _ in range(repeat):
                started = time.perf_counter()
                response = http.get(path)
                walls.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, path
            found[label] = (statistics.median(walls), (server.cpu_seconds() - cpu) * 1000 / repeat)
    return found


def prepare(args: argparse.Namespace, data_dir: Path, first: Path) -> dict:
    """Load the customers into a database made by the first checkout's schema (or reuse
    ``--data``'s); return what the measuring needs."""
    meta_file = data_dir / "bench.json"
    if meta_file.exists():
        meta = json.loads(meta_file.read_text())
        print(f"reusing {meta['customers']:,} customers in {meta['url']}")
        return meta
    with throwaway_database(args.database, data_dir, keep=True) as url:
        pass
    run_cli(first, "db", "upgrade", "--database", url)
    db = Database(url)
    print(f"loading {args.customers:,} customers ...")
    data = load_customers(db, args.customers, seed=args.seed)
    if not db.is_sqlite:
        settle(db)
    with Workspace(db, data.credentials["tenant_id"], data.credentials["user_id"]) as ws:
        type_id = lookups.items(ws, "customer_type")[0].id
    db.dispose()
    meta = {"url": url, "customers": args.customers, "tenant": data.credentials["tenant"],
            "login": data.credentials["microbizz"]["username"], "password": data.credentials["microbizz"]["password"],
            "type_id": type_id, "seller_id": data.seller_ids[1], "today": time.strftime("%Y-%m-%d")}
    meta_file.write_text(json.dumps(meta))
    return meta


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common_arguments(parser)
    parser.add_argument("--repeat", type=int, default=10, help="requests per figure (default %(default)s)")
    parser.add_argument("--compare", metavar="DIR", action="append", default=[],
                        help="a checkout to serve in turn (repeatable; the first is the base of the ratios)")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds (default %(default)s)")
    parser.add_argument("--data", type=Path, help="keep the loaded database in this folder and reuse it next time")
    args = parser.parse_args(argv)
    checkouts = [Path(p).resolve() for p in args.compare] or [REPO]

    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data or Path(tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        meta = prepare(args, data_dir, checkouts[0])
        copies = []
        for n, path in enumerate(checkouts):
            url = copy_database(meta["url"], f"c{n}", data_dir)
            run_cli(path, "db", "upgrade", "--database", url)
            copies.append(url)
        results: dict[Path, list[dict[str, tuple[float, float]]]] = {path: [] for path in checkouts}
        try:
            for round_no in range(args.rounds):
                for n, path in enumerate(checkouts):
                    server_dir = data_dir / f"server{n}"
                    server_dir.mkdir(exist_ok=True)
                    server = Server(copies[n], server_dir, repo=path)
                    try:
                        results[path].append(measure(server, meta, args.repeat))
                    finally:
                        server.stop()
                    print(f"  round {round_no + 1} {path}: done (load {os.getloadavg()[0]:.1f})", flush=True)
                if round_no + 1 < args.rounds:
                    # So far, in case a long run on a busy machine is cut short.
                    report(meta, checkouts, results, args, rounds=round_no + 1)
        finally:
            for url in copies:
                drop_database(url)
            if not args.data and not args.keep:
                drop_database(meta["url"])
        report(meta, checkouts, results, args)


def report(meta: dict, checkouts: list[Path], results: dict, args: argparse.Namespace,
           rounds: int | None = None) -> None:
    first = checkouts[0]
    rounds = rounds or args.rounds
    print(f"\n{meta['customers']:,} customers ({make_url(normalise_url(meta['url'])).get_backend_name()}), "
          f"/customers unless named; median wall and mean CPU of {args.repeat} requests, median over {rounds} round(s) (ms)")
    head = f"{'page':34}" + "".join(f" {p.name[:12]:>12} wall {'cpu':>5}" for p in checkouts)
    if len(checkouts) > 1:
        head += "".join(f" {'x wall':>7} {'x cpu':>6}" for _ in checkouts[1:])
    print(head)
    for label, _ in pages(0, 0, ""):
        line = f"{label:34}"
        for path in checkouts:
            wall = statistics.median(r[label][0] for r in results[path])
            cpu = statistics.median(r[label][1] for r in results[path])
            line += f" {wall:17.1f} {cpu:5.0f}"
        for path in checkouts[1:]:
            ratios = [statistics.median(b[label][i] / max(a[label][i], 1e-9)
                                        for a, b in zip(results[first], results[path])) for i in (0, 1)]
            line += f" {ratios[0]:7.2f} {ratios[1]:6.2f}"
        print(line)


if __name__ == "__main__":
    main()
