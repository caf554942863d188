"""CPU of the Cirrus account read handlers alone, in-process: for comparing checkouts.

    .venv/bin/python bench/cirrus_handlers.py --data-dir DIR --token X_TOKEN [--requests 300] [--lists 30]

Calls the bindings of ``get_account_item`` and ``get_account_collection`` of
the running checkout directly, each in its own read workspace, and encodes
the answer as the endpoint does (orjson): no HTTP, no authentication, no
request journal, so the figure is the query and rendering work alone, which
``bench/read_paths.py`` (the whole app through TestClient) includes among
the rest. ``time.process_time`` of this single thread; prints ms per request.
Run it from two checkouts on the same folder, alternating.
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

import orjson  # noqa: E402

from polycrm.core import auth  # noqa: E402
from polycrm.core import query as q  # noqa: E402
from polycrm.faces.cirrus.groups.accounts import BINDINGS  # noqa: E402
from polycrm.faces.cirrus.handlers import Call  # noqa: E402
from polycrm.faces.cirrus.views import Ctx  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    data_folder_arguments(parser)
    args = parser.parse_args()
    rt = data_folder_runtime(args.data_dir)
    principal = auth.resolve_token(rt.db, auth.CIRRUS_XTOKEN, args.token)
    if principal is None:
        raise SystemExit("unknown token")

    def run(operation: str, path: dict | None = None, query: dict | None = None) -> bytes:
        with rt.workspace(principal, write=False) as ws:
            ctx = Ctx(ws=ws, loader=q.Loader(ws), user_id=principal.user_id)
            call = Call(op={}, ctx=ctx, path=path or {}, query=query or {}, body=None)
            result = BINDINGS[operation].handler(call)
        return orjson.dumps(result, option=orjson.OPT_NON_STR_KEYS)

    first = orjson.loads(run("get_account_collection", query={"per_page": 1}))
    low = first["items"][0]["id"]
    rnd = random.Random(1)
    ids = [low + rnd.randrange(first["total"]) for _ in range(args.requests)]
    kinds = {
        "GET /accounts/{id}": [("get_account_item", {"id": i}, None) for i in ids],
        "list of 50, default order": [("get_account_collection", None, {"per_page": 50})] * args.lists,
        "list, name=Company 99%, page 2": [
            ("get_account_collection", None, {"name": "Company 99%", "page": 2, "per_page": 50})] * args.lists,
    }
    for label, calls in kinds.items():
        for call in calls[:3]:  # warm up
            run(*call)
        started = time.process_time()
        for call in calls:
            run(*call)
        cpu = time.process_time() - started
        print(f"{label}: {cpu / len(calls) * 1000:.2f} ms CPU per request ({len(calls)} requests)")
    rt.db.dispose()


if __name__ == "__main__":
    main()
