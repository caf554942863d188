"""The package builds into a wheel that runs from a clean venv: templates,
static files, migrations and the demo data are inside it.

Marked ``wheel``: it runs in the suite (uv's local cache makes it take
seconds, not minutes); ``-m "not wheel"`` leaves it out.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.wheel
def test_the_wheel_installs_into_a_clean_venv_and_serves_the_demo(tmp_path):
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed (the test builds and installs with uv)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POLYCRM_", "VIRTUAL_ENV", "UV_PROJECT"))}
    run = lambda *args: subprocess.run(args, check=True, capture_output=True, env=env, cwd=tmp_path)  # noqa: E731
    run(uv, "build", "--wheel", "--out-dir", str(tmp_path / "dist"), str(REPO))
    [wheel] = (tmp_path / "dist").glob("polycrm-*.whl")
    run(uv, "venv", "--python", sys.executable, str(tmp_path / "venv"))
    run(uv, "pip", "install", "--python", str(tmp_path / "venv" / "bin" / "python"), str(wheel))

    port = _free_port()
    data = tmp_path / "data"
    log = open(tmp_path / "server.log", "wb")
    server = subprocess.Popen([str(tmp_path / "venv" / "bin" / "polycrm"), "serve", "--demo", "--port", str(port)],
                              cwd=tmp_path, env={**env, "POLYCRM_DATA_DIR": str(data)}, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            try:
                httpx.get(base + "/signin", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        sign_in = httpx.get(base + "/signin")
        assert sign_in.status_code == 200 and "<form" in sign_in.text  # templates
        assert httpx.get(base + "/static/style.css").status_code == 200  # static files
        envelope = {"contract": 1000, "apikey": "demo-apikey", "username": "demo", "password": "demo",
                    "commands": [{"command": "Echo"}]}
        assert httpx.post(base + "/api/endpoint.php", data={"json": json.dumps(envelope)}).json()["status"] == 1
        accounts = httpx.get(base + "/cirrus/accounts/", headers={"X-Token": "demo-token"}).json()
        assert accounts["total"] > 0  # migrations ran, the demo data is in
        admin = httpx.get(base + "/_polycrm/journal", headers={"Authorization": "Bearer demo-admin"})
        assert admin.status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()
