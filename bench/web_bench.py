"""Web pages benchmark: server time of every way to ask for a list page of 25.

    .venv/bin/python bench/web_bench.py [--customers 100000] [--database URL] [--repeat 10]
    .venv/bin/python bench/web_bench.py --compare ../before --compare . [--rounds 3]
    .venv/bin/python bench/web_bench.py --data /tmp/web-data ...   # load once, reuse on later runs

Loads a throwaway tenant with that many customers (``common.load_customers``)
and what a salesperson's other lists show beside them (:func:`load_lists`: a
contact per customer, and products, quotes, opportunities, tickets and
activities by the thousand), serves it with ``polycrm serve`` on a loopback
port, signs in to the web pages and times whole requests: ``/customers`` in the
default order and a far page, sorted by each sortable column both ways,
filtered by each filter, a filter with a sort, a search; the same of
``/contacts``, ``/products``, ``/quotes``, ``/opportunities`` and ``/tickets``;
``/activities`` in each of its views, the opportunity board, then ``/search``
and ``/``. ``--lists customers`` measures the customer list alone. Each figure is the median
of ``--repeat`` requests after one warm-up request (wall time of the request
over loopback), and the server process's CPU time over them divided by their number
(on PostgreSQL also its backends' CPU time, read from /proc: the server is on this machine).

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
import datetime as dt
import json
import os
import random
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

from sqlalchemy import select  # noqa: E402

from polycrm.core import lookups  # noqa: E402
from polycrm.core.models import Activity, Contact, Customer, Lookup, Opportunity, Product, Quote, Ticket  # noqa: E402
from polycrm.core.workspace import Workspace  # noqa: E402
from polycrm.store.engine import Database, normalise_url  # noqa: E402


def pages(meta: dict) -> list[tuple[str, str]]:
    """(label, path) of every page measured (``meta``: the loaded ids; labels need none)."""
    type_id, seller_id, today = meta.get("type_id", 0), meta.get("seller_id", 0), meta.get("today", "")
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
    ]
    if "lists" in meta.get("measure", ("lists",)):
        found += list_pages(meta)
    found += [
        ("/search?q=tømrer", "/search?q=t%C3%B8mrer"),
        ("/ (dashboard)", "/"),
    ]
    return found


# list -> (its sortable column keys, far page, [(label, query string) of its filters, a filter
# with a sort and a search]); ``{name}`` in a query is an id or date of ``meta``.
LIST_CASES: dict[str, tuple[tuple[str, ...], int, list[tuple[str, str]]]] = {
    "contacts": (("name", "customer", "jobtitle", "email"), 200, [
        ("f_city=aalborg", "f_city=aalborg"),
        ("f_created_from=<today>", "f_created_from={today}"),
        ("f_created_to=2000-01-01 (none)", "f_created_to=2000-01-01"),
        ("f_city + sort=-email", "f_city=aalborg&sort=-email"),
        ("q=hansen", "q=hansen"),
    ]),
    "products": (("number", "name", "group", "price"), 40, [
        ("f_group=<a group>", "f_group={group_id}"),
        ("f_status=active", "f_status=active"),
        ("f_status=inactive", "f_status=inactive"),
        ("f_group + sort=-price", "f_group={group_id}&sort=-price"),
        ("q=bolt", "q=bolt"),
    ]),
    "quotes": (("number", "title", "customer", "status", "seller", "placed", "price"), 100, [
        ("f_status=<a status>", "f_status={quote_status_id}"),
        ("f_seller=<a seller>", "f_seller={seller_id}"),
        ("f_placed_from=<a year ago>", "f_placed_from={year_ago}"),
        ("f_placed_to=<a year ago>", "f_placed_to={year_ago}"),
        ("f_status + sort=-price", "f_status={quote_status_id}&sort=-price"),
        ("q=service", "q=service"),
    ]),
    "opportunities": (("title", "customer", "stage", "status", "seller", "close", "value"), 100, [
        ("f_stage=<a stage>", "f_stage={stage_id}"),
        ("f_seller=<a seller>", "f_seller={seller_id}"),
        ("f_status=active", "f_status=active"),
        ("f_status=won", "f_status=won"),
        ("f_close_from=<today>", "f_close_from={today}"),
        ("f_close_to=<today>", "f_close_to={today}"),
        ("f_stage + sort=-value", "f_stage={stage_id}&sort=-value"),
        ("q=renewal", "q=renewal"),
    ]),
    "tickets": (("id", "title", "customer", "priority", "status", "owner", "due"), 100, [
        ("f_priority=<a priority>", "f_priority={priority_id}"),
        ("f_owner=<a seller>", "f_owner={seller_id}"),
        ("f_status=open", "f_status=open"),
        ("f_status=closed", "f_status=closed"),
        ("f_due_from=<today>", "f_due_from={today}"),
        ("f_due_to=<today>", "f_due_to={today}"),
        ("f_status=open + sort=priority", "f_status=open&sort=priority"),
        ("q=printer", "q=printer"),
    ]),
}


def list_pages(meta: dict) -> list[tuple[str, str]]:
    """The other lists' pages: default order and a far page, each sort both ways, each
    filter, a filter with a sort, a search; the activity views and the board."""
    values = {k: meta.get(k, 0) for k in ("seller_id", "group_id", "quote_status_id", "stage_id", "priority_id")}
    values.update(today=meta.get("today", ""), year_ago=meta.get("year_ago", ""))
    found = []
    for name, (sorts, far, cases) in LIST_CASES.items():
        url = f"/{name}"
        found += [(f"{url}", url), (f"{url}?page={far}", f"{url}?page={far}")]
        for key in sorts:
            found += [(f"{url} sort={key}", f"{url}?sort={key}"), (f"{url} sort=-{key}", f"{url}?sort=-{key}")]
        found += [(f"{url} {label}", f"{url}?{query.format(**values)}") for label, query in cases]
    found += [
        ("/activities (mine)", "/activities"),
        ("/activities?show=open", "/activities?show=open"),
        ("/activities?show=all", "/activities?show=all"),
        ("/activities?show=all&page=200", "/activities?show=all&page=200"),
        ("/activities?show=all&q=follow", "/activities?show=all&q=follow"),
        ("/opportunities/board", "/opportunities/board"),
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


class BackendCpu:
    """CPU time of the PostgreSQL backends serving one database (the server's
    connections), read from /proc: the database's share of a request, which the
    server process's own CPU time leaves out. Nothing on SQLite (in-process)."""

    def __init__(self, url: str):
        parsed = make_url(normalise_url(url))
        self.database = parsed.database
        self.admin = None if parsed.get_backend_name() == "sqlite" else create_engine(parsed.set(database="postgres"))

    def seconds(self) -> dict[int, float]:
        if self.admin is None:
            return {}
        with self.admin.connect() as conn:
            pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :db"),
                                {"db": self.database}).scalars().all()
        found = {}
        for pid in pids:
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return found

    def since(self, before: dict[int, float]) -> float:
        """Seconds used since ``before`` (a backend started since counts from 0)."""
        if self.admin is None:
            return float("nan")
        return sum(cpu - before.get(pid, 0.0) for pid, cpu in self.seconds().items())

    def close(self) -> None:
        if self.admin is not None:
            self.admin.dispose()


