"""The dashboard in a real browser: headless Chromium drives ``/dashboard`` against a live server.

Each test starts a real uvicorn server on 127.0.0.1 (a free port, in a thread) with the app's
embedded job workers, on a fresh SQLite database of its own, and drives Debian's
``/usr/bin/chromium`` through Playwright (``chromium.launch(executable_path=...)``; Playwright
never downloads a browser here). Chromium is a test requirement, not an option: ``.ci/run``
installs it, and without it these tests fail with a message saying so.

They run on SQLite only, on purpose: the page talks to the server over HTTP and nothing else,
and every endpoint it calls is tested on both engines by the API tests, so a second engine
would add minutes and no coverage.
"""

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from leadroute.app import create_app
from leadroute.db.engine import create_db_engine
from leadroute.db.migrate import upgrade_database
from leadroute.db.session import Database
from leadroute.runtime import embedded_worker_hooks
from leadroute.settings import Settings
from leadroute.workspaces.service import create_workspace
from tests.factories import insert_leads, many_leads

try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError as missing:  # pragma: no cover - the dev extra installs it
    PLAYWRIGHT_MISSING: ImportError | None = missing
else:
    PLAYWRIGHT_MISSING = None

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Long enough for a slow CI machine; a passing run waits a second or two at most.
UI_TIMEOUT_MS = 20_000
SERVER_START_SECONDS = 20.0


