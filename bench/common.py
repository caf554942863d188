"""What every polycrm benchmark needs: a throwaway database, a tenant full of
customers, a real server on a loopback port and a few measuring helpers.

The API-specific scripts (``microbizz_bench.py``, ``cirrus_bench.py``) build on
:class:`BenchEnv`; they measure over real HTTP so the figures include
parsing, routing and serialisation, not just the core.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from polycrm.core import lookups, tenants  # noqa: E402
from polycrm.core.models import Customer, User  # noqa: E402
from polycrm.core.workspace import Workspace  # noqa: E402
from polycrm.store.engine import Database, normalise_url  # noqa: E402

LOAD_CHUNK = 5000


def common_arguments(parser: argparse.ArgumentParser, *, customers: int | None = 100_000) -> None:
    """The options every benchmark takes; ``customers=None`` leaves ``--customers`` out
    (for a script that sets the count per run, see :class:`BenchEnv`)."""
    if customers is not None:
        parser.add_argument("--customers", type=int, default=customers, help="customers to load (default %(default)s)")
    parser.add_argument(
        "--database",
        metavar="URL",
        help="a PostgreSQL server URL; a throwaway database is created on it and dropped afterwards "
        "(default: a throwaway SQLite file)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the data and the id picks")
    parser.add_argument("--keep", action="store_true", help="keep the data folder (and PostgreSQL database)")
    parser.add_argument(
        "--py-spy",
        metavar="FILE",
        help="record the server with py-spy during the first measurement and write a flame graph "
        "(SVG; .txt gives collapsed stacks) to FILE",
    )


def data_folder_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the in-process read benchmarks, which run on a data folder made
    beforehand (``polycrm load``) with a Cirrus X-Token of its tenant."""
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--requests", type=int, default=300, help="gets by id")
    parser.add_argument("--lists", type=int, default=30, help="requests per list kind")


def data_folder_runtime(data_dir: Path):
    """The runtime of this checkout on the SQLite database of a data folder."""
    from polycrm.config import Settings
    from polycrm.runtime import Runtime

    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'polycrm.sqlite3'}")
    return Runtime.from_settings(settings)


def machine() -> str:
    """One line naming the machine the figures come from."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        mem = f", {kb / 1024 / 1024:.1f} GB RAM"
    return f"{os.cpu_count()} cores ({cpu}){mem}; Python {platform.python_version()}; {platform.system()} {platform.release()}"


# -- database --------------------------------------------------------------------

@contextlib.contextmanager
def throwaway_database(server_url: str | None, data_dir: Path, keep: bool) -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file in ``data_dir`` or a new
    database on the given PostgreSQL server (dropped afterwards)."""
    if not server_url:
        yield f"sqlite:///{data_dir / 'polycrm.sqlite3'}"
        return
    parsed = make_url(normalise_url(server_url))
    # POLYCRM_BENCH_DB_PREFIX: on a shared server, the names one user may create.
    name = f"{os.environ.get('POLYCRM_BENCH_DB_PREFIX', 'polycrm_bench')}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# -- data ------------------------------------------------------------------------

_FIRST = ("Nordic", "Aarhus", "Fjord", "Baltic", "Viking", "Jensen", "Hansen", "Larsen", "Skov", "Havn", "Kyst",
          "Grøn", "Sol", "Bro", "Nord", "Øster", "Vester", "Sønder")
_SECOND = ("Byg", "El", "VVS", "Transport", "Data", "Consult", "Maskin", "Tømrer", "Auto", "Handel", "Energi",
           "Service", "Design", "Logistik", "Foods")
_FORMS = ("A/S", "ApS", "I/S", "K/S", "& Co", "Holding")
_STREETS = ("Vestergade", "Østergade", "Nørregade", "Søndergade", "Algade", "Strandvejen", "Hovedgaden",
            "Industrivej", "Skolevej", "Kirkevej", "Møllevej", "Havnegade", "Banegårdsgade", "Parkvej")
