"""``polycrm webhook ...``: register hooks, read the delivery log, replay one."""

from __future__ import annotations

from typing import Optional

import typer

from polycrm.cli_common import DATABASE_OPTION, TENANT_OPTION, fail, print_answer, tenant_runtime, transaction

webhook_cli = typer.Typer(help="Webhooks: polycrm (Standard Webhooks) and Cirrus (X-Hook-Signature).", no_args_is_help=True)


@webhook_cli.command("add")
def add(
    tenant: str = TENANT_OPTION,
    url: str = typer.Option(..., "--url", help="Where to POST events (http or https)."),
    api: str = typer.Option(..., "--api", help="Payload and signature format: polycrm or cirrus."),
    events: str = typer.Option("", "--events", help="Comma-separated events (default: all of that API)."),
    as_json: bool = typer.Option(False, "--json", help='Print {"id", "secret"} as JSON.'),
    database: Optional[str] = DATABASE_OPTION,
) -> None:
    """Register a webhook and print its id and signing secret."""
    from polycrm.platform import webhooks

    with tenant_runtime(database, tenant) as (rt, tenant_id), transaction(rt.db) as session:
        hook, secret = webhooks.add(session, tenant_id, url, api, events.split(","))
    print_answer({"id": hook.id, "secret": secret}, as_json)


@webhook_cli.command("list")
def list_hooks(
    tenant: str = TENANT_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list."),
    database: Optional[str] = DATABASE_OPTION,
) -> None:
    """The tenant's webhooks (secrets are not shown again)."""
    from polycrm.platform import webhooks

    with tenant_runtime(database, tenant) as (rt, tenant_id), transaction(rt.db) as session:
        listed = [webhooks.describe(h) for h in webhooks.hooks(session, tenant_id)]
    print_answer(listed, as_json)


@webhook_cli.command("remove")
def remove(
    hook_id: int = typer.Argument(..., help="The webhook's id."),
    tenant: str = TENANT_OPTION,
    database: Optional[str] = DATABASE_OPTION,
) -> None:
    """Remove a webhook and its delivery log."""
    from polycrm.platform import webhooks

    with tenant_runtime(database, tenant) as (rt, tenant_id), transaction(rt.db) as session:
        webhooks.remove(session, tenant_id, hook_id)
    typer.echo(f"removed webhook {hook_id}")


@webhook_cli.command("deliveries")
def deliveries(
    tenant: str = TENANT_OPTION,
    failed: bool = typer.Option(False, "--failed", help="Only deliveries that gave up or whose hook was disabled."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list."),
    database: Optional[str] = DATABASE_OPTION,
) -> None:
    """The delivery log, newest first: event, target, attempts, last status, excerpt, next try."""
    from polycrm.platform import webhooks

    with tenant_runtime(database, tenant) as (rt, tenant_id), transaction(rt.db) as session:
        listed = webhooks.deliveries(session, tenant_id, failed=failed)
    print_answer(listed, as_json)


@webhook_cli.command("replay")
def replay(
    delivery_id: int = typer.Argument(..., help="The delivery to send again."),
    tenant: str = TENANT_OPTION,
    as_json: bool = typer.Option(False, "--json", help='Print {"id"} of the new delivery.'),
    database: Optional[str] = DATABASE_OPTION,
) -> None:
    """Queue one delivery again (a running server sends it)."""
    from polycrm.platform import webhooks

    with tenant_runtime(database, tenant) as (rt, tenant_id), transaction(rt.db) as session:
        new_id = webhooks.replay(session, tenant_id, delivery_id)
    print_answer({"id": new_id}, as_json)


app_cli = typer.Typer(help="Microbizz apps: register them, connect them (the app connect step).", no_args_is_help=True)


@app_cli.command("register")
def app_register(
    tenant: str = TENANT_OPTION,
    publicid: str = typer.Option(..., "--publicid", help="The app's public id."),
    secret: str = typer.Option(..., "--secret", help="The app's secret (checks its negotiation answer)."),
    title: str = typer.Option("", "--title", help="Shown to users who connect it."),
    as_json: bool = typer.Option(False, "--json", help='Print {"publicid", "title"} as JSON.'),
    database: Optional[str] = DATABASE_OPTION,
) -> None:
    """Register a Microbizz app for a tenant."""
    from polycrm.platform import apps

    with tenant_runtime(database, tenant) as (rt, tenant_id), transaction(rt.db) as session:
        app = apps.register(session, tenant_id, publicid, secret, title)
        out = {"publicid": app.publicid, "title": app.title}
    print_answer(out, as_json)


@app_cli.command("connect")
def app_connect(
    tenant: str = TENANT_OPTION,
    request: str = typer.Option(..., "--request", help="The app's request JSON: {publicid, negotiateurl, returnurl, hooks}."),
    endpoint: str = typer.Option(
        "http://127.0.0.1:8000/api/endpoint.php", "--endpoint", help="The API URL the app is told to call.",
    ),
    as_json: bool = typer.Option(False, "--json", help='Print {"ok": true, "accesstoken"} as JSON.'),
    database: Optional[str] = DATABASE_OPTION,
) -> None:
    """Run the app connect step as the tenant's first admin (for scripts and tests)."""
    from polycrm.core import auth
    from polycrm.platform import apps

    with tenant_runtime(database, tenant) as (rt, tenant_id):
        with auth.system_session(rt.db) as session:
            admin_id = auth.first_admin_id(session, tenant_id)
        try:
            _connection, token = apps.connect(rt.db, tenant_id, admin_id, request, endpoint)
        except apps.ConnectFailed as exc:
            fail(exc.reason)
    print_answer({"ok": True, "accesstoken": token}, as_json)
