"""A filtered Cirrus list over HTTP with wrk, checkouts compared in alternating rounds.

    .venv/bin/python bench/list_bench.py --data-dir DIR --token X_TOKEN \\
        [--checkout PATH ...] [--rounds 3] [--seconds 8] [--connections 8] \\
        [--path '/cirrus/accounts/?name=Company%2099%25&page=2&per_page=50'] [--conditional]

``DIR`` is a SQLite data folder made by ``polycrm load`` (the tenant whose
``X-Token`` is given). Each checkout gets its own copy of it (its server
migrates the copy to its own schema), made once. Every round serves each
copy in turn from a fresh ``polycrm serve`` (the order alternates between
rounds), sends a few requests to warm it, then runs ``wrk -t1 -cC -dS`` with
the token header. Printed per round and checkout: requests/s, mean latency,
the server's CPU per request (from /proc) and the Non-2xx count (which must be
0, or the figure measures refusals); then each checkout's ratio to the first.

``--conditional`` sends the ``ETag`` of the first answer back as
``If-None-Match`` (the 304 path of a client that revalidates); a checkout
without ETags answers 200 as usual.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Server, machine  # noqa: E402

DEFAULT_PATH = "/cirrus/accounts/?name=Company%2099%25&page=2&per_page=50"


class Served(Server):
    """A server given five minutes to start: on a loaded machine a start takes over a minute."""

    def _wait_ready(self, timeout: float = 300.0) -> None:
        super()._wait_ready(timeout)


def wrk(url: str, headers: dict[str, str], seconds: int, connections: int) -> dict[str, float]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    found = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
             "requests": float(re.search(r"(\d+) requests in", out).group(1)),
             "non2xx": float(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)) else 0.0}
    latency = re.search(r"Latency\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[latency.group(2)]
    found["latency_ms"] = float(latency.group(1)) * scale
    return found


def measure(checkout: Path, data_dir: Path, args: argparse.Namespace) -> dict[str, float]:
    database = f"sqlite:///{data_dir / 'polycrm.sqlite3'}"
    server = Served(database, data_dir, repo=checkout)
    try:
        headers = {"X-Token": args.token}
        for _ in range(5):  # warm: connections, compiled statements, caches
            first = httpx.get(server.url + args.path, headers=headers, timeout=60)
            first.raise_for_status()
        if args.conditional and "etag" in first.headers:
            headers["If-None-Match"] = first.headers["etag"]
        cpu = server.cpu_seconds()
        found = wrk(server.url + args.path, headers, args.seconds, args.connections)
        found["cpu_ms"] = (server.cpu_seconds() - cpu) * 1000 / max(found["requests"], 1)
        found["status"] = first.status_code
        return found
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--checkout", type=Path, action="append", help="repeatable; default: this checkout")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--path", default=DEFAULT_PATH)
    parser.add_argument("--conditional", action="store_true")
    args = parser.parse_args()
    checkouts = [c.resolve() for c in (args.checkout or [Path(__file__).resolve().parent.parent])]
    print(machine())
    print(f"GET {args.path}{' with If-None-Match' if args.conditional else ''}, wrk -t1 -c{args.connections} "
          f"-d{args.seconds}s, {args.rounds} rounds")
    with tempfile.TemporaryDirectory(prefix="polycrm-list-bench-") as tmp:
        copies = []
        for i, _ in enumerate(checkouts):
            copy = Path(tmp) / f"data-{i}"
            shutil.copytree(args.data_dir, copy, ignore=shutil.ignore_patterns("server.log"))
            copies.append(copy)
        results: dict[int, list[dict[str, float]]] = {i: [] for i in range(len(checkouts))}
        for round_ in range(args.rounds):
            order = list(range(len(checkouts)))
            if round_ % 2:
                order.reverse()
            for i in order:
                found = measure(checkouts[i], copies[i], args)
                results[i].append(found)
                print(f"round {round_ + 1} {checkouts[i]}: {found['rps']:.1f} req/s, {found['latency_ms']:.2f} ms mean, "
                      f"{found['cpu_ms']:.2f} ms server CPU/request, status {found['status']}, "
                      f"non-2xx {found['non2xx']:.0f}", flush=True)
        for i in range(1, len(checkouts)):
            rps = [b["rps"] / a["rps"] for a, b in zip(results[0], results[i])]
            cpu = [b["cpu_ms"] / a["cpu_ms"] for a, b in zip(results[0], results[i]) if a["cpu_ms"]]
            print(f"{checkouts[i]} / {checkouts[0]}: req/s x{', x'.join(f'{r:.2f}' for r in rps)}; "
                  f"server CPU per request x{', x'.join(f'{r:.2f}' for r in cpu)}")


if __name__ == "__main__":
    main()
