"""A real leadroute server for the command-line tests, and a way to run the CLI against it.

The server is uvicorn in a thread on 127.0.0.1 with a free port, serving the app built on the
test's database with embedded job workers, exactly as ``leadroute serve`` runs it. The CLI
runs through typer's ``CliRunner`` with ``LEADROUTE_URL`` and ``LEADROUTE_API_KEY`` set, so
every command goes through the HTTP API.
"""

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn
from click.testing import Result
from sqlalchemy import select
from typer.testing import CliRunner

from leadroute.app import create_app
from leadroute.cli import app as cli_app
from leadroute.db.session import Database
from leadroute.lead_lists.models import LeadList
from leadroute.leads.models import Lead
from leadroute.runtime import embedded_worker_hooks
from leadroute.settings import Settings


@dataclass
class LiveServer:
    url: str
    settings: Settings


def serve_in_thread(settings: Settings, db: Database) -> Iterator[LiveServer]:
    start, stop = embedded_worker_hooks(settings, db)
    application = create_app(settings, database=db, on_startup=start, on_shutdown=stop)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(application, log_level="warning", access_log=False, lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the test server did not start"
        assert time.monotonic() < deadline, "the test server did not start within 30 s"
        time.sleep(0.02)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", settings=settings)
    finally:
        server.should_exit = True
        thread.join(60)
        sock.close()


def live_server(db: Database, settings: Settings, *, workers: int = 1) -> Iterator[LiveServer]:
    """For a test module's fixture (``yield from live_server(db, settings)``).

    With ``workers`` embedded workers that poll often, so jobs finish fast; with 0, accepted
    jobs stay pending (for cancel).
    """
    live = settings.model_copy(
        update={
            "embedded_workers": workers,
            "job_poll_interval_seconds": 0.05,
            "job_chunk_size": 100,
        }
    )
    yield from serve_in_thread(live, db)


def run_cli(server: LiveServer, api_key: str, *args: str, input: str | None = None) -> Result:
    runner = CliRunner()
    return runner.invoke(
        cli_app,
        list(args),
        env={"LEADROUTE_URL": server.url, "LEADROUTE_API_KEY": api_key, "COLUMNS": "200"},
        input=input,
        catch_exceptions=False,
    )


def leads_of_list(db: Database, workspace_id: str, name: str) -> list[Lead]:
    """The leads of the workspace's list called ``name``, in id order."""
    with db.read_sessions() as session:
        list_id = session.scalar(
            select(LeadList.id).where(
                LeadList.workspace_id == uuid.UUID(workspace_id), LeadList.name == name
            )
        )
        assert list_id is not None, f"no list {name!r}"
        leads = session.scalars(select(Lead).where(Lead.list_id == list_id).order_by(Lead.id))
        return list(leads)


def add_member(client: Any, email: str) -> str:
    response = client.post("/api/v2/workspace-members", json={"email": email, "role": "editor"})
    assert response.status_code == 200, response.text
    return str(response.json()["user_id"])
