"""Two real server processes on one database: each event is delivered once.

Both processes run their own delivery thread (the app's lifespan); changes
are made through both, and the receiver counts what arrives.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import httpx

from polycrm.core.auth import system_session
from polycrm.platform import webhooks
from tests.platform.receiver import Receiver
from tests.test_cli import free_port, polycrm_command


def start_server(runtime, tmp_path, name: str) -> tuple[subprocess.Popen, int, object]:
    port = free_port()
    log = tmp_path / f"{name}.log"
    env = {**os.environ, "POLYCRM_DATA_DIR": str(runtime.settings.data_dir), "POLYCRM_WEBHOOK_POLL_S": "0.05"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*polycrm_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--database", runtime.db.url],
            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            httpx.get(f"http://127.0.0.1:{port}/signin", timeout=5)
            return proc, port, log
        except httpx.TransportError:
            time.sleep(0.25)
    proc.kill()
    raise AssertionError(f"server {name} never answered:\n{log.read_text(errors='replace')}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_two_server_processes_deliver_each_event_once(runtime, tenant, tmp_path):
    receiver = Receiver()
    with system_session(runtime.db) as session, session.begin():
        webhooks.add(session, tenant["tenant_id"], receiver.url(), "polycrm")
    servers = [start_server(runtime, tmp_path, "a"), start_server(runtime, tmp_path, "b")]
    try:
        mb = tenant["microbizz"]
        made = []
        for n in range(16):
            port = servers[n % 2][1]
            envelope = {"contract": mb["contract"], "apikey": mb["apikey"], "username": mb["username"],
                        "password": mb["password"],
                        "commands": [{"command": "CreateUpdateCustomerByID", "customer": {"id": 0, "name": f"c{n}"}}]}
            answer = httpx.post(f"http://127.0.0.1:{port}/api/endpoint.php", data={"json": json.dumps(envelope)},
                                timeout=30).json()
            made.append(int(answer["results"][0]["customer"]["id"]))
        receiver.wait_for(len(made), within_s=60)
        time.sleep(1.0)  # a second copy of anything would arrive by now
    finally:
        for proc, _port, _log in servers:
            stop(proc)
        receiver.close()
    ids = sorted(json.loads(r.body)["data"]["id"] for r in receiver.received)
    assert ids == sorted(made), [log.read_text(errors="replace")[-2000:] for _p, _port, log in servers]
    assert len({r.headers["webhook-id"] for r in receiver.received}) == len(made)
