"""``polycrm snapshot|journal|faults|limits ...``: the admin API's services from the command line.

Every command names its tenant with ``--tenant`` and prints JSON with
``--json`` (the admin API's answer), text otherwise. Errors go to stderr with
exit code 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import orjson
import typer

from polycrm.cli_common import DATABASE_OPTION, JSON_OPTION, TENANT_OPTION, fail, print_answer, tenant_runtime

snapshot_cli = typer.Typer(help="Save, list, restore and delete snapshots of a tenant; reset it.", no_args_is_help=True)
journal_cli = typer.Typer(help="The request journal of a tenant: list, export as HAR, clear.", no_args_is_help=True)
faults_cli = typer.Typer(help="Injected faults of a tenant: set, show, clear.", no_args_is_help=True)
limits_cli = typer.Typer(help="Emulated rate limits of a tenant: set, show, clear.", no_args_is_help=True)


def _json_argument(raw: str) -> Any:
    """A JSON text, or ``@file`` with one."""
    text = Path(raw[1:]).read_text(encoding="utf-8") if raw.startswith("@") else raw
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        fail("the rules are not valid JSON")


# -- snapshot ---------------------------------------------------------------------------
@snapshot_cli.command("save")
def snapshot_save(name: str, tenant: str = TENANT_OPTION, as_json: bool = JSON_OPTION,
                  database: Optional[str] = DATABASE_OPTION) -> None:
    """Save the tenant's whole state under NAME (a taken name is replaced)."""
    from polycrm.sandbox import snapshots

    with tenant_runtime(database, tenant) as (rt, tenant_id):
        made = snapshots.save(rt.db, tenant_id, snapshots.check_name(name))
    print_answer(made, as_json, lambda m: f"saved {m['name']}: {m['rows']} rows, {m['size']} bytes")


@snapshot_cli.command("list")
def snapshot_list(tenant: str = TENANT_OPTION, as_json: bool = JSON_OPTION,
                  database: Optional[str] = DATABASE_OPTION) -> None:
    """List the tenant's snapshots, oldest first."""
    from polycrm.sandbox import snapshots

    with tenant_runtime(database, tenant) as (rt, tenant_id):
        found = snapshots.listing(rt.db, tenant_id)
    print_answer({"snapshots": found}, as_json, lambda v: "\n".join(
        f"{s['name']}\t{s['created_at']}\t{s['rows']} rows" for s in v["snapshots"]) or "no snapshots")


@snapshot_cli.command("restore")
def snapshot_restore(name: str, tenant: str = TENANT_OPTION, as_json: bool = JSON_OPTION,
                     database: Optional[str] = DATABASE_OPTION) -> None:
    """Put the tenant back into the state saved under NAME."""
    from polycrm.sandbox import snapshots

    with tenant_runtime(database, tenant) as (rt, tenant_id):
        done = snapshots.restore(rt.db, tenant_id, name)
    print_answer({"restored": done["name"], "rows": done["rows"]}, as_json, lambda d: f"restored {d['restored']}")


@snapshot_cli.command("delete")
def snapshot_delete(name: str, tenant: str = TENANT_OPTION, as_json: bool = JSON_OPTION,
                    database: Optional[str] = DATABASE_OPTION) -> None:
    """Delete the snapshot NAME."""
    from polycrm.sandbox import snapshots

    with tenant_runtime(database, tenant) as (rt, tenant_id):
        snapshots.remove(rt.db, tenant_id, name)
    print_answer({"deleted": name}, as_json, lambda d: f"deleted {d['deleted']}")


@snapshot_cli.command("reset")
def snapshot_reset(to: str = typer.Argument(..., help='"empty", "demo" or a snapshot name.'),
                   tenant: str = TENANT_OPTION, as_json: bool = JSON_OPTION,
                   database: Optional[str] = DATABASE_OPTION) -> None:
    """Reset the tenant to empty, to the demo data or to a snapshot."""
    from polycrm.sandbox import snapshots

    with tenant_runtime(database, tenant) as (rt, tenant_id):
        snapshots.reset(rt.db, tenant_id, to, rt.blobs)
    print_answer({"reset": to}, as_json, lambda d: f"reset to {d['reset']}")


# -- journal ------------------------------------------------------------------------------
@journal_cli.command("list")
def journal_list(
    tenant: str = TENANT_OPTION, as_json: bool = JSON_OPTION, database: Optional[str] = DATABASE_OPTION,
    api: Optional[str] = typer.Option(None, help="microbizz, cirrus, centia or oauth"),
    operation: Optional[str] = typer.Option(None, help="operation name; * matches anything"),
    status: Optional[str] = typer.Option(None, help="a status (404) or a class (4xx)"),
    since: Optional[str] = typer.Option(None, help="ISO time"),
    limit: int = typer.Option(50, help="entries (1-1000)"),
    before: Optional[int] = typer.Option(None, help="entries older than this id (the next page)"),
) -> None:
    """The journal's entries, newest first."""
    from polycrm.sandbox import journal

    filters = {k: str(v) for k, v in dict(api=api, operation=operation, status=status, since=since,
                                          limit=limit, before=before).items() if v is not None}
    with tenant_runtime(database, tenant) as (rt, tenant_id):
        page = journal.entries(rt.db, tenant_id, filters)
    print_answer(page, as_json, lambda p: "\n".join(
        f"{e['id']}\t{e['at']}\t{e['api']}\t{e['operation']}\t{e['response']['status']}\t{e['duration_ms']:.1f} ms"
        for e in p["entries"]) or "no entries")


