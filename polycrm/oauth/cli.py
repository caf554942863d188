"""``polycrm oauth client add|list|remove``: OAuth apps of a tenant."""

from __future__ import annotations

from typing import Optional

import typer

from polycrm.cli_common import DATABASE_OPTION, TENANT_OPTION, print_answer, tenant_runtime, transaction

oauth_cli = typer.Typer(help="OAuth apps (authorization code + PKCE) for the Cirrus API.", no_args_is_help=True)
client_cli = typer.Typer(help="Register, list and remove OAuth clients.", no_args_is_help=True)
oauth_cli.add_typer(client_cli, name="client")


@client_cli.command("add")
def client_add(
    tenant: str = TENANT_OPTION,
    redirect_uri: list[str] = typer.Option(..., "--redirect-uri", help="An exact redirect URI (repeatable)."),
    public: bool = typer.Option(False, "--public", help="A public client: no secret, PKCE required."),
    name: str = typer.Option("", "--name", help="Shown on the consent page."),
    as_json: bool = typer.Option(False, "--json", help='Print {"client_id", "client_secret"} as JSON.'),
    database: Optional[str] = DATABASE_OPTION,
) -> None:
    """Register an OAuth client; its secret is printed once (null for a public client)."""
    from polycrm.oauth import service

    with tenant_runtime(database, tenant) as (rt, tenant_id), transaction(rt.db) as session:
        client, secret = service.add_client(session, tenant_id, redirect_uri, public=public, name=name)
        out = {"client_id": client.client_id, "client_secret": secret}
    print_answer(out, as_json)


@client_cli.command("list")
def client_list(
    tenant: str = TENANT_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the clients as a JSON list."),
    database: Optional[str] = DATABASE_OPTION,
) -> None:
    """The tenant's OAuth clients (never their secrets)."""
    from polycrm.oauth import service

    with tenant_runtime(database, tenant) as (rt, tenant_id), transaction(rt.db) as session:
        out = [service.describe(c) for c in service.clients(session, tenant_id)]
    print_answer(out, as_json)


@client_cli.command("remove")
def client_remove(
    client_id: str = typer.Argument(..., help="The client_id to remove."),
    tenant: str = TENANT_OPTION,
    database: Optional[str] = DATABASE_OPTION,
) -> None:
    """Remove a client: its secret and every token issued to it stop working."""
    from polycrm.oauth import service

    with tenant_runtime(database, tenant) as (rt, tenant_id), transaction(rt.db) as session:
        service.remove_client(session, tenant_id, client_id)
    typer.echo(f"removed {client_id}")
