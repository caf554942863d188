"""Web pages benchmark: server time of a list page of 25 at a number of customers.

    .venv/bin/python bench/web_bench.py [--customers 100000] [--database URL] [--repeat 30]

Loads a throwaway tenant with that many customers (``common.load_customers``),
signs in to the web pages in-process (Starlette's test client, no network) and
times whole requests of ``/customers`` pages of 25: the default order, page
200, sorted by city and by responsible, filtered by type and by city, and a
search; then ``/search`` and ``/``. Each figure is the median and 95th
percentile of ``--repeat`` requests after two warm-up requests. It prints
figures only; docs/web.md says what they should be.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import common_arguments, load_customers, machine, percentile, settle, throwaway_database  # noqa: E402

from polycrm.app import create_app  # noqa: E402
from polycrm.config import Settings  # noqa: E402
from polycrm.core import lookups  # noqa: E402
from polycrm.core.workspace import Workspace  # noqa: E402
from polycrm.store.engine import Database  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common_arguments(parser)
    parser.add_argument("--repeat", type=int, default=30, help="requests per figure (default %(default)s)")
    args = parser.parse_args(argv)
    from starlette.testclient import TestClient

    print(machine())
    with tempfile.TemporaryDirectory() as tmp, throwaway_database(args.database, Path(tmp), args.keep) as url:
        data_dir = Path(tmp)
        db = Database(url)
        db.upgrade()
        print(f"loading {args.customers:,} customers ...")
        data = load_customers(db, args.customers, seed=args.seed)
        if not db.is_sqlite:
            settle(db)
        with Workspace(db, data.credentials["tenant_id"], data.credentials["user_id"]) as ws:
            type_id = lookups.items(ws, "customer_type")[0].id
        app = create_app(Settings(data_dir=data_dir, database_url=url), db)
        web = TestClient(app, follow_redirects=False)
        token = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/signin").text).group(1)
        signed = web.post("/signin", data={"csrf_token": token, "tenant": data.credentials["tenant"],
                                           "login": data.credentials["microbizz"]["username"],
                                           "password": data.credentials["microbizz"]["password"]})
        assert signed.status_code == 303, signed.text
        pages = [
            ("/customers (default order, page 1)", "/customers"),
            ("/customers?page=200", "/customers?page=200"),
            ("/customers?sort=city", "/customers?sort=city"),
            ("/customers?sort=-owner", "/customers?sort=-owner"),
            ("/customers?f_type=<first type>", f"/customers?f_type={type_id}"),
            ("/customers?f_city=aalborg", "/customers?f_city=aalborg"),
            ("/customers?q=vestergade aarhus", "/customers?q=vestergade+aarhus"),
            ("/search?q=tømrer", "/search?q=t%C3%B8mrer"),
            ("/ (dashboard)", "/"),
        ]
        print(f"\n{args.customers:,} customers, {args.repeat} requests each (ms)")
        print(f"{'page':42} {'median':>8} {'p95':>8}")
        for label, path in pages:
            for _ in range(2):
                assert web.get(path).status_code == 200, path
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                response = web.get(path)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, path
            print(f"{label:42} {statistics.median(times):8.1f} {percentile(times, 95):8.1f}")
        db.dispose()


if __name__ == "__main__":
    main()
