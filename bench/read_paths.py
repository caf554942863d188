"""CPU per Cirrus read, in-process, on an existing data folder: for comparing checkouts.

    .venv/bin/python bench/read_paths.py --data-dir DIR --token X_TOKEN [--requests 300] [--lists 30]

The app of the running checkout (``polycrm.app.create_app``) on the SQLite
database in ``DIR`` (migrated first), called through Starlette's TestClient
(no sockets); each request kind is warmed up, then timed with
``time.process_time`` (the app runs in a thread of this process, so that is
the whole request's CPU). Prints ms of CPU per request. Run it from two
checkouts on copies of the same folder, alternating, to compare them on a
busy machine: CPU time is much steadier than wall time there.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from common import data_folder_arguments, data_folder_runtime  # noqa: E402

from starlette.testclient import TestClient  # noqa: E402

from polycrm.app import create_app  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    data_folder_arguments(parser)
    parser.add_argument("--prefix", default="/cirrus")
    args = parser.parse_args()
    rt = data_folder_runtime(args.data_dir)
    rt.db.upgrade()
    headers = {"X-Token": args.token}
    with TestClient(create_app(rt.settings, rt.db)) as client:
        first = client.get(f"{args.prefix}/accounts/", params={"per_page": 1}, headers=headers).json()
        total = first.get("total") or first.get("count") or 100_000
        rnd = random.Random(1)
        probe = client.get(f"{args.prefix}/accounts/", params={"per_page": 50}, headers=headers).json()
        low = min(a["id"] for a in probe["items"])
        ids = [low + rnd.randrange(int(total)) for _ in range(args.requests)]
        kinds = {
            "GET /accounts/{id}": [(f"{args.prefix}/accounts/{i}", {}) for i in ids],
            "list of 50, default order": [(f"{args.prefix}/accounts/", {"per_page": 50})] * args.lists,
            "list, name=Company 99%, page 2": [
                (f"{args.prefix}/accounts/", {"name": "Company 99%", "page": 2, "per_page": 50})] * args.lists,
        }
        for label, calls in kinds.items():
            for path, params in calls[:3]:  # warm up
                r = client.get(path, params=params, headers=headers)
                assert r.status_code == 200, (path, r.status_code, r.text[:200])
            started = time.process_time()
            for path, params in calls:
                client.get(path, params=params, headers=headers)
            cpu = time.process_time() - started
            print(f"{label}: {cpu / len(calls) * 1000:.2f} ms CPU per request ({len(calls)} requests)")
    rt.db.dispose()


if __name__ == "__main__":
    main()
