"""``polycrm load`` of N customers, one or more checkouts side by side.

The fixture is the one ``../shared/perf/side_by_side.sh`` loads (Cirrus-shaped
Swedish companies: name, number, type, e-mail, phone, VAT number, a visiting
address, coordinates), written once as one JSON file. For each run a fresh
data folder (SQLite) or a fresh database on the ``--database`` server gets a
tenant, then each checkout's own ``.venv/bin/polycrm load`` imports the file;
checkouts alternate (A B, B A, ...) so that both see the same machine load.
Printed per run: wall seconds, rows/s, the load process's CPU seconds (user +
system, from ``wait4``) and its peak memory. Figures only, no verdict.

    .venv/bin/python bench/import_bench.py                              # this checkout, 100,000 customers
    .venv/bin/python bench/import_bench.py --checkout /work/wt/base --checkout . --repeat 2
    .venv/bin/python bench/import_bench.py --customers 20000 --database postgresql://polycrm@127.0.0.1:55432/postgres
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
CITIES = ["Stockholm", "Göteborg", "Malmö", "Uppsala", "Västerås", "Örebro", "Linköping", "Helsingborg"]


def write_fixture(path: Path, n: int) -> None:
    """The side_by_side.sh fixture, streamed to disk (the same values for the same n)."""
    rnd = random.Random(7)
    with path.open("w", encoding="utf-8") as f:
        f.write('{"customer_types": ["Customer"], "customers": [')
        for i in range(1, n + 1):
            item = {
                "name": f"Company {i} AB", "number": f"A{i:07d}", "type_name": "Customer",
                "email": f"info{i}@example.se", "phone": f"+46{rnd.randrange(10**8, 10**9)}",
                "vat": f"SE{5560000000 + i}01",
                "addresses": {"visiting": {"street": f"Gatan {i % 200}", "zip": f"{11000 + i % 900}",
                                           "city": rnd.choice(CITIES), "country": "SE"}},
                "latitude": round(55 + rnd.random() * 10, 5), "longitude": round(11 + rnd.random() * 12, 5),
            }
            f.write(("," if i > 1 else "") + json.dumps(item))
        f.write("]}")


def run_load(checkout: Path, fixture: Path, server: str | None, work: Path) -> dict:
    """One import by ``checkout`` into a fresh database; returns its figures."""
    polycrm = checkout / ".venv" / "bin" / "polycrm"
    env = {**os.environ, "POLYCRM_DATA_DIR": str(work / f"data-{uuid.uuid4().hex[:8]}")}
    env.pop("POLYCRM_DATABASE_URL", None)
    dbname = None
    if server:
        dbname = f"polycrm_import_{uuid.uuid4().hex[:10]}"
        admin = create_engine(make_url(server).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{dbname}"'))
        env["POLYCRM_DATABASE_URL"] = make_url(server).set(database=dbname).render_as_string(hide_password=False)
    try:
        subprocess.run([str(polycrm), "tenant", "create", "bench"], env=env, check=True, capture_output=True)
        started = time.perf_counter()
        proc = subprocess.Popen([str(polycrm), "load", "--tenant", "bench", str(fixture)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        out = proc.stdout.read().decode().strip()
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{checkout}: load failed: {proc.stderr.read().decode()}")
        return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024, "out": out}
    finally:
        shutil.rmtree(env["POLYCRM_DATA_DIR"], ignore_errors=True)
        if dbname:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
            admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--checkout", action="append", type=Path,
                        help="a checkout with its own .venv (repeatable; default: this one)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; each round runs every checkout once")
    parser.add_argument("--database", metavar="URL", help="PostgreSQL server for throwaway databases")
    args = parser.parse_args()
    checkouts = [c.resolve() for c in (args.checkout or [REPO])]
    with tempfile.TemporaryDirectory(prefix="polycrm-import-") as tmp:
        work = Path(tmp)
        fixture = work / "fixture.json"
        write_fixture(fixture, args.customers)
        print(f"{args.customers:,} customers, {fixture.stat().st_size / 1e6:.1f} MB of JSON; "
              f"{'PostgreSQL' if args.database else 'SQLite'}; load average {os.getloadavg()[0]:.1f}")
        for round_ in range(args.repeat):
            order = checkouts if round_ % 2 == 0 else checkouts[::-1]
            for checkout in order:
                r = run_load(checkout, fixture, args.database, work)
                print(f"{checkout}: {r['wall']:.1f} s, {args.customers / r['wall']:,.0f} rows/s, "
                      f"CPU {r['cpu']:.1f} s, peak {r['peak_mb']:.0f} MB  [{r['out']}]", flush=True)


if __name__ == "__main__":
    main()