# (zip, city, latitude, longitude) of a few Danish towns; customers scatter around them.
_TOWNS = (
    ("1050", "København K", 55.6786, 12.5635), ("8000", "Aarhus C", 56.1567, 10.2108),
    ("5000", "Odense C", 55.3959, 10.3883), ("9000", "Aalborg", 57.0488, 9.9217),
    ("6700", "Esbjerg", 55.4765, 8.4594), ("7100", "Vejle", 55.7113, 9.5364),
    ("8900", "Randers C", 56.4607, 10.0364), ("6000", "Kolding", 55.4904, 9.4722),
    ("8700", "Horsens", 55.8607, 9.8503), ("4000", "Roskilde", 55.6419, 12.0878),
    ("3400", "Hillerød", 55.9267, 12.3108), ("7400", "Herning", 56.1393, 8.9738),
)
_ASCII = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})
_TRADES = ("Construction", "Plumbing", "Electrical", "Transport", "Retail", "IT", "Consulting", "Food", "Energy")


@dataclass
class Dataset:
    """What the loader made: the tenant's credentials and the ids to pick from."""

    credentials: dict[str, Any]
    customer_ids: list[int]
    customer_numbers: list[str]
    seller_ids: list[int]
    load_seconds: float
    extra: dict[str, Any] = field(default_factory=dict)


def customer_values(rng: random.Random, number: int, ctx: dict[str, Any]) -> dict[str, Any]:
    """Column values of one realistic customer (``number`` makes it unique)."""
    name = f"{rng.choice(_FIRST)} {rng.choice(_SECOND)} {rng.choice(_FORMS)}"
    zip_, city, lat, lon = rng.choice(_TOWNS)
    lat += rng.uniform(-0.15, 0.15)
    lon += rng.uniform(-0.25, 0.25)
    street = f"{rng.choice(_STREETS)} {rng.randint(1, 180)}"
    domain = name.split()[0].lower().translate(_ASCII) + f"{number}.dk"
    phone = f"+45 {rng.randint(20, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
    visiting = {"street": street, "zip": zip_, "city": city, "country": "DK",
                "latitude": round(lat, 6), "longitude": round(lon, 6)}
    addresses: dict[str, Any] = {"visiting": visiting}
    if rng.random() < 0.6:
        addresses["invoice"] = {
            "name": f"{name} - Bogholderi", "street": f"Postboks {rng.randint(100, 9999)}", "zip": zip_,
            "city": city, "country": "DK", "email": f"faktura@{domain}",
        }
    if rng.random() < 0.3:
        addresses["postal"] = {"street": street, "zip": zip_, "city": city, "country": "DK"}
    extra: dict[str, Any] = {
        "creditornumber": f"K{number}",
        "trade": rng.choice(_TRADES),
        "ourreference": rng.choice(ctx["seller_ids"]),
        "vatpercentage": 25,
        "team": rng.randint(1, 5),
        "startdate": (dt.date(2015, 1, 1) + dt.timedelta(days=rng.randint(0, 3650))).isoformat(),
    }
    if rng.random() < 0.1:
        extra["icons"] = [rng.randint(1, 9)]
    return {
        "number": str(number),
        "name": name,
        "alt_name": None if rng.random() < 0.8 else f"{name.split()[0]} Group",
        "description": None if rng.random() < 0.5 else f"Customer since {extra['startdate'][:4]}; {extra['trade']}.",
        "type_id": rng.choice(ctx["type_ids"]),
        "industry_id": rng.choice(ctx["industry_ids"]),
        "maingroup_id": rng.choice(ctx["maingroup_ids"]),
        "user_id": rng.choice(ctx["seller_ids"]),
        "profile_id": ctx["profile_id"],
        "email": f"info@{domain}",
        "phone": phone,
        "cellphone": None if rng.random() < 0.5 else f"+45 {rng.randint(20000000, 99999999)}",
        "www": f"https://www.{domain}",
        "vat": f"DK{rng.randint(10000000, 99999999)}",
        "active": rng.random() > 0.05,
        "is_prospect": rng.random() < 0.15,
        "latitude": round(lat, 6),
        "longitude": round(lon, 6),
        "addresses": addresses,
        "extra": extra,
    }