def measure(server: Server, meta: dict, repeat: int, url: str) -> dict[str, tuple[float, float, float]]:
    """label -> (median wall ms, mean server CPU ms, mean database backend CPU ms) of each page."""
    found = {}
    http = signed_in(server, meta)
    backends = BackendCpu(url)
    with contextlib.closing(http):
        for label, path in pages(meta):
            assert http.get(path).status_code == 200, path
            walls = []
            # The CPU time is counted in clock ticks (10 ms): over all the requests, not each.
            cpu, db = server.cpu_seconds(), backends.seconds()
            for _ in range(repeat):
                started = time.perf_counter()
                response = http.get(path)
                walls.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, path
            found[label] = (statistics.median(walls), (server.cpu_seconds() - cpu) * 1000 / repeat,
                            backends.since(db) * 1000 / repeat)
    backends.close()
    return found

# What a salesperson's other lists hold beside N customers (:func:`load_lists`).
OTHER_ROWS = {"products": 2_000, "quotes": 5_000, "opportunities": 5_000, "tickets": 5_000, "activities": 20_000}
_GIVEN = ("Anna", "Mette", "Lars", "Søren", "Jens", "Karen", "Peter", "Camilla", "Mikkel", "Louise", "Henrik", "Ida")
_FAMILY = ("Hansen", "Jensen", "Nielsen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen", "Rasmussen",
           "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen")
_JOBS = ("Indkøber", "Direktør", "Bogholder", "Tekniker", "Salgschef", "Projektleder", None)
_CITIES = ("København K", "Aarhus C", "Odense C", "Aalborg", "Esbjerg", "Vejle", "Randers C", "Kolding")
_PRODUCTS = ("Bolt M8", "Skrue 4x40", "Kabel 3x1.5", "Rør 22 mm", "Ventil", "Pumpe", "Filter", "Konsulenttime",
             "Servicebesøg", "Licens", "Montage", "Kørsel")
