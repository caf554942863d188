"""``polycrm oauth client add|list|remove``: OAuth apps of a tenant."""

from __future__ import annotations

from typing import Optional

import typer

from polycrm.platform.cli import DATABASE_OPTION, TENANT_OPTION, _fail, _open, _print, _transaction

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
    from polycrm.core.errors import CoreError
    from polycrm.oauth import service

    rt, tenant_id = _open(database, tenant)
    try:
        with _transaction(rt.db) as session:
            client, secret = service.add_client(session, tenant_id, redirect_uri, public=public, name=name)
            out = {"client_id": client.client_id, "client_secret": secret}
    except CoreError as exc:
        _fail(exc)
    finally:
        rt.db.dispose()
    _print(out, as_json)


@client_cli.command("list")
def client_list(
    tenant: str = TENANT_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the clients as a JSON list."),
    database: Optional[str] = DATABASE_OPTION,
) -> None:
    """The tenant's OAuth clients (never their secrets)."""
    from polycrm.oauth import service

    rt, tenant_id = _open(database, tenant)
    try:
        with _transaction(rt.db) as session:
            out = [service.describe(c) for c in service.clients(session, tenant_id)]
    finally:
        rt.db.dispose()
    _print(out, as_json)


@client_cli.command("remove")
def client_remove(
    client_id: str = typer.Argument(..., help="The client_id to remove."),
    tenant: str = TENANT_OPTION,
    database: Optional[str] = DATABASE_OPTION,
) -> None:
    """Remove a client: its secret and every token issued to it stop working."""
    from polycrm.core.errors import CoreError
    from polycrm.oauth import service

    rt, tenant_id = _open(database, tenant)
    try:
        with _transaction(rt.db) as session:
            service.remove_client(session, tenant_id, client_id)
    except CoreError as exc:
        _fail(exc)
    finally:
        rt.db.dispose()
    typer.echo(f"removed {client_id}")