def load_customers(db: Database, n: int, *, seed: int, sellers: int = 25, log=print) -> Dataset:
    """Create a tenant and ``n`` customers in chunks through the core's Workspace."""
    rng = random.Random(seed)
    creds = tenants.create(db, tenants.NewTenant(name=f"bench-{uuid.uuid4().hex[:8]}"))
    tenant_id, admin_id = creds["tenant_id"], creds["user_id"]
    started = time.perf_counter()
    with Workspace(db, tenant_id, admin_id) as ws:
        sellers_made = [
            User(username=f"seller{i}", email=f"seller{i}@bench.example.com", name=f"Seller{i}", surname="Sælger",
                 active=True)
            for i in range(sellers)
        ]
        ws.add_all(sellers_made)
        ctx = {
            "seller_ids": [admin_id, *(u.id for u in sellers_made)],
            "type_ids": [x.id for x in lookups.items(ws, "customer_type")],
            "industry_ids": [x.id for x in lookups.items(ws, "industry")],
            "maingroup_ids": [x.id for x in lookups.items(ws, "maingroup")],
            "profile_id": creds["profile_id"],
        }
    ids: list[int] = []
    numbers: list[str] = []
    first_number = 10001
    for start in range(0, n, LOAD_CHUNK):
        with Workspace(db, tenant_id, admin_id) as ws:
            batch = []
            for i in range(start, min(n, start + LOAD_CHUNK)):
                values = customer_values(rng, first_number + i, ctx)
                # One customer in twenty belongs to a group headed by an earlier one.
                if ids and rng.random() < 0.05:
                    values["parent_id"] = rng.choice(ids)
                batch.append(Customer(**values))
            ws.add_all(batch)
            ids.extend(c.id for c in batch)
            numbers.extend(c.number for c in batch)
        done = min(n, start + LOAD_CHUNK)
        if done % 20_000 == 0 or done == n:
            log(f"  loaded {done:,} customers ({time.perf_counter() - started:.1f} s)")
    return Dataset(creds, ids, numbers, ctx["seller_ids"], time.perf_counter() - started)


def settle(db: Database) -> None:
    """PostgreSQL: VACUUM ANALYZE the loaded database.

    Straight after a bulk load the planner has no statistics for the tables
    and a GIN index still holds the new rows in its unsorted pending list;
    autovacuum settles both within a minute or two, which is the state a
    server answers searches in most of the time. SQLite gets nothing: polycrm
    never runs ANALYZE there, so its plans are always made without statistics.
    """
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


# -- server ----------------------------------------------------------------------

def free_port() -> int:
    """A free loopback port: the first free one of ``POLYCRM_BENCH_PORTS``
    (``FIRST-LAST``, for a shared machine where each user has a range), else
    any the system offers."""
    first, _, last = os.environ.get("POLYCRM_BENCH_PORTS", "").partition("-")
    candidates = range(int(first), int(last or first) + 1) if first else [0]
    for port in candidates:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError(f"no free port in POLYCRM_BENCH_PORTS={os.environ['POLYCRM_BENCH_PORTS']}")


