"""Cirrus reads over HTTP with wrk: ``polycrm serve --workers N`` for several N,
one or more checkouts, alternating rounds.

    .venv/bin/python bench/workers_bench.py --prepare DIR [--database URL]
    .venv/bin/python bench/workers_bench.py --data-dir DIR [--database URL] \\
        [--checkout PATH ...] [--workers 1,2] [--rounds 3] [--seconds 8] \\
        [--connections 16] [--parts byid,list] [--py-spy FILE]

``--prepare`` builds the 100,000 accounts of ``../shared/perf/side_by_side.sh``
(same names, numbers, addresses; ``--accounts`` for another count), loads them
with the first checkout's ``polycrm load`` into a new tenant (into the SQLite
database of ``DIR``, or into ``--database``) and keeps the tenant's Cirrus
token in ``DIR/token``.

A measurement serves a copy of ``DIR`` (SQLite; with ``--database`` the data
folder is empty and that database is served) with a checkout's ``polycrm serve
--workers N`` on a free loopback port (``POLYCRM_BENCH_PORTS``, bench/common.py),
warms it up for ``--warmup`` seconds, then runs wrk (a C client: it costs far
less CPU per request than Python clients, which on a small machine take the
cores a second worker needs) for each part:

- ``byid``: ``GET /cirrus/accounts/{random id}`` (a Lua script picks the id);
- ``list``: ``GET /cirrus/accounts/?name=Company%2099%25&page=2&per_page=50``,
  the list side_by_side.sh measures (repeated: an answers-cache hit after the
  first, docs/cirrus2.md).

Printed per part: requests/s, latency p50 and p99 (wrk's), non-2xx answers,
the server's CPU per request (user + system from /proc, summed over the
supervisor and every worker process), each worker's share of that CPU (how
evenly the kernel spread the connections), wrk's own CPU per request and the
load average. Rounds alternate the order (1 2, then 2 1, ...) so that a
change of the machine's load falls on both sides. ``--py-spy FILE`` records
every process of the first measurement (``--subprocesses``; the py-spy
executable from PATH or ``PY_SPY``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from common import Profiler, free_port, machine, stop_process  # noqa: E402

LIST_PATH = "/cirrus/accounts/?name=Company%2099%25&page=2&per_page=50"
CITIES = ["Stockholm", "Göteborg", "Malmö", "Uppsala", "Västerås", "Örebro", "Linköping", "Helsingborg"]
RANDOM_ID_LUA = """\
-- GET {prefix}<random id in [low, high]> (the token comes from wrk's -H); each wrk thread seeds its own.
local low, high = {low}, {high}
function init(args)
  math.randomseed(os.time() + (tonumber(tostring({{}}):match("0x(%x+)") or "0", 16) % 1000003))
end
request = function()
  return wrk.format("GET", string.format("{prefix}%d", math.random(low, high)))
end
"""


# -- the data ------------------------------------------------------------------------

def fixture(n: int) -> dict:
    """side_by_side.sh's accounts (the same random sequence, seed 7)."""
    rnd = random.Random(7)
    return {"customer_types": ["Customer"], "customers": [
        {"name": f"Company {i} AB", "number": f"A{i:07d}", "type_name": "Customer", "email": f"info{i}@example.se",
         "phone": f"+46{rnd.randrange(10**8, 10**9)}", "vat": f"SE{5560000000 + i}01",
         "addresses": {"visiting": {"street": f"Gatan {i % 200}", "zip": f"{11000 + i % 900}",
                                    "city": rnd.choice(CITIES), "country": "SE"}},
         "latitude": round(55 + rnd.random() * 10, 5), "longitude": round(11 + rnd.random() * 12, 5)}
        for i in range(1, n + 1)]}


def server_env(data: Path, database: str | None) -> dict[str, str]:
    env = {**os.environ, "POLYCRM_DATA_DIR": str(data)}
    env.pop("POLYCRM_DATABASE_URL", None)
    if database:
        env["POLYCRM_DATABASE_URL"] = database
    return env


def prepare(checkout: Path, folder: Path, database: str | None, accounts: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    env = server_env(folder, database)
    polycrm = str(checkout / ".venv/bin/polycrm")
    made = subprocess.run([polycrm, "tenant", "create", "perf", "--json"], env=env, check=True,
                          capture_output=True, text=True)
    (folder / "token").write_text(json.loads(made.stdout)["cirrus"]["x_token"] + "\n")
    with tempfile.NamedTemporaryFile("wb", suffix=".json") as f:
        f.write(json.dumps(fixture(accounts)).encode())
        f.flush()
        started = time.perf_counter()
        subprocess.run([polycrm, "load", "--tenant", "perf", f.name], env=env, check=True)
    print(f"loaded {accounts:,} accounts in {time.perf_counter() - started:.1f} s into "
          f"{database or folder / 'polycrm.sqlite3'}; token in {folder / 'token'}")


# -- measuring -----------------------------------------------------------------------

def tree(pid: int) -> list[int]:
    """A process and its living descendants (but multiprocessing's resource tracker)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            if b"resource_tracker" in Path(f"/proc/{p}/cmdline").read_bytes():
                continue
        except OSError:
            continue
        found.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def cpu(pid: int) -> float:
    """CPU seconds (user + system) of one process, 0 for one that is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def connections_of(port: int, pids: list[int]) -> list[int]:
    """How many established connections to ``port`` each of ``pids`` holds."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":  # 01: ESTABLISHED
            inodes.add(f"socket:[{fields[9]}]")
    counts = []
    for pid in pids:
        try:
            counts.append(sum(os.readlink(fd) in inodes for fd in Path(f"/proc/{pid}/fd").iterdir()))
        except OSError:
            counts.append(0)
    return counts


def wrk(url: str, seconds: float, connections: int, threads: int, token: str, script: Path | None = None,
        during=None) -> dict[str, float]:
    """One wrk run; its figures and its own CPU seconds (``during``: called halfway, its answer kept)."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-H", f"X-Token: {token}"]
    if script:
        cmd += ["-s", str(script)]
    before = children_cpu()
    run = subprocess.Popen([*cmd, url], stdout=subprocess.PIPE, text=True)
    seen = None
    if during:
        time.sleep(seconds / 2)
        seen = during()
    out = run.communicate()[0]
    if run.returncode:
        raise SystemExit(f"wrk failed ({run.returncode})")
    figures = {"client_cpu": children_cpu() - before, "seen": seen,
               "requests": float(re.search(r"(\d+) requests in", out).group(1)),
               "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
               "non2xx": float(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0.0,
               "errors": float(sum(int(x) for x in m.groups())) if (m := re.search(
                   r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)) else 0.0}
    for pct in ("50", "99"):
        figures[f"p{pct}"] = _ms(re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", out, re.M).group(1))
    return figures


def wait_ready(url: str, token: str, proc: subprocess.Popen, log: Path) -> dict:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
        try:
            r = httpx.get(f"{url}/cirrus/accounts/?per_page=50", headers={"X-Token": token}, timeout=30)
            if r.status_code == 200:
                return r.json()
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"the server did not answer within 180 s; see {log}")


def measure(checkout: Path, data_dir: Path, database: str | None, token: str, workers: int, args,
            py_spy: str | None, variant: tuple[str, dict[str, str]] = ("", {})) -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory(prefix="polycrm-workers-") as tmp:
        data = Path(tmp) / "data"
        if database:
            data.mkdir()
        else:
            shutil.copytree(data_dir, data)
        port = free_port()
        log_path = Path(tmp) / "server.log"
        log = log_path.open("wb")
        # Without --workers for 1, so that a checkout from before the option runs too.
        more = ["--workers", str(workers)] if workers > 1 else []
        proc = subprocess.Popen([str(checkout / ".venv/bin/polycrm"), "serve", "--port", str(port), *more],
                                env={**server_env(data, database), **variant[1]}, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            first = wait_ready(url, token, proc, log_path)
            # Every worker started (a worker still importing gets no connections).
            deadline = time.monotonic() + 180
            while (log_path.read_text(errors="replace").count("Application startup complete") < workers
                   and time.monotonic() < deadline):
                time.sleep(0.25)
            ids = [a["id"] for a in first["items"]]
            low, high = min(ids), min(ids) + int(first.get("total") or args.accounts) - 1
            script = Path(tmp) / "random_id.lua"
            script.write_text(RANDOM_ID_LUA.format(prefix="/cirrus/accounts/", low=low, high=high, token=token))
            # Warm every worker (connections, caches, pools) before anything counts.
            wrk(url + "/", args.warmup, args.connections, args.threads, token, script)
            pids = tree(proc.pid)
            if len(pids) < workers + 1 and workers > 1:
                lines.append(f"  (only {len(pids) - 1} worker processes found)")
            for part in args.parts:
                profiler = Profiler(proc.pid, py_spy, subprocesses=True) if py_spy else None
                py_spy = None
                pids = tree(proc.pid)
                cpu0 = {p: cpu(p) for p in pids}
                spread = (lambda: connections_of(port, pids[1:])) if workers > 1 else None
                if part == "byid":
                    f = wrk(url + "/", args.seconds, args.connections, args.threads, token, script, spread)
                else:
                    f = wrk(url + LIST_PATH, args.seconds, args.list_connections, args.threads, token, during=spread)
                used = {p: cpu(p) - cpu0[p] for p in pids}
                wall = f["requests"] / max(f["rate"], 1e-9)
                if profiler:
                    profiler.stop()
                total = sum(used.values())
                n = max(f["requests"], 1)
                shares = "/".join(f"{used[p] / max(total, 1e-9) * 100:.0f}" for p in pids[1:]) if workers > 1 else ""
                lines.append(
                    f"{checkout.name}{' ' + variant[0] if variant[0] else ''} workers={workers} {part}: {f['rate']:,.0f} req/s, p50 {f['p50']:.2f} ms, "
                    f"p99 {f['p99']:.2f} ms, server CPU {total / n * 1e6:,.0f} us/req ({total / wall:.2f} cores)"
                    + (f" (workers' CPU shares {shares} %, connections {'/'.join(map(str, f['seen']))})" if shares else "")
                    + f", wrk CPU {f['client_cpu'] / n * 1e6:.0f} us/req, non-2xx {f['non2xx']:.0f}"
                    + (f", socket errors {f['errors']:.0f}" if f["errors"] else "")
                    + f", load {os.getloadavg()[0]:.2f}")
                print(lines[-1], flush=True)
        finally:
            stop_process(proc)
            log.close()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prepare", type=Path, metavar="DIR", help="build and load the accounts into DIR, then stop")
    parser.add_argument("--data-dir", type=Path, help="a folder made by --prepare")
    parser.add_argument("--database", metavar="URL", help="serve (or --prepare into) this database instead of the "
                        "SQLite one of the data folder, e.g. a PostgreSQL one")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--checkout", action="append", type=Path, help="a checkout with its .venv (default: this one)")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts (default 1,2)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--connections", type=int, default=16, help="wrk connections for byid (default 16)")
    parser.add_argument("--list-connections", type=int, default=8, help="wrk connections for list (default 8)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--parts", default="byid,list")
    parser.add_argument("--py-spy", metavar="FILE", help="record the first measurement's processes (SVG, or .txt)")
    parser.add_argument("--variant", action="append", metavar="LABEL:NAME=VALUE,...",
                        help="serve with these environment variables too, as one more side of each round "
                        "(e.g. nojournal:POLYCRM_JOURNAL_SIZE=0; 'plain:' for none)")
    args = parser.parse_args()
    checkouts = [c.resolve() for c in (args.checkout or [REPO])]
    if args.prepare:
        prepare(checkouts[0], args.prepare.resolve(), args.database, args.accounts)
        return
    if not args.data_dir:
        parser.error("--data-dir (or --prepare) is needed")
    args.parts = [p.strip() for p in args.parts.split(",")]
    token = (args.data_dir / "token").read_text().strip()
    counts = [int(w) for w in args.workers.split(",")]
    variants = [("", {})]
    if args.variant:
        variants = []
        for v in args.variant:
            label, _, pairs = v.partition(":")
            variants.append((label, dict(p.split("=", 1) for p in pairs.split(",") if p)))
    print(f"machine: {machine()}; wrk -t{args.threads} -c{args.connections}/{args.list_connections} "
          f"{args.seconds:g} s; database: {args.database or 'SQLite (a copy of ' + str(args.data_dir) + ')'}",
          flush=True)
    summary: list[str] = []
    py_spy = args.py_spy
    for round_ in range(args.rounds):
        order = [(c, v, w) for c in checkouts for v in variants for w in counts]
        for checkout, variant, workers in (order if round_ % 2 == 0 else order[::-1]):
            summary += measure(checkout, args.data_dir, args.database, token, workers, args, py_spy, variant)
            py_spy = None
    print("\nsummary (round by round):")
    for line in summary:
        print("  " + line)


if __name__ == "__main__":
    main()