_QUOTES = ("Service agreement", "Installation", "Spare parts", "Annual maintenance", "Consulting", "Upgrade")
_OPPORTUNITIES = ("Renewal", "New site", "Expansion", "Framework deal", "Pilot", "Replacement")
_TICKETS = ("Printer offline", "Invoice question", "Delivery delayed", "Login fails", "Broken part", "Damaged goods")
_ACTIVITIES = ("Follow up on quote", "Intro meeting", "Call back", "Send brochure", "Site visit", "Check delivery")


def load_lists(db: Database, tenant_id: int, user_id: int, customers: int, *, seed: int) -> dict:
    """A contact per customer and :data:`OTHER_ROWS` of the other kinds, through the
    core's Workspace in chunks (as ``common.load_customers``); returns the ids the
    pages filter by."""
    rng = random.Random(seed + 1)
    today = dt.date.today()

    def day(spread: int, empty: float) -> dt.date | None:
        return None if rng.random() < empty else today + dt.timedelta(days=rng.randint(-spread, spread))

    with Workspace(db, tenant_id, user_id) as ws:
        customer_ids = list(ws.session.scalars(select(Customer.id).order_by(Customer.id)))
        seller_ids = list(ws.session.scalars(select(Customer.user_id).distinct()))
        groups = [Lookup(kind="product_group", name=f"Group {chr(65 + i)}", sortorder=i + 1) for i in range(8)]
        ws.add_all(groups)
        kinds = {kind: [x.id for x in lookups.items(ws, kind)]
                 for kind in ("unit", "quote_status", "stage", "priority", "activity_type", "product_group")}

    def chunked(label: str, n: int, make) -> None:
        started = time.perf_counter()
        for start in range(0, n, 5000):
            with Workspace(db, tenant_id, user_id) as ws:
                ws.add_all([make(i) for i in range(start, min(n, start + 5000))])
        print(f"  loaded {n:,} {label} ({time.perf_counter() - started:.1f} s)")

    def contact(i: int) -> Contact:
        given, family = rng.choice(_GIVEN), rng.choice(_FAMILY)
        return Contact(customer_id=customer_ids[i % len(customer_ids)], name=given, surname=family,
                       jobtitle=rng.choice(_JOBS), email=f"{given.lower()}.{i}@example.dk".replace("ø", "oe"),
                       phone=f"+45 {rng.randint(20000000, 99999999)}", city=rng.choice(_CITIES))

    chunked("contacts", customers, contact)
    chunked("products", OTHER_ROWS["products"], lambda i: Product(
        number=str(100 + i), name=f"{rng.choice(_PRODUCTS)} {i}", group_id=rng.choice(kinds["product_group"]),
        unit_id=rng.choice(kinds["unit"]), price=rng.randint(10, 20000), active=rng.random() > 0.1))
    chunked("quotes", OTHER_ROWS["quotes"], lambda i: Quote(
        number=str(1000 + i), title=f"{rng.choice(_QUOTES)} {today.year - rng.randint(0, 2)}",
        customer_id=rng.choice(customer_ids), user_id=rng.choice(seller_ids), status_id=rng.choice(kinds["quote_status"]),
        placedate=day(540, 0.05), price=rng.randint(500, 500000), currencycode="DKK"))

    def opportunity(i: int) -> Opportunity:
        status = rng.choices(("active", "pending", "won", "lost"), (50, 10, 20, 20))[0]
        return Opportunity(title=f"{rng.choice(_OPPORTUNITIES)} {i}", customer_id=rng.choice(customer_ids),
                           user_id=rng.choice(seller_ids), stage_id=rng.choice(kinds["stage"]), status=status,
                           closed=status in ("won", "lost"), estimated_end=day(365, 0.1),
                           value=rng.randint(1000, 1000000))

    chunked("opportunities", OTHER_ROWS["opportunities"], opportunity)
    chunked("tickets", OTHER_ROWS["tickets"], lambda i: Ticket(
        title=rng.choice(_TICKETS), customer_id=rng.choice(customer_ids), user_id=rng.choice(seller_ids),
        priority_id=rng.choice(kinds["priority"]), status="open" if rng.random() < 0.4 else "closed",
        estimated_end=day(60, 0.3)))
    chunked("activities", OTHER_ROWS["activities"], lambda i: Activity(
        type_id=rng.choice(kinds["activity_type"]), customer_id=rng.choice(customer_ids),
        user_id=rng.choice([user_id, *seller_ids]), description=rng.choice(_ACTIVITIES), date=day(365, 0.05),
        closed=rng.random() < 0.6))
    return {"group_id": kinds["product_group"][1], "quote_status_id": kinds["quote_status"][0],
            "stage_id": kinds["stage"][0], "priority_id": kinds["priority"][0],
            "year_ago": (today - dt.timedelta(days=365)).isoformat(), "lists_loaded": True}


