"""A storm in one workspace: 20 bulk-assign requests with overlapping selections sent at once,
while other clients PATCH other fields of the same leads and two workers run the jobs.

The final owners must equal the serial application of the 20 jobs in acceptance order (job
id order, the order the serial queue runs them in); every PATCH must be kept (``first_name``
as last written, and every ``custom_variables`` key any PATCH added, since PATCH merges them);
nothing may deadlock (every thread ends in time, no 5xx) and no job may fail. On SQLite the
requests still serialise on the one write lock; on PostgreSQL they really overlap.
"""

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadroute.db.session import Database
from leadroute.job_kinds import job_registry
from leadroute.jobs.models import BackgroundJob
from leadroute.jobs.worker import Worker
from leadroute.leads.models import Lead
from leadroute.settings import Settings
from tests.conftest import WorkspaceClient
from tests.counting_job import wait_until
from tests.factories import insert_leads

LEADS = 240
USERS = 4
REQUESTS = 20
WINDOW = 120  # leads per `ids` selection: neighbouring windows overlap
PATCH_CLIENTS = 4
PATCHED = 60  # the first leads, inside many windows and in the list
PATCH_ROUNDS = 2
THREAD_TIMEOUT = 60

pytestmark = pytest.mark.timeout(150)


@pytest.fixture
def running_workers(db: Database, settings: Settings) -> Iterator[None]:
    """Two worker threads, with small chunks so chunks interleave with the PATCHes."""
    effective = settings.model_copy(
        update={"job_chunk_size": 25, "job_poll_interval_seconds": 0.02}
    )
    registry = job_registry(effective)
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=Worker(db, registry, effective, name=f"storm-{number}").run_forever,
            args=(stop,),
            daemon=True,
        )
        for number in (1, 2)
    ]
    for thread in threads:
        thread.start()
    yield
    stop.set()
    for thread in threads:
        thread.join(THREAD_TIMEOUT)
        assert not thread.is_alive(), "a worker did not stop"


def client_for(app: Any, workspace: WorkspaceClient) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {workspace.api_key}"
    return client


def run_all(targets: list[Callable[[], None]]) -> None:
    """Start every target at the same moment; fail if any raises or outlives the timeout."""
    barrier = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def run(target: Callable[[], None]) -> None:
        try:
            barrier.wait(THREAD_TIMEOUT)
            target()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(target,), daemon=True) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT)
    assert not [thread for thread in threads if thread.is_alive()], "a client hung (deadlock?)"
    if errors:
        raise errors[0]


def bulk_assign_bodies(lead_ids: list[str], users: list[str], list_id: str) -> list[dict[str, Any]]:
    bodies = []
    for number in range(REQUESTS):
        targets = [users[(number + step) % USERS] for step in range(2 + number % 3)]
        if number % 4 == 3:
            body: dict[str, Any] = {"list_id": list_id}
        else:
            start = (number * 37) % LEADS
            window = [lead_ids[(start + offset) % LEADS] for offset in range(WINDOW)]
            body = {"ids": window}
        bodies.append({**body, "organization_user_ids": targets})
    return bodies


def serial_owners(
    lead_ids: list[str], listed: set[str], accepted: list[tuple[str, dict[str, Any]]]
) -> dict[str, str | None]:
    """The owners after applying the jobs one after another in job id order, by hand."""
    owners: dict[str, str | None] = dict.fromkeys(lead_ids)
    for _job_id, body in sorted(accepted, key=lambda item: uuid.UUID(item[0])):
        if "ids" in body:
            chosen = set(body["ids"])
            selected = [lead for lead in lead_ids if lead in chosen]
        else:
            selected = [lead for lead in lead_ids if lead in listed]
        rotation = list(dict.fromkeys(body["organization_user_ids"]))
        for position, lead in enumerate(selected):
            owners[lead] = rotation[position % len(rotation)]
    return owners