@dataclass
class LiveServer:
    base_url: str
    database: Database
    workspace_id: str
    owner_user_id: str
    api_key: str

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.base_url}/api/v2",
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=10,
        )


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Starts the app with ``embedded_workers`` job workers; stops everything afterwards."""
    running: list[tuple[uvicorn.Server, threading.Thread, Database]] = []

    def start(*, embedded_workers: int = 1) -> LiveServer:
        settings = Settings(
            database_url=f"sqlite:///{tmp_path / 'dashboard.db'}",
            embedded_workers=embedded_workers,
            rate_limit_enabled=False,
            # Several chunks per job, so the progress bar has steps to show.
            job_chunk_size=4,
            job_poll_interval_seconds=0.1,
        )
        database = Database(create_db_engine(settings))
        upgrade_database(database.engine)
        with database.write_sessions.begin() as session:
            created = create_workspace(session, name="Acme", owner_email="owner@acme.test")
        on_startup, on_shutdown = embedded_worker_hooks(settings, database)
        app = create_app(
            settings, database=database, on_startup=on_startup, on_shutdown=on_shutdown
        )
        sock = free_socket()
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="dashboard-server", daemon=True
        )
        thread.start()
        running.append((server, thread, database))
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("the uvicorn server did not start")
            time.sleep(0.02)
        return LiveServer(
            base_url=f"http://127.0.0.1:{port}",
            database=database,
            workspace_id=str(created.workspace_id),
            owner_user_id=str(created.owner_user_id),
            api_key=created.api_key,
        )

    yield start
    for server, thread, database in running:
        server.should_exit = True
        thread.join(timeout=60)
        database.dispose()


@pytest.fixture
def page(tmp_path: Path) -> Iterator["Page"]:
    """A page of a headless Chromium with a fresh profile; fails if the page threw."""
    if PLAYWRIGHT_MISSING is not None:
        pytest.fail(
            f"Playwright for Python is not installed ({PLAYWRIGHT_MISSING}): "
            "install the dev extra (`pip install -e '.[dev]'`)"
        )
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the dashboard tests need it "
            "(`apt-get install -y chromium chromium-driver`, as .ci/run does)"
        )
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        context.set_default_timeout(UI_TIMEOUT_MS)
        expect.set_options(timeout=UI_TIMEOUT_MS)
        page_errors: list[str] = []
        browser_page = context.pages[0] if context.pages else context.new_page()
        browser_page.on("pageerror", lambda error: page_errors.append(str(error)))
        try:
            yield browser_page
        finally:
            context.close()
        assert page_errors == [], "the dashboard's JavaScript threw"


def add_member(client: httpx.Client, email: str, nickname: str) -> str:
    response = client.post(
        "/workspace-members", json={"email": email, "role": "editor", "nickname": nickname}
    )
    assert response.status_code == 200, response.text
    user_id: str = response.json()["user_id"]
    return user_id


def add_list(client: httpx.Client, name: str) -> str:
    response = client.post("/lead-lists", json={"name": name})
    assert response.status_code == 200, response.text
    list_id: str = response.json()["id"]
    return list_id


def connect(page: "Page", server: LiveServer) -> None:
    page.goto(f"{server.base_url}/dashboard")
    expect(page.locator("#connect")).to_be_visible()
    page.fill("#api-key", server.api_key)
    page.click("#connect-button")
    expect(page.locator("#workspace-name")).to_have_text("Acme")


def bar(page: "Page", user_id: str) -> Any:
    return page.locator(f'#owners-chart .bar-row[data-user-id="{user_id}"]')


def choose_user(page: "Page", user_id: str) -> None:
    page.check(f'#user-choices .user-choice[data-user-id="{user_id}"] input[type=checkbox]')


def test_an_operator_previews_runs_reverts_and_sees_the_chart_follow(
    start_server: Callable[..., LiveServer], page: "Page"
) -> None:
    server = start_server(embedded_workers=1)
    with server.client() as client:
        ana = add_member(client, "ana@acme.test", "Ana")
        bo = add_member(client, "bo@acme.test", "Bo")
        conference = add_list(client, "Conference")
        webinar = add_list(client, "Webinar")
    insert_leads(server.database, server.workspace_id, many_leads(12, list_id=conference))
    insert_leads(
        server.database, server.workspace_id, many_leads(3, list_id=webinar, assigned_to=ana)
    )
    insert_leads(server.database, server.workspace_id, many_leads(2))

    connect(page, server)

    # The key lives in this tab's session storage, and a reload keeps the session.
    assert page.evaluate("sessionStorage.getItem('leadroute.apiKey')") == server.api_key
    page.reload()
    expect(page.locator("#workspace-name")).to_have_text("Acme")
    expect(page.locator("#connect")).to_be_hidden()

    # Members with their lead counts; the unassigned leads have a bar of their own.
    expect(bar(page, ana)).to_have_attribute("data-count", "3")
    expect(bar(page, ana)).to_contain_text("Ana")
    expect(bar(page, bo)).to_have_attribute("data-count", "0")
    expect(bar(page, server.owner_user_id)).to_have_attribute("data-count", "0")
    expect(bar(page, "unassigned")).to_have_attribute("data-count", "14")
    expect(page.locator("#owners-total")).to_have_text("17 leads")

    # The list and campaign dropdowns come from the API; the 27 filters are all offered.
    expect(page.locator("#selection-list option")).to_have_text(
        ["Any list", "Conference", "Webinar"]
    )
    expect(page.locator("#selection-filter option")).to_have_count(28)

    # A live preview of the per-user counts as the form changes.
    choose_user(page, ana)
    choose_user(page, bo)
    expect(page.locator("#preview-total")).to_have_attribute("data-count", "17")
    page.select_option("#selection-list", label="Conference")
    expect(page.locator("#preview-total")).to_have_attribute("data-count", "12")
    expect(page.locator(f'.preview-user[data-user-id="{ana}"]')).to_have_attribute(
        "data-count", "6"
    )
    expect(page.locator(f'.preview-user[data-user-id="{bo}"]')).to_have_attribute("data-count", "6")
    expect(page.locator("#run-assign")).to_have_text("Assign 12 leads")

    # A request the server rejects shows the envelope's message, and clears once fixed.
    page.click("input[name=strategy][value=weighted] + span")
    page.fill(f'.user-choice[data-user-id="{ana}"] input.weight', "0")
    expect(page.locator("#assign-error")).to_contain_text("400 Bad Request")
    expect(page.locator("#assign-error")).to_contain_text(
        "`weights`: every weight must be a positive integer"
    )
    page.fill(f'.user-choice[data-user-id="{ana}"] input.weight', "2")
    expect(page.locator("#assign-error")).to_be_hidden()
    expect(page.locator(f'.preview-user[data-user-id="{ana}"]')).to_have_attribute(
        "data-count", "8"
    )
    page.click("input[name=strategy][value=round_robin] + span")
    expect(page.locator(f'.preview-user[data-user-id="{ana}"]')).to_have_attribute(
        "data-count", "6"
    )

    # Run it: the job shows up, reaches success, and the chart follows.
    page.click("#run-assign")
    job = page.locator("#jobs-list li.job").first
    expect(job).to_contain_text("Assign leads")
    expect(job).to_have_attribute("data-status", "success")
    expect(job).to_have_attribute("data-progress", "100")
    expect(job.locator(".job-result")).to_have_text("12 of 12 leads")
    expect(job.locator(".progress-text")).to_have_text("100%")
    expect(bar(page, ana)).to_have_attribute("data-count", "9")
    expect(bar(page, bo)).to_have_attribute("data-count", "6")
    expect(bar(page, "unassigned")).to_have_attribute("data-count", "2")
    # The preview follows too: the same request now changes no owner.
    expect(page.locator("#preview")).to_contain_text("0 change owner · 12 already there")

    # Revert it: a revert job runs and the chart is back where it started.
    job.locator("button[data-action=revert]").click()
    revert = page.locator("#jobs-list li.job").first
    expect(revert).to_contain_text("Revert assignment")
    expect(revert).to_have_attribute("data-status", "success")
    expect(page.locator("#jobs-list li.job")).to_have_count(2)
    expect(bar(page, ana)).to_have_attribute("data-count", "3")
    expect(bar(page, bo)).to_have_attribute("data-count", "0")
    expect(bar(page, "unassigned")).to_have_attribute("data-count", "14")

    # Signing out forgets the key.
    page.click("#sign-out")
    expect(page.locator("#connect")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('leadroute.apiKey')") is None


def test_a_pending_job_can_be_cancelled_from_the_jobs_list(
    start_server: Callable[..., LiveServer], page: "Page"
) -> None:
    # No workers: the job stays pending until the operator cancels it.
    server = start_server(embedded_workers=0)
    with server.client() as client:
        ana = add_member(client, "ana@acme.test", "Ana")
    insert_leads(server.database, server.workspace_id, many_leads(5))
    connect(page, server)
    expect(page.locator("#jobs-empty")).to_be_visible()

    choose_user(page, ana)
    expect(page.locator("#preview-total")).to_have_attribute("data-count", "5")
    page.click("#run-assign")
    job = page.locator("#jobs-list li.job").first
    expect(job).to_have_attribute("data-status", "pending")
    expect(job.locator(".job-result")).to_have_text("Waiting to start")
    expect(job.locator("button[data-action=revert]")).to_have_count(0)

    job.locator("button[data-action=cancel]").click()

    expect(job).to_have_attribute("data-status", "cancelled")
    expect(job.locator(".badge")).to_have_text("Cancelled")
    expect(job.locator("button[data-action=cancel]")).to_have_count(0)
    expect(job.locator("button[data-action=revert]")).to_be_visible()
    expect(bar(page, "unassigned")).to_have_attribute("data-count", "5")


def test_a_rejected_key_is_explained_and_not_kept(
    start_server: Callable[..., LiveServer], page: "Page"
) -> None:
    server = start_server(embedded_workers=0)
    page.goto(f"{server.base_url}/dashboard")

    page.fill("#api-key", f"lr_{uuid.uuid4().hex}")
    page.click("#connect-button")

    expect(page.locator("#connect-error")).to_contain_text("401 Unauthorized")
    expect(page.locator("#connect-error")).to_contain_text("Invalid or revoked API key")
    expect(page.locator("#workspace")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('leadroute.apiKey')") is None
