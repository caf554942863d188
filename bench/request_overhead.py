"""CPU per request of the whole ASGI app, in-process: for comparing checkouts.

    .venv/bin/python bench/request_overhead.py --data-dir DIR --token X_TOKEN [--requests 2000] [--concurrency 16]

Sends ``GET /cirrus/accounts/{random id}`` (or ``--path``, the same GET each
time, e.g. a list page; or ``--post``, a new account each time) with X-Token straight into the app
this checkout's ``create_app`` builds over a data folder made by ``polycrm
load`` (no socket, no HTTP parser): middleware, routing, authentication,
the request journal, the handler and the JSON answer. ``--concurrency``
requests are in flight at once, as uvicorn would run them. The journal
writer's thread is included: the figure is ``time.process_time`` of the
whole process (every thread) after the journal has written what was queued,
divided by the requests. Also printed, for scale: the handler alone (as
bench/cirrus_handlers.py measures it). Run it from two checkouts on the
same folder, alternating (``--rounds``).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time

import orjson
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from common import data_folder_runtime  # noqa: E402


async def _get(app, target: str | tuple[str, bytes], token: bytes) -> int:
    """One request: a GET of ``target``, or a POST of ``(path, JSON body)``."""
    method, body = "GET", b""
    if isinstance(target, tuple):
        (target, body), method = target, "POST"
    path, _, query = target.partition("?")
    headers = [(b"host", b"127.0.0.1"), (b"x-token", token), (b"accept", b"*/*")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "state": {},
    }
    status = 0

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _run(app, paths: list[str], token: bytes, concurrency: int) -> list[int]:
    statuses: list[int] = []
    todo = iter(paths)

    async def client() -> None:
        for path in todo:
            statuses.append(await _get(app, path, token))

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return statuses


def _flush_journal(rt) -> None:
    from polycrm.sandbox import middleware

    writer = middleware._writers.get(rt.db)
    if writer is not None:
        writer.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--post", action="store_true",
                        help="POST a new account to /cirrus/accounts/ each time (a write: one customer more per "
                             "request, so run it on a copy of the data folder)")
    parser.add_argument("--number", action="store_true",
                        help="with --post: each new account carries a new number (the write checks it is free)")
    parser.add_argument("--path", help="send this GET every time instead of random accounts (a query after '?'), "
                                       "e.g. '/cirrus/accounts/?name=Company%%2099%%25&page=2&per_page=50'")
    args = parser.parse_args()

    from polycrm.app import create_app

    rt = data_folder_runtime(args.data_dir)
    app = create_app(rt.settings, rt.db)
    token = args.token.encode()
    with rt.db.engine.connect() as conn:
        from sqlalchemy import text

        low, high = conn.execute(text("SELECT min(id), max(id) FROM customer")).one()
    rnd = random.Random(args.seed)
    loop = asyncio.new_event_loop()
    # The app's lifespan (webhook delivery) is left out: it does nothing per request.
    counter = iter(range(10**9))
    stamp = int(time.time())  # numbers new to the folder on every run

    def target() -> str | tuple[str, bytes]:
        if args.post:
            n = next(counter)
            return ("/cirrus/accounts/", orjson.dumps({
                "name": f"Written {args.seed}-{n}", "typeid": 1, "userid": 1, "email": f"written{n}@example.se", "phone": "+46700000000",
                "addresses": {"visiting": {"street": "Gatan 1", "zip": "11000", "city": "Stockholm"}},
                **({"number": f"W{args.seed}-{n}-{stamp}"} if args.number else {})}))
        return args.path or f"/cirrus/accounts/{rnd.randint(low, high)}"

    warm = [target() for _ in range(50)]
    loop.run_until_complete(_run(app, warm, token, args.concurrency))
    _flush_journal(rt)
    for n in range(args.rounds):
        paths = [target() for _ in range(args.requests)]
        started, wall = time.process_time(), time.perf_counter()
        statuses = loop.run_until_complete(_run(app, paths, token, args.concurrency))
        _flush_journal(rt)
        cpu, wall = time.process_time() - started, time.perf_counter() - wall
        bad = sum(1 for s in statuses if s not in (200, 201))
        print(f"round {n + 1}: {cpu / len(paths) * 1e6:.0f} us CPU per request, {len(paths) / wall:.0f} req/s in "
              f"process ({len(paths)} requests, {args.concurrency} at once, {bad} not 200)", flush=True)
    loop.close()
    rt.db.dispose()


if __name__ == "__main__":
    main()