class Server:
    """``polycrm serve`` (uvicorn on ``polycrm.app.create_app``) in a subprocess."""

    def __init__(self, database_url: str, data_dir: Path, env: dict[str, str] | None = None, *,
                 repo: Path = REPO):
        # ``repo``: the checkout whose code serves (another one measures before against after).
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / "server.log"
        cmd = [
            sys.executable, "-c", "from polycrm.cli import main; main()",
            "serve", "--host", "127.0.0.1", "--port", str(self.port), "--database", database_url,
        ]
        full_env = {**os.environ, "POLYCRM_DATA_DIR": str(data_dir), **(env or {})}
        full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), full_env.get("PYTHONPATH")]))
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=full_env, cwd=repo)
        self._wait_ready()

    def _wait_ready(self, timeout: float | None = None) -> None:
        # POLYCRM_BENCH_START_SECONDS: a machine so busy that starting takes longer.
        timeout = timeout or float(os.environ.get("POLYCRM_BENCH_START_SECONDS", "60"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log_path}")
            with contextlib.suppress(OSError):
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            time.sleep(0.1)
        raise RuntimeError(f"server did not listen within {timeout:.0f} s; see {self.log_path}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def memory_mb(self) -> dict[str, float]:
        """Peak (VmHWM) and current (VmRSS) resident memory of the server process."""
        out: dict[str, float] = {}
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in ("VmHWM", "VmRSS"):
                    out[key] = int(value.split()[0]) / 1024
        return out

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far.

        Wall-clock figures on a busy machine include waiting for a core; the
        server's own CPU time says what the work itself costs.
        """
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return float("nan")

    def stop(self) -> None:
        stop_process(self.proc, signal.SIGINT, timeout=15)
        self._log.close()


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, *, timeout: float = 30) -> None:
    """Ask a server process to stop (``sig``), and kill it if it has not within ``timeout`` seconds."""
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Profiler:
    """py-spy attached to the server for one measurement (optional)."""

    def __init__(self, pid: int, output: str | None, *, subprocesses: bool = False):
        # ``subprocesses``: the worker processes of ``serve --workers N`` too.
        self.proc = None
        if not output:
            return
        exe = shutil.which("py-spy") or os.environ.get("PY_SPY")
        if not exe:
            raise SystemExit("--py-spy needs the py-spy executable on PATH (or PY_SPY=/path/to/py-spy)")
        fmt = "raw" if output.endswith(".txt") else "flamegraph"
        self.proc = subprocess.Popen(
            [exe, "record", "--pid", str(pid), "--rate", "200", "--format", fmt, "--output", output,
             *(["--subprocesses"] if subprocesses else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # let it attach before the measurement starts

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=60)


# -- the whole environment -------------------------------------------------------

class BenchEnv:
    """Data folder, database, loaded tenant and a running server, torn down on exit."""

    def __init__(self, args: argparse.Namespace, *, customers: int | None = None,
                 server_env: dict[str, str] | None = None, settle: bool = False):
        self.args = args
        # How many customers to load: ``customers`` if given, else ``args.customers``.
        self.customers = customers if customers is not None else args.customers
        self.server_env = server_env
        # PostgreSQL: VACUUM ANALYZE after loading (see settle()).
        self.settle = settle
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> "BenchEnv":
        stack = self._stack
        try:
            self.data_dir = Path(tempfile.mkdtemp(prefix="polycrm-bench-"))
            if not self.args.keep:
                stack.callback(shutil.rmtree, self.data_dir, ignore_errors=True)
            self.database_url = stack.enter_context(
                throwaway_database(self.args.database, self.data_dir, self.args.keep)
            )
            db = Database(self.database_url)
            stack.callback(db.dispose)
            db.upgrade()
            self.backend = db.engine.dialect.name
            print(f"machine: {machine()}")
            print(f"database: {self.backend}" + (f" (data folder {self.data_dir})" if self.args.keep else ""))
            print(f"loading {self.customers:,} customers ...")
            self.data = load_customers(db, self.customers, seed=self.args.seed)
            print(f"  load: {self.data.load_seconds:.1f} s "
                  f"({self.customers / max(self.data.load_seconds, 1e-9):,.0f} customers/s)")
            if self.settle and self.backend == "postgresql":
                started = time.perf_counter()
                settle(db)
                print(f"  VACUUM ANALYZE: {time.perf_counter() - started:.1f} s")
            db.dispose()
            self.server = Server(self.database_url, self.data_dir, self.server_env)
            print("load average before measuring: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
            stack.callback(self.server.stop)
            self.http = stack.enter_context(httpx.Client(base_url=self.server.url, timeout=300.0))
        except BaseException:
            stack.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def profiler(self) -> Profiler:
        return Profiler(self.server.pid, self.args.py_spy)


def rate(count: float, seconds: float) -> str:
    return f"{count / seconds:,.0f}" if seconds > 0 else "n/a"


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]
