"""The ``polycrm`` command line."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from pathlib import Path
from typing import Optional

import orjson
import typer

from polycrm.cli_common import DATABASE_OPTION, open_runtime

cli = typer.Typer(help="polycrm: one CRM behind the Microbizz, Cirrus 2 and centiaCRM APIs.", no_args_is_help=True)
tenant_cli = typer.Typer(help="Manage tenants.", no_args_is_help=True)
db_cli = typer.Typer(help="Manage the database.", no_args_is_help=True)
cli.add_typer(tenant_cli, name="tenant")
cli.add_typer(db_cli, name="db")
from polycrm.platform.cli import app_cli, webhook_cli  # noqa: E402
cli.add_typer(webhook_cli, name="webhook")
cli.add_typer(app_cli, name="app")
from polycrm.oauth.cli import oauth_cli  # noqa: E402
cli.add_typer(oauth_cli, name="oauth")
from polycrm.sandbox.cli import faults_cli, journal_cli, limits_cli, snapshot_cli  # noqa: E402

for _name, _group in (("snapshot", snapshot_cli), ("journal", journal_cli), ("faults", faults_cli),
                      ("limits", limits_cli)):
    cli.add_typer(_group, name=_name)


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    database: Optional[str] = DATABASE_OPTION,
    demo: bool = typer.Option(False, "--demo", help="Make sure the demo tenant with sample data exists."),
    workers: int = typer.Option(1, "--workers", min=1,
                                help="Server processes sharing the port; every piece of state is in the database."),
    http: str = typer.Option("httptools", "--http", help="HTTP parser: httptools (C, the faster) or h11 (pure Python)."),
    access_log: bool = typer.Option(False, "--access-log/--no-access-log",
                                    help="A line per request on the console (the sandbox journal records every API "
                                         "request either way)."),
) -> None:
    """Run the server."""

    import uvicorn

    from polycrm.http_limits import HTTP_PARSERS, uvicorn_options

    if http not in HTTP_PARSERS:
        typer.echo(f"error: --http must be one of {', '.join(HTTP_PARSERS)}", err=True)
        raise typer.Exit(2)

    from polycrm.app import create_app
    from polycrm.core import demo as demo_tenant

    rt = open_runtime(database)
    if demo:
        # The demo is a local sandbox: its webhooks and apps may live on this machine.
        os.environ.setdefault("POLYCRM_WEBHOOK_ALLOW_PRIVATE", "1")
    if demo and demo_tenant.ensure(rt.db, rt.blobs):
        typer.echo("created the demo tenant (Microbizz contract 1000, apikey demo-apikey, user demo/demo)", err=True)
    options = {**uvicorn_options(rt.settings, http), "access_log": access_log}
    if workers > 1:
        # Each worker process builds its own app from the environment (docs/deployment.md):
        # point them at the database and data folder this process resolved and migrated.
        os.environ["POLYCRM_DATABASE_URL"] = rt.settings.resolved_database_url()
        os.environ["POLYCRM_DATA_DIR"] = str(rt.settings.data_dir.resolve())
        rt.db.dispose()
        _serve_workers(workers, host, port, options)
        return
    app = create_app(rt.settings, rt.db)
    _tune_garbage_collector()
    uvicorn.run(app, host=host, port=port, log_level="info", **options)


WORKER_HEALTHCHECK_SECONDS = 60


def _serve_workers(workers: int, host: str, port: int, options: dict) -> None:
    """uvicorn's process manager over listening sockets made here.

    ``uvicorn.run(workers=N)`` binds ``socket.socket(family)``, whose protocol
    number is 0; asyncio then leaves TCP_NODELAY off on the connections it
    accepts (it sets it only for sockets that say IPPROTO_TCP), and every
    response on a kept-alive connection waited about 40 ms for the client's
    delayed ACK (measured: 48 ms a request with 2 workers, 15 ms with 1). A
    socket made with the protocol given gets TCP_NODELAY like a single
    server's connections.

    On Linux each worker listens on a socket of its own (SO_REUSEPORT, see
    :class:`_SocketOfEachWorker`): the kernel spreads new connections over
    the workers. On one shared socket every worker is woken for a new
    connection and the first to run accepts all that wait, so a client that
    opens its kept-alive connections at once (a proxy's pool, wrk) had them
    all on one process while the other idled (docs/benchmarks.md, issue 12,
    2026-12-04)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    # A worker answers the supervisor's health check only once it has imported
    # everything; on a loaded machine that took more than uvicorn's 5 s, and
    # every worker was killed and restarted in a loop.
    config = uvicorn.Config("polycrm.app:worker_app", factory=True, workers=workers, host=host, port=port,
                            log_level="info", timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS, **options)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    per_worker = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")
    try:
        # With a socket per worker this one only holds the address (and the
        # port, when 0 asked for any): bound, never listening, it is given no
        # connections.
        sock = _tcp_socket(family, host, port, reuse_port=per_worker)
    except OSError as exc:
        typer.echo(f"error: cannot listen on {host}:{port}: {exc.strerror}", err=True)
        raise typer.Exit(1) from None
    bound = sock.getsockname()[1]
    typer.echo(f"polycrm: {workers} worker processes on http://{host}:{bound}", err=True)
    if per_worker:
        sockets: list[socket.socket] = _SocketOfEachWorker(sock, family, host, bound)
    else:
        sock.set_inheritable(True)
        sockets = [sock]
    Multiprocess(config, sockets=sockets).run()


def _tcp_socket(family: int, host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A TCP socket bound to ``(host, port)``, its protocol named (TCP_NODELAY, above)."""
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


class _SocketOfEachWorker(list):
    """The supervisor's socket list, which each worker unpickles (uvicorn's
    workers are spawned, their arguments pickled) as a new SO_REUSEPORT
    socket bound to the same address: every worker then listens on its own
    socket, and the kernel hands each new connection to one of them (by a
    hash of its addresses). A worker restarted by the supervisor binds a new
    one; connections still waiting in a stopped worker's queue are reset,
    as with any SO_REUSEPORT server."""

    def __init__(self, holder: socket.socket, family: int, host: str, port: int):
        super().__init__([holder])
        self.address = (family, host, port)

    def __reduce__(self):
        return _worker_sockets, self.address


def _worker_sockets(family: int, host: str, port: int) -> list[socket.socket]:
    return [_tcp_socket(family, host, port, reuse_port=True)]


def _tune_garbage_collector() -> None:
    """Fewer cyclic GC passes while serving or loading.

    A page of a sync builds tens of thousands of short-lived objects (ORM rows,
    JSON dicts), which with the default threshold (700) trigger a collection
    every few rows; each pass also walks the long-lived objects of the loaded
    code unless they are frozen first. Measured on a 20,000-customer
    ``GetCustomersByLastChange`` sync in-process: 2.18 s -> 1.83 s. A load
    keeps a batch of rows (dicts, tuples) alive while it makes the next.
    """
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


@tenant_cli.command("create")
def tenant_create(
    name: str,
    as_json: bool = typer.Option(False, "--json", help="Print the credentials as one JSON object."),
    database: Optional[str] = DATABASE_OPTION,
) -> None:
    """Create an empty tenant with an admin user and print its credentials."""
    from polycrm.core import tenants
    from polycrm.core.errors import CoreError

    rt = open_runtime(database)
    try:
        creds = tenants.create(rt.db, tenants.NewTenant(name=name))
    except CoreError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    finally:
        rt.db.dispose()
    public = {k: creds[k] for k in ("tenant", "microbizz", "cirrus", "centia", "admin")}
    if as_json:
        typer.echo(orjson.dumps(public).decode())
    else:
        for api, values in public.items():
            typer.echo(f"{api}: {values}")


@cli.command()
def load(
    file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                help="Fixture file: JSON (canonical model), JSON Lines or CSV."),
    tenant: str = typer.Option(..., "--tenant", help="Name of the tenant to load into."),
    entity: Optional[str] = typer.Option(
        None, "--entity", help="Section the rows of a CSV or JSON Lines file belong to (e.g. customers)."),
    database: Optional[str] = DATABASE_OPTION,
) -> None:
    """Load fixture records into a tenant, all or nothing."""
    import time

    from polycrm.core import fixture_files, fixtures, tenants
    from polycrm.core.errors import CoreError

    started = time.perf_counter()
    try:
        source = fixture_files.open_source(file, entity)
    except (OSError, fixture_files.FileError) as exc:
        typer.echo(f"error: {file}: {exc}", err=True)
        raise typer.Exit(1) from None
    except CoreError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    rt = open_runtime(database)
    _tune_garbage_collector()
    try:
        with _load_progress(source) as progress, tenants.workspace(rt.db, tenant, rt.blobs) as ws:
            counts = fixtures.Loader(ws, progress=progress).load_source(source)
    except LookupError as exc:
        typer.echo(f"error: {exc.args[0]}", err=True)
        raise typer.Exit(1) from None
    except CoreError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    except fixture_files.FileError as exc:
        typer.echo(f"error: {file}: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        rt.db.dispose()
    seconds = time.perf_counter() - started
    rows = sum(counts.values())
    typer.echo(", ".join(f"{n} {k}" for k, n in counts.items()) or "nothing to load")
    typer.echo(f"loaded {rows:,} rows in {seconds:.1f} s ({rows / max(seconds, 1e-9):,.0f} rows/s)", err=True)


@contextlib.contextmanager
def _load_progress(source):
    """A progress bar on stderr when it is a terminal (how far into the file, rows so far); else nothing."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TextColumn("{task.fields[rows]:,} rows"), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("loading", total=source.size, rows=0)

        def progress(section: str, rows: int) -> None:
            bar.update(task, description=section, completed=source.position(), rows=rows)

        yield progress


@db_cli.command("upgrade")
def db_upgrade(database: Optional[str] = DATABASE_OPTION) -> None:
    """Apply the database migrations."""
    rt = open_runtime(database)
    rt.db.dispose()
    typer.echo(f"database at {rt.db.engine.url.render_as_string(hide_password=True)} is up to date")


def main() -> None:
    cli(prog_name="polycrm")


if __name__ == "__main__":
    sys.exit(main())
