"""The ``leadroute`` command line."""

import json
from typing import Annotated

import typer
from rich.console import Console

from leadroute.cli_ops.assign import assign
from leadroute.cli_ops.demo import demo
from leadroute.cli_ops.jobs import jobs_app
from leadroute.cli_ops.leads import leads_app
from leadroute.db.engine import create_db_engine
from leadroute.db.migrate import upgrade_database
from leadroute.db.session import Database
from leadroute.settings import Settings
from leadroute.workspaces.service import create_workspace, workspace_count

app = typer.Typer(
    help="leadroute: lead routing with an Instantly-compatible API.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
workspace_app = typer.Typer(help="Workspaces.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(workspace_app, name="workspace")
# Operator commands: they talk to a running server through the public API (cli_ops/).
app.add_typer(leads_app, name="leads")
app.add_typer(jobs_app, name="jobs")
app.command("assign")(assign)
app.command("demo")(demo)

console = Console(stderr=True)


def open_database(settings: Settings) -> Database:
    return Database(create_db_engine(settings))


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply the schema migrations."""
    settings = Settings()
    database = open_database(settings)
    upgrade_database(database.engine, revision)
    database.dispose()
    console.print(f"[green]database at {revision}[/green]")


@workspace_app.command("create")
def workspace_create(
    name: str,
    owner_email: Annotated[str, typer.Option("--owner-email", help="The owner's email.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a workspace with its owner and an `all:all` API key."""
    settings = Settings()
    database = open_database(settings)
    upgrade_database(database.engine)
    with database.write_sessions.begin() as session:
        created = create_workspace(session, name=name, owner_email=owner_email)
    database.dispose()
    result = {
        "workspace_id": str(created.workspace_id),
        "owner_user_id": str(created.owner_user_id),
        "api_key": created.api_key,
    }
    if as_json:
        typer.echo(json.dumps(result))
    else:
        for field, value in result.items():
            typer.echo(f"{field}: {value}")


def bootstrap_default_workspace(database: Database) -> None:
    """On an empty database, create workspace `Default` and print its key once."""
    with database.write_sessions.begin() as session:
        if workspace_count(session) > 0:
            return
        created = create_workspace(session, name="Default", owner_email="owner@leadroute.local")
    console.print(
        "[bold green]Created workspace 'Default'.[/bold green] Its API key (shown once):\n"
        f"  [bold]{created.api_key}[/bold]\n"
        "Try: curl -H 'Authorization: Bearer <key>' http://127.0.0.1:8000/api/v2/workspaces/current"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option("--embedded-workers", help="Job workers inside this process."),
    ] = None,
) -> None:
    """Run the API (and embedded job workers), applying migrations first."""
    import uvicorn

    from leadroute.app import create_app
    from leadroute.runtime import freeze_startup_objects, serve_hooks

    settings = Settings()
    if workers is not None:
        settings = settings.model_copy(update={"embedded_workers": workers})
    database = open_database(settings)
    upgrade_database(database.engine)
    bootstrap_default_workspace(database)
    start, stop = serve_hooks(settings, database)
    application = create_app(settings, database=database, on_startup=start, on_shutdown=stop)
    freeze_startup_objects()
    uvicorn.run(application, host=host, port=port, log_level="info", access_log=settings.access_log)
    database.dispose()


@app.command()
def worker(
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="Worker threads in this process.")
    ] = 1,
) -> None:
    """Run job workers against LEADROUTE_DATABASE_URL, applying migrations first.

    Several processes can share one queue (in parallel on PostgreSQL). SIGTERM or SIGINT:
    each thread finishes its current chunk, hands its job back to the queue, and the process
    exits; a second signal stops it at once.
    """
    import logging
    import os
    import signal

    from leadroute.job_kinds import job_registry
    from leadroute.runtime import WorkerPool, freeze_startup_objects, wal_checkpointer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    database = open_database(settings)
    upgrade_database(database.engine)
    pool = WorkerPool(database, job_registry(settings), settings, size=concurrency)
    freeze_startup_objects()

    def request_stop(signal_number: int, _frame: object) -> None:
        pool.stop_event.set()
        signal.signal(signal_number, signal.SIG_DFL)  # a second signal stops at once

    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, request_stop)
    checkpointer = wal_checkpointer(settings, database)
    if checkpointer:
        checkpointer.start()
    pool.start()
    console.print(f"leadroute worker ready: {concurrency} thread(s), pid {os.getpid()}")
    while not pool.stop_event.wait(1.0):
        pass
    pool.join()
    if checkpointer:
        checkpointer.stop()
    database.dispose()
    console.print("leadroute worker stopped")
