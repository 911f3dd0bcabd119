"""[extension] `Idempotency-Key` on POST /api/v2/leads/bulk-assign."""

import threading
import uuid
from datetime import timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, update

from leadroute.db.session import Database
from leadroute.idempotency.models import IdempotencyKey
from leadroute.ids import utcnow
from leadroute.jobs.models import BackgroundJob
from tests.conftest import WorkspaceClient

BULK_ASSIGN = "/api/v2/leads/bulk-assign"


def post(api: TestClient, body: dict[str, Any], key: str | None) -> httpx.Response:
    headers = {} if key is None else {"Idempotency-Key": key}
    response: httpx.Response = api.post(BULK_ASSIGN, json=body, headers=headers)
    return response


def assign_jobs(db: Database) -> int:
    with db.read_sessions() as session:
        count = session.scalar(select(func.count()).where(BackgroundJob.type == "assign-leads"))
    return count or 0


def test_the_same_key_and_body_answer_the_same_job_and_queue_only_one(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    body = {"organization_user_ids": [workspace.owner_user_id], "limit": 5}

    first = post(api, body, "order-42")
    repeat = post(api, {"limit": 5, "organization_user_ids": [workspace.owner_user_id]}, "order-42")

    assert first.status_code == repeat.status_code == 202
    assert repeat.json() == first.json()
    assert repeat.headers["Location"] == first.headers["Location"]
    assert first.headers["Location"] == f"/api/v2/background-jobs/{first.json()['job_id']}"
    assert assign_jobs(db) == 1


def test_the_same_key_with_another_body_is_409(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    post(api, {"organization_user_ids": [workspace.owner_user_id]}, "order-42")

    response = post(
        api, {"organization_user_ids": [workspace.owner_user_id], "limit": 1}, "order-42"
    )

    assert response.status_code == 409
    assert response.json() == {
        "statusCode": 409,
        "error": "Conflict",
        "message": "`Idempotency-Key`: this key was used with another request body in the "
        "last 24 hours; use a new key",
    }
    assert assign_jobs(db) == 1


def test_requests_without_a_key_each_queue_a_job(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    body = {"organization_user_ids": [workspace.owner_user_id]}

    first, second = post(api, body, None), post(api, body, None)

    assert first.json()["job_id"] != second.json()["job_id"]
    assert assign_jobs(db) == 2


def test_keys_are_per_workspace(
    api: TestClient,
    workspace: WorkspaceClient,
    other_workspace: WorkspaceClient,
    db: Database,
) -> None:
    ours = post(api, {"organization_user_ids": [workspace.owner_user_id]}, "shared-key")
    theirs = post(
        other_workspace.client,
        {"organization_user_ids": [other_workspace.owner_user_id]},
        "shared-key",
    )

    assert ours.status_code == theirs.status_code == 202
    assert ours.json()["job_id"] != theirs.json()["job_id"]
    assert assign_jobs(db) == 2


def test_a_key_older_than_24_hours_starts_a_new_job(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    body = {"organization_user_ids": [workspace.owner_user_id]}
    first = post(api, body, "daily-run").json()["job_id"]
    with db.write_sessions.begin() as session:
        session.execute(
            update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=24, seconds=1))
        )

    second = post(api, body, "daily-run")
    repeat = post(api, body, "daily-run")

    assert second.status_code == 202
    assert second.json()["job_id"] != first
    assert repeat.json()["job_id"] == second.json()["job_id"]
    assert assign_jobs(db) == 2


def test_a_key_just_under_24_hours_old_still_answers_the_first_job(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    body = {"organization_user_ids": [workspace.owner_user_id]}
    first = post(api, body, "daily-run").json()["job_id"]
    with db.write_sessions.begin() as session:
        session.execute(
            update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=23, minutes=59))
        )

    assert post(api, body, "daily-run").json()["job_id"] == first
    assert assign_jobs(db) == 1


def test_a_key_must_be_1_to_255_printable_ascii_characters(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    body = {"organization_user_ids": [workspace.owner_user_id]}
    for bad in ("", "x" * 256, "clé"):
        headers = {"Idempotency-Key": bad.encode("latin-1")}
        response = api.post(BULK_ASSIGN, json=body, headers=headers)
        assert response.status_code == 400, bad
        assert response.json()["error"] == "Bad Request"
        assert response.json()["message"].startswith("`Idempotency-Key`: give 1 to 255 printable")
    assert post(api, body, "x" * 255).status_code == 202
    assert post(api, body, "a key with spaces ~!").status_code == 202
    assert assign_jobs(db) == 2


def test_a_dry_run_ignores_the_key(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    preview = post(api, {"organization_user_ids": [workspace.owner_user_id], "dry_run": True}, "k")
    accepted = post(api, {"organization_user_ids": [workspace.owner_user_id], "limit": 3}, "k")

    assert preview.status_code == 200
    assert preview.json()["total"] == 0
    assert accepted.status_code == 202
    assert assign_jobs(db) == 1


def test_a_rejected_request_leaves_its_key_unused(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    stranger = str(uuid.uuid4())
    rejected = post(api, {"organization_user_ids": [stranger]}, "retry-me")
    accepted = post(api, {"organization_user_ids": [workspace.owner_user_id]}, "retry-me")

    assert rejected.status_code == 400
    assert accepted.status_code == 202
    assert assign_jobs(db) == 1


def test_two_concurrent_first_uses_of_a_key_queue_one_job(
    app: Any, workspace: WorkspaceClient, db: Database
) -> None:
    body = {"organization_user_ids": [workspace.owner_user_id]}
    start = threading.Barrier(2)
    answers: list[httpx.Response] = []

    def send() -> None:
        client = TestClient(app, raise_server_exceptions=False)
        client.headers["Authorization"] = f"Bearer {workspace.api_key}"
        start.wait()
        answers.append(post(client, body, "at-once"))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert [answer.status_code for answer in answers] == [202, 202]
    assert answers[0].json()["job_id"] == answers[1].json()["job_id"]
    assert assign_jobs(db) == 1


def test_without_a_key_the_job_row_commits_alone_and_with_one_in_the_keys_transaction(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    """On PostgreSQL an accept without a key writes one statement, in autocommit: no
    ``BEGIN``, no ``COMMIT``. A key is a second write, so the two share a transaction."""
    in_autocommit: list[bool] = []

    def record(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "INSERT INTO background_jobs" in statement:
            autocommit = getattr(connection.connection.driver_connection, "autocommit", False)
            in_autocommit.append(autocommit is True)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        body = {"organization_user_ids": [workspace.owner_user_id]}
        assert post(api, body, None).status_code == 202
        assert post(api, body, "order-7").status_code == 202
    finally:
        event.remove(db.engine, "before_cursor_execute", record)

    postgresql = db.engine.dialect.name == "postgresql"
    assert in_autocommit == [postgresql, False]
    assert assign_jobs(db) == 2