@journal_cli.command("har")
def journal_har(tenant: str = TENANT_OPTION, limit: int = typer.Option(1000, help="entries (1-1000)"),
                database: Optional[str] = DATABASE_OPTION) -> None:
    """Print the newest entries as a HAR 1.2 log."""
    from polycrm.sandbox import journal
    from polycrm.sandbox.http import polycrm_version

    with tenant_runtime(database, tenant) as (rt, tenant_id):
        page = journal.entries(rt.db, tenant_id, {"limit": str(limit)})
    typer.echo(orjson.dumps(journal.har(page, polycrm_version())).decode())


@journal_cli.command("clear")
def journal_clear(tenant: str = TENANT_OPTION, as_json: bool = JSON_OPTION,
                  database: Optional[str] = DATABASE_OPTION) -> None:
    """Delete the tenant's journal."""
    from polycrm.sandbox import journal

    with tenant_runtime(database, tenant) as (rt, tenant_id):
        deleted = journal.clear(rt.db, tenant_id)
    print_answer({"deleted": deleted}, as_json, lambda d: f"deleted {d['deleted']} entries")


# -- faults and limits ---------------------------------------------------------------------
def _rules_text(value: dict[str, Any]) -> str:
    rules = value["rules"]
    return "\n".join(orjson.dumps(r).decode() for r in rules) or "no rules"


@faults_cli.command("set")
def faults_set(rules: str = typer.Argument(..., help="JSON list of rules, or @file"),
               tenant: str = TENANT_OPTION, as_json: bool = JSON_OPTION,
               database: Optional[str] = DATABASE_OPTION) -> None:
    """Replace the tenant's fault rules."""
    from polycrm.sandbox import traffic

    body = _json_argument(rules)
    with tenant_runtime(database, tenant) as (rt, tenant_id):
        found = traffic.set_faults(rt.db, tenant_id, body)
    print_answer({"rules": found}, as_json, _rules_text)


@faults_cli.command("show")
def faults_show(tenant: str = TENANT_OPTION, as_json: bool = JSON_OPTION,
                database: Optional[str] = DATABASE_OPTION) -> None:
    """The tenant's fault rules with their counts."""
    from polycrm.sandbox import traffic

    with tenant_runtime(database, tenant) as (rt, tenant_id):
        found = traffic.faults(rt.db, tenant_id)
    print_answer({"rules": found}, as_json, _rules_text)


@faults_cli.command("clear")
def faults_clear(tenant: str = TENANT_OPTION, as_json: bool = JSON_OPTION,
                 database: Optional[str] = DATABASE_OPTION) -> None:
    """Remove every fault rule of the tenant."""
    from polycrm.sandbox import traffic

    with tenant_runtime(database, tenant) as (rt, tenant_id):
        traffic.clear_faults(rt.db, tenant_id)
    print_answer({"rules": []}, as_json, lambda _v: "no rules")


def _limits_text(value: dict[str, Any]) -> str:
    return "\n".join(orjson.dumps(x).decode() for x in value["limits"]) or "no limits"


@limits_cli.command("set")
def limits_set(limits: str = typer.Argument(..., help="JSON limit or list of limits, or @file"),
               tenant: str = TENANT_OPTION, as_json: bool = JSON_OPTION,
               database: Optional[str] = DATABASE_OPTION) -> None:
    """Set rate limits of the APIs named."""
    from polycrm.sandbox import traffic

    body = _json_argument(limits)
    with tenant_runtime(database, tenant) as (rt, tenant_id):
        found = traffic.set_limits(rt.db, tenant_id, body)
    print_answer({"limits": found}, as_json, _limits_text)


@limits_cli.command("show")
def limits_show(tenant: str = TENANT_OPTION, as_json: bool = JSON_OPTION,
                database: Optional[str] = DATABASE_OPTION) -> None:
    """The tenant's rate limits."""
    from polycrm.sandbox import traffic

    with tenant_runtime(database, tenant) as (rt, tenant_id):
        found = traffic.rate_limits(rt.db, tenant_id)
    print_answer({"limits": found}, as_json, _limits_text)


@limits_cli.command("clear")
def limits_clear(tenant: str = TENANT_OPTION, api: Optional[str] = typer.Option(None, help="only this API"),
                 as_json: bool = JSON_OPTION, database: Optional[str] = DATABASE_OPTION) -> None:
    """Remove the tenant's rate limits (of one API with --api)."""
    from polycrm.sandbox import traffic

    with tenant_runtime(database, tenant) as (rt, tenant_id):
        traffic.clear_limits(rt.db, tenant_id, api)
        found = traffic.rate_limits(rt.db, tenant_id)
    print_answer({"limits": found}, as_json, _limits_text)
