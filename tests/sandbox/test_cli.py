"""``polycrm snapshot|journal|faults|limits``: the admin services from the command line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from polycrm.cli import cli
from polycrm.core import customers
from polycrm.core.workspace import Workspace

runner = CliRunner()


@pytest.fixture
def run(runtime, tenant):
    def invoke(*args: str, tenant_name: str | None = None):
        return runner.invoke(cli, [*args, "--tenant", tenant_name or tenant["tenant"], "--database", runtime.db.url],
                             catch_exceptions=False)

    return invoke


def test_snapshot_commands(runtime, run, tenant):
    saved = run("snapshot", "save", "cli-1", "--json")
    assert saved.exit_code == 0, saved.output
    assert json.loads(saved.stdout)["name"] == "cli-1"
    assert [s["name"] for s in json.loads(run("snapshot", "list", "--json").stdout)["snapshots"]] == ["cli-1"]
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        customers.create(ws, {"name": "Later"})
    assert json.loads(run("snapshot", "restore", "cli-1", "--json").stdout)["restored"] == "cli-1"
    assert json.loads(run("snapshot", "reset", "empty", "--json").stdout) == {"reset": "empty"}
    assert run("snapshot", "delete", "cli-1").stdout.strip() == "deleted cli-1"
    assert run("snapshot", "list").stdout.strip() == "no snapshots"


def test_snapshot_errors(run):
    missing = run("snapshot", "restore", "nope")
    assert missing.exit_code == 1 and missing.stderr.strip() == "error: no snapshot named 'nope'"
    reserved = run("snapshot", "save", "demo")
    assert reserved.exit_code == 1 and reserved.stderr.strip() == "error: name 'demo' is reserved (a reset target)"
    unknown = run("snapshot", "list", tenant_name="no-such-tenant")
    assert unknown.exit_code == 1 and unknown.stderr.strip() == "error: no tenant named 'no-such-tenant'"


def test_journal_commands(client, run, tenant):
    client.get("/cirrus/accounts/", headers={"X-Token": tenant["cirrus"]["x_token"]})
    from polycrm.sandbox.middleware import writer_for

    writer_for(client.app.state.runtime).flush()
    listed = json.loads(run("journal", "list", "--json", "--api", "cirrus").stdout)
    assert [e["operation"] for e in listed["entries"]] == ["get_account_collection"]
    assert "get_account_collection" in run("journal", "list").stdout
    har = json.loads(run("journal", "har").stdout)
    assert har["log"]["version"] == "1.2" and len(har["log"]["entries"]) == 1
    bad = run("journal", "list", "--status", "abc")
    assert bad.exit_code == 1 and bad.stderr.strip() == "error: status must be a whole number"
    assert json.loads(run("journal", "clear", "--json").stdout) == {"deleted": 1}


def test_faults_commands(run):
    set_ = run("faults", "set", '[{"api": "cirrus", "status": 503}]', "--json")
    assert set_.exit_code == 0, set_.output
    assert json.loads(set_.stdout)["rules"][0]["status"] == 503
    assert json.loads(run("faults", "show", "--json").stdout)["rules"][0]["hits"] == 0
    bad = run("faults", "set", '[{"status": 9}]')
    assert bad.exit_code == 1 and bad.stderr.strip() == "error: status must be between 100 and 599"
    not_json = run("faults", "set", "[")
    assert not_json.exit_code == 1 and not_json.stderr.strip() == "error: the rules are not valid JSON"
    assert json.loads(run("faults", "clear", "--json").stdout) == {"rules": []}


def test_limits_commands(run, tmp_path):
    path = tmp_path / "limits.json"
    path.write_text('{"api": "centia", "per_minute": 60}')
    set_ = run("limits", "set", f"@{path}", "--json")
    assert json.loads(set_.stdout) == {"limits": [{"api": "centia", "per_second": None, "per_minute": 60,
                                                   "burst": None}]}
    assert "centia" in run("limits", "show").stdout
    bad = run("limits", "set", '{"api": "centia"}')
    assert bad.exit_code == 1 and bad.stderr.strip() == "error: a limit needs per_second or per_minute"
    assert json.loads(run("limits", "clear", "--json").stdout) == {"limits": []}