def prepare(args: argparse.Namespace, data_dir: Path, first: Path) -> dict:
    """Load the customers into a database made by the first checkout's schema (or reuse
    ``--data``'s); return what the measuring needs."""
    meta_file = data_dir / "bench.json"
    if meta_file.exists():
        meta = json.loads(meta_file.read_text())
        print(f"reusing {meta['customers']:,} customers in {meta['url']}")
        if args.lists == "all" and not meta.get("lists_loaded"):
            meta.update(load_other_lists(meta))
            meta_file.write_text(json.dumps(meta))
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
            "type_id": type_id, "seller_id": data.seller_ids[1], "today": time.strftime("%Y-%m-%d"),
            "tenant_id": data.credentials["tenant_id"], "user_id": data.credentials["user_id"]}
    if args.lists == "all":
        meta.update(load_other_lists(meta))
    meta_file.write_text(json.dumps(meta))
    return meta


def load_other_lists(meta: dict) -> dict:
    """:func:`load_lists` into the database of ``meta`` (settled again on PostgreSQL)."""
    db = Database(meta["url"])
    try:
        tenant_id, user_id = meta.get("tenant_id"), meta.get("user_id")
        if tenant_id is None:  # data loaded before the ids were kept
            with db.engine.connect() as conn:
                tenant_id = conn.execute(text("SELECT id FROM tenant WHERE name = :n"), {"n": meta["tenant"]}).scalar()
                user_id = conn.execute(text("SELECT id FROM app_user WHERE tenant_id = :t AND username = :u"),
                                       {"t": tenant_id, "u": meta["login"]}).scalar()
        print(f"loading the other lists beside {meta['customers']:,} customers ...")
        found = load_lists(db, tenant_id, user_id, meta["customers"], seed=1)
        if not db.is_sqlite:
            settle(db)
        return {**found, "tenant_id": tenant_id, "user_id": user_id}
    finally:
        db.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common_arguments(parser)
    parser.add_argument("--repeat", type=int, default=10, help="requests per figure (default %(default)s)")
    parser.add_argument("--compare", metavar="DIR", action="append", default=[],
                        help="a checkout to serve in turn (repeatable; the first is the base of the ratios)")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds (default %(default)s)")
    parser.add_argument("--data", type=Path, help="keep the loaded database in this folder and reuse it next time")
    parser.add_argument("--lists", choices=("all", "customers"), default="all",
                        help="measure every list page (default) or the customer list's alone")
    args = parser.parse_args(argv)
    checkouts = [Path(p).resolve() for p in args.compare] or [REPO]

    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data or Path(tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        meta = prepare(args, data_dir, checkouts[0])
        meta["measure"] = ("customers", "lists") if args.lists == "all" else ("customers",)
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
                        results[path].append(measure(server, meta, args.repeat, copies[n]))
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
    backend = make_url(normalise_url(meta["url"])).get_backend_name()
    pg = backend != "sqlite"
    print(f"\n{meta['customers']:,} customers ({backend}), /customers unless named; median wall, mean server CPU"
          + (" and mean CPU of its PostgreSQL backends (db)" if pg else "")
          + f" of {args.repeat} requests, median over {rounds} round(s) (ms)")
    width = 44
    head = f"{'page':{width}}" + "".join(f" {p.name[:12]:>12} wall {'cpu':>5}" + (f" {'db':>5}" if pg else "")
                                         for p in checkouts)
    if len(checkouts) > 1:
        head += "".join(f" {'x wall':>7} {'x cpu':>6}" for _ in checkouts[1:])
    print(head)
    measured = results[first][0] if results[first] else {}
    # The ratio of CPU is of the server's and (PostgreSQL) its backends' together.
    def total(r: tuple) -> float:
        return r[1] + (r[2] if pg else 0.0)

    for label, _ in pages(meta):
        if label not in measured:
            continue
        line = f"{label:{width}}"
        for path in checkouts:
            wall = statistics.median(r[label][0] for r in results[path])
            cpu = statistics.median(r[label][1] for r in results[path])
            line += f" {wall:17.1f} {cpu:5.0f}"
            if pg:
                line += f" {statistics.median(r[label][2] for r in results[path]):5.0f}"
        for path in checkouts[1:]:
            pairs = list(zip(results[first], results[path]))
            x_wall = statistics.median(b[label][0] / max(a[label][0], 1e-9) for a, b in pairs)
            x_cpu = statistics.median(total(b[label]) / max(total(a[label]), 1e-9) for a, b in pairs)
            line += f" {x_wall:7.2f} {x_cpu:6.2f}"
        print(line)

if __name__ == "__main__":
    main()
