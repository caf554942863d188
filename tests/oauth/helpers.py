"""Shared pieces of the OAuth app tests: the CLI and client authentication."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

from typer.testing import CliRunner

from polycrm.cli import cli

runner = CliRunner()
REDIRECT = "https://app.example/callback"


def run_cli(runtime, *args: str):
    return runner.invoke(cli, [*args, "--database", runtime.db.url], catch_exceptions=False)


def add_client(runtime, tenant, *, public=False, redirect=REDIRECT) -> dict:
    args = ["oauth", "client", "add", "--tenant", tenant["tenant"], "--redirect-uri", redirect, "--json"]
    result = run_cli(runtime, *args, *(["--public"] if public else []))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def basic(client: dict) -> dict[str, str]:
    raw = f"{quote(client['client_id'], safe='')}:{quote(client['client_secret'], safe='')}"
    return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


def client_credentials_token(http, client: dict) -> str:
    r = http.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(client))
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def introspect(http, client: dict, token: str) -> dict:
    r = http.post("/oauth/introspect", data={"token": token}, headers=basic(client))
    assert r.status_code == 200, r.text
    return r.json()