def test_concurrent_bulk_assigns_and_patches_end_as_their_serial_application(
    app: Any,
    api: TestClient,
    workspace: WorkspaceClient,
    db: Database,
    running_workers: None,
) -> None:
    users = [
        api.post(
            "/api/v2/workspace-members", json={"email": f"rep{i}@acme.test", "role": "editor"}
        ).json()["user_id"]
        for i in range(USERS)
    ]
    list_id = api.post("/api/v2/lead-lists", json={"name": "Storm"}).json()["id"]
    lead_ids = insert_leads(
        db,
        workspace.workspace_id,
        [
            {"email": f"lead{i}@example.test", **({"list_id": list_id} if i % 2 else {})}
            for i in range(LEADS)
        ],
    )
    listed = {lead for i, lead in enumerate(lead_ids) if i % 2}
    bodies = bulk_assign_bodies(lead_ids, users, list_id)

    accepted: list[tuple[str, dict[str, Any]]] = []
    patch_statuses: list[int] = []
    lock = threading.Lock()

    def assign(body: dict[str, Any]) -> Callable[[], None]:
        def send() -> None:
            response = client_for(app, workspace).post("/api/v2/leads/bulk-assign", json=body)
            assert response.status_code == 202, response.text
            with lock:
                accepted.append((response.json()["job_id"], body))

        return send

    def patcher(client_number: int) -> Callable[[], None]:
        def send() -> None:
            client = client_for(app, workspace)
            for round_number in range(PATCH_ROUNDS):
                for index, lead_id in enumerate(lead_ids[:PATCHED]):
                    fields: dict[str, Any] = {
                        "custom_variables": {f"c{client_number}r{round_number}": index}
                    }
                    if index % PATCH_CLIENTS == client_number:
                        fields["first_name"] = f"C{client_number}R{round_number}"
                    response = client.patch(f"/api/v2/leads/{lead_id}", json=fields)
                    with lock:
                        patch_statuses.append(response.status_code)
                    assert response.status_code == 200, response.text

        return send

    run_all(
        [assign(body) for body in bodies] + [patcher(number) for number in range(PATCH_CLIENTS)]
    )
    assert len(accepted) == REQUESTS
    assert patch_statuses == [200] * (PATCH_CLIENTS * PATCH_ROUNDS * PATCHED)

    job_ids = [uuid.UUID(job_id) for job_id, _ in accepted]

    def jobs() -> list[BackgroundJob]:
        with db.read_sessions() as session:
            return list(session.scalars(select(BackgroundJob).where(BackgroundJob.id.in_(job_ids))))

    wait_until(
        lambda: all(job.status in ("success", "failed", "cancelled") for job in jobs()),
        90,
        lambda: str([(job.id, job.status, job.data.get("error")) for job in jobs()]),
    )
    finished = jobs()
    assert [(job.status, job.attempts) for job in finished] == [("success", 0)] * REQUESTS, [
        job.data.get("error") for job in finished
    ]

    with db.read_sessions() as session:
        rows = {
            str(lead.id): lead
            for lead in session.scalars(
                select(Lead).where(Lead.workspace_id == uuid.UUID(workspace.workspace_id))
            )
        }
    expected = serial_owners(lead_ids, listed, accepted)
    owners = {
        lead_id: str(owner) if (owner := rows[lead_id].assigned_to) else None
        for lead_id in lead_ids
    }
    wrong = {lead: (owners[lead], want) for lead, want in expected.items() if owners[lead] != want}
    assert wrong == {}
    for index, lead_id in enumerate(lead_ids[:PATCHED]):
        lead = rows[lead_id]
        writer = index % PATCH_CLIENTS
        assert lead.first_name == f"C{writer}R{PATCH_ROUNDS - 1}", lead_id
        assert lead.payload == {
            f"c{client}r{round_number}": index
            for client in range(PATCH_CLIENTS)
            for round_number in range(PATCH_ROUNDS)
        }, lead_id
