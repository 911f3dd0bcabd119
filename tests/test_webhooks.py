"""[extension] /api/v2/webhooks and the deliveries the job engine sends, to a real local HTTP
receiver (tests/webhook_receiver.py)."""

import hashlib
import hmac
import json
import socket
import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from leadroute.db.session import Database
from leadroute.ids import utcnow
from leadroute.jobs.models import BackgroundJob
from leadroute.settings import Settings
from tests.conftest import WorkspaceClient
from tests.factories import insert_leads, many_leads
from tests.jobs_support import run_jobs, run_jobs_until_settled
from tests.webhook_receiver import Receiver, webhook_receiver

WEBHOOKS = "/api/v2/webhooks"
BOTH_EVENTS = ["leads.assigned", "background_job.finished"]
SECRET = "a-test-secret-of-some-length"
# Retries within milliseconds, so a test waits out the backoff quickly.
FAST_RETRIES: dict[str, Any] = {"job_retry_base_seconds": 0.02, "job_retry_max_seconds": 0.05}


def create_webhook(api: TestClient, **fields: Any) -> dict[str, Any]:
    response = api.post(WEBHOOKS, json=fields)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def deliveries(api: TestClient, webhook_id: str, **params: Any) -> list[dict[str, Any]]:
    response = api.get(f"{WEBHOOKS}/{webhook_id}/deliveries", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def add_member(api: TestClient, email: str) -> str:
    response = api.post("/api/v2/workspace-members", json={"email": email, "role": "editor"})
    assert response.status_code == 200, response.text
    user_id: str = response.json()["user_id"]
    return user_id


def bulk_assign(api: TestClient, users: list[str]) -> str:
    response = api.post("/api/v2/leads/bulk-assign", json={"organization_user_ids": users})
    assert response.status_code == 202, response.text
    job_id: str = response.json()["job_id"]
    return job_id


def background_job(api: TestClient, job_id: str) -> dict[str, Any]:
    response = api.get(f"/api/v2/background-jobs/{job_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def expected_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def received_events(receiver: Receiver) -> dict[str, dict[str, Any]]:
    by_event: dict[str, dict[str, Any]] = {}
    for request in receiver.requests:
        body: dict[str, Any] = json.loads(request.body)
        by_event[body["event"]] = body
    return by_event


def jobs_of_type(db: Database, type: str) -> list[BackgroundJob]:
    with db.read_sessions() as session:
        return list(session.scalars(select(BackgroundJob).where(BackgroundJob.type == type)))


# --- the resource ---


def test_create_answers_the_webhook_with_a_generated_secret_shown_only_then(
    api: TestClient, workspace: WorkspaceClient
) -> None:
    created = create_webhook(
        api, target_url="https://hooks.example.test/leadroute", event_types=BOTH_EVENTS, name="CRM"
    )

    assert set(created) == {
        "id",
        "organization_id",
        "name",
        "target_url",
        "event_types",
        "secret",
        "timestamp_created",
        "timestamp_updated",
    }
    assert created["organization_id"] == workspace.workspace_id
    assert created["name"] == "CRM"
    assert created["target_url"] == "https://hooks.example.test/leadroute"
    assert created["event_types"] == BOTH_EVENTS
    assert created["secret"].startswith("whsec_")
    assert len(created["secret"]) >= 40
    shown = api.get(f"{WEBHOOKS}/{created['id']}").json()
    assert shown == {key: value for key, value in created.items() if key != "secret"}
    listed = api.get(WEBHOOKS).json()
    assert listed == {"items": [shown]}


def test_a_given_secret_is_kept_and_duplicate_event_types_collapse(api: TestClient) -> None:
    created = create_webhook(
        api,
        target_url="http://127.0.0.1:9/x",
        event_types=["leads.assigned", "leads.assigned"],
        secret=SECRET,
    )

    assert created["secret"] == SECRET
    assert created["event_types"] == ["leads.assigned"]
    assert created["name"] is None


def test_patch_changes_the_given_fields_and_delete_answers_the_deleted_webhook(
    api: TestClient,
) -> None:
    created = create_webhook(api, target_url="https://a.example.test/", event_types=BOTH_EVENTS)
    path = f"{WEBHOOKS}/{created['id']}"

    patched = api.patch(
        path,
        json={"target_url": "https://b.example.test/in", "event_types": ["leads.assigned"]},
    )
    assert patched.status_code == 200
    assert patched.json()["target_url"] == "https://b.example.test/in"
    assert patched.json()["event_types"] == ["leads.assigned"]
    assert "secret" not in patched.json()
    renamed = api.patch(path, json={"name": "Renamed"}).json()
    assert renamed["name"] == "Renamed"
    assert renamed["target_url"] == "https://b.example.test/in"

    deleted = api.delete(path)
    assert deleted.status_code == 200
    assert deleted.json()["id"] == created["id"]
    assert api.get(path).status_code == 404
    assert api.get(WEBHOOKS).json() == {"items": []}


def test_list_pages_in_id_order(api: TestClient) -> None:
    ids = [
        create_webhook(api, target_url=f"https://{n}.example.test/", event_types=BOTH_EVENTS)["id"]
        for n in range(3)
    ]

    first = api.get(WEBHOOKS, params={"limit": 2}).json()
    second = api.get(WEBHOOKS, params={"limit": 2, "starting_after": first["next_starting_after"]})

    assert [item["id"] for item in first["items"]] == ids[:2]
    assert first["next_starting_after"] == ids[1]
    assert second.json() == {"items": [api.get(f"{WEBHOOKS}/{ids[2]}").json()]}


def test_another_workspaces_webhook_is_404(
    api: TestClient, other_workspace: WorkspaceClient
) -> None:
    created = create_webhook(api, target_url="https://a.example.test/", event_types=BOTH_EVENTS)
    theirs = other_workspace.client
    path = f"{WEBHOOKS}/{created['id']}"

    assert theirs.get(path).status_code == 404
    assert theirs.patch(path, json={"name": "x"}).status_code == 404
    assert theirs.delete(path).status_code == 404
    assert theirs.get(f"{path}/deliveries").status_code == 404
    assert theirs.get(WEBHOOKS).json() == {"items": []}
    assert api.get(path).status_code == 200
    assert api.get(f"{WEBHOOKS}/{uuid.uuid4()}").status_code == 404
    assert api.get(f"{WEBHOOKS}/not-a-uuid").status_code == 400


def test_invalid_fields_are_400_naming_the_field(api: TestClient) -> None:
    valid = {"target_url": "https://a.example.test/", "event_types": BOTH_EVENTS}
    cases = [
        ({**valid, "target_url": "ftp://a.example.test/"}, "`target_url`"),
        ({**valid, "target_url": "not a url"}, "`target_url`"),
        ({**valid, "target_url": "https://"}, "`target_url`"),
        ({**valid, "target_url": "https://a.example.test/" + "x" * 2048}, "`target_url`"),
        ({**valid, "target_url": "https://a.example.test:99999/"}, "`target_url`"),
        ({**valid, "target_url": "https://a.example.test/\x00"}, "`target_url`"),
        ({**valid, "target_url": "https://a.example.test/a b"}, "`target_url`"),
        ({"event_types": BOTH_EVENTS}, "`target_url`"),
        ({**valid, "event_types": ["lead.created"]}, "`event_types.0`"),
        ({**valid, "event_types": []}, "`event_types`"),
        ({**valid, "event_types": "leads.assigned"}, "`event_types`"),
        ({"target_url": "https://a.example.test/"}, "`event_types`"),
        ({**valid, "secret": "short"}, "`secret`"),
        ({**valid, "name": ""}, "`name`"),
        ({**valid, "name": "a\x00b"}, "`name`"),
        ({**valid, "secret": "sixteen-chars-\x00-and-more"}, "`secret`"),
    ]
    for body, field in cases:
        response = api.post(WEBHOOKS, json=body)
        assert response.status_code == 400, body
        assert response.json()["error"] == "Bad Request"
        assert response.json()["message"].startswith(field), (body, response.json())
    created = create_webhook(api, **valid)
    path = f"{WEBHOOKS}/{created['id']}"
    assert api.patch(path, json={}).status_code == 400
    assert api.patch(path, json={"target_url": None}).json()["message"] == (
        "`target_url`: must not be null"
    )
    assert api.patch(path, json={"event_types": ["nope"]}).status_code == 400


def test_webhooks_need_the_webhooks_scope(app: Any, api: TestClient) -> None:
    key = api.post("/api/v2/api-keys", json={"name": "Reader", "scopes": ["webhooks:read"]})
    reader = TestClient(app, raise_server_exceptions=False)
    reader.headers["Authorization"] = f"Bearer {key.json()['key']}"
    body = {"target_url": "https://a.example.test/", "event_types": BOTH_EVENTS}

    assert reader.get(WEBHOOKS).status_code == 200
    assert reader.post(WEBHOOKS, json=body).status_code == 403


# --- events and deliveries ---


def test_a_finished_bulk_assign_is_delivered_once_per_event_signed_with_the_counts(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    users = [add_member(api, "ana@acme.test"), add_member(api, "bo@acme.test")]
    insert_leads(db, workspace.workspace_id, many_leads(4))
    insert_leads(db, workspace.workspace_id, many_leads(1, assigned_to=users[0]))
    with webhook_receiver() as receiver:
        webhook = create_webhook(
            api, target_url=receiver.url, event_types=BOTH_EVENTS, secret=SECRET
        )
        job_id = bulk_assign(api, users)

        run_jobs_until_settled(db, settings)

        assert len(receiver.requests) == 2
        job = background_job(api, job_id)
        for request in receiver.requests:
            assert request.path == "/hooks/leadroute"
            assert request.headers["content-type"] == "application/json"
            assert request.headers["x-leadroute-signature"] == expected_signature(
                SECRET, request.body
            )
        events = received_events(receiver)
        assert set(events) == {"leads.assigned", "background_job.finished"}
        assigned = events["leads.assigned"]
        assert assigned["data"] == {
            "job_id": job_id,
            "status": "success",
            "total": job["data"]["total_to_process"],
            "unchanged": job["data"]["unchanged_count"],
            "changed": 4,
            "assigned_per_user": job["data"]["assigned_per_user"],
        }
        assert assigned["data"]["total"] == 5
        assert assigned["data"]["unchanged"] == 1
        assert assigned["data"]["assigned_per_user"] == {users[0]: 3, users[1]: 2}
        assert events["background_job.finished"]["data"] == job
        assert job["status"] == "success"

    listed = deliveries(api, webhook["id"])
    assert [item["event"] for item in listed] == ["leads.assigned", "background_job.finished"]
    by_delivery = {
        request.headers["x-leadroute-delivery"]: request for request in receiver.requests
    }
    for item in listed:
        request = by_delivery[item["id"]]
        body = json.loads(request.body)
        assert request.headers["x-leadroute-event"] == item["event"]
        assert request.headers["x-leadroute-delivery"] == item["id"] == body["id"]
        assert body["workspace_id"] == workspace.workspace_id
        assert body["created_at"] == item["timestamp_created"]
        assert body["data"] == item["payload"]
        assert item["status"] == "delivered"
        assert item["attempts"] == 1
        assert item["last_status_code"] == 200
        assert item["last_error"] is None
        assert item["next_attempt_at"] is None
        assert item["delivered_at"] is not None
        assert [entry["status_code"] for entry in item["attempt_log"]] == [200]
        assert background_job(api, item["job_id"])["status"] == "success"
    # The delivery jobs' own ends announce nothing.
    assert len(deliveries(api, webhook["id"])) == 2


def test_each_finished_job_is_announced_only_to_subscribed_webhooks(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    with webhook_receiver() as receiver:
        finished_only = create_webhook(
            api, target_url=receiver.url, event_types=["background_job.finished"]
        )
        assigned_only = create_webhook(api, target_url=receiver.url, event_types=["leads.assigned"])
        # No leads: the job succeeds having changed nobody's owner.
        job_id = bulk_assign(api, [workspace.owner_user_id])

        run_jobs_until_settled(db, settings)

        assert [json.loads(r.body)["event"] for r in receiver.requests] == [
            "background_job.finished"
        ]
    assert [item["payload"]["id"] for item in deliveries(api, finished_only["id"])] == [job_id]
    assert deliveries(api, assigned_only["id"]) == []


def test_a_delivery_answered_500_twice_is_retried_with_backoff_until_delivered(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    with webhook_receiver(500, 500) as receiver:
        webhook = create_webhook(
            api, target_url=receiver.url, event_types=["background_job.finished"], secret=SECRET
        )
        bulk_assign(api, [workspace.owner_user_id])

        run_jobs_until_settled(db, settings, **FAST_RETRIES)

        assert len(receiver.requests) == 3
        # Every attempt sends the same bytes with the same signature and delivery id.
        assert len({request.body for request in receiver.requests}) == 1
        assert len({request.headers["x-leadroute-delivery"] for request in receiver.requests}) == 1
        assert receiver.requests[0].headers["x-leadroute-signature"] == expected_signature(
            SECRET, receiver.requests[0].body
        )

    [delivery] = deliveries(api, webhook["id"])
    assert delivery["status"] == "delivered"
    assert delivery["attempts"] == 3
    assert delivery["last_status_code"] == 200
    assert delivery["last_error"] is None
    assert [entry["status_code"] for entry in delivery["attempt_log"]] == [500, 500, 200]
    assert [entry["error"] for entry in delivery["attempt_log"]] == [
        "the receiver answered 500",
        "the receiver answered 500",
        None,
    ]
    sender = background_job(api, delivery["job_id"])
    assert sender["type"] == "deliver-webhook"
    assert sender["status"] == "success"
    assert sender["data"]["attempts"] == 3


def test_a_delivery_that_always_fails_is_failed_after_the_last_attempt(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    with webhook_receiver(default_status=503) as receiver:
        webhook = create_webhook(
            api, target_url=receiver.url, event_types=["background_job.finished"]
        )
        bulk_assign(api, [workspace.owner_user_id])

        run_jobs_until_settled(db, settings, webhook_max_attempts=3, **FAST_RETRIES)

        assert len(receiver.requests) == 3

    [delivery] = deliveries(api, webhook["id"])
    assert delivery["status"] == "failed"
    assert delivery["attempts"] == 3
    assert delivery["last_status_code"] == 503
    assert delivery["last_error"] == "the receiver answered 503"
    assert delivery["next_attempt_at"] is None
    assert delivery["delivered_at"] is None
    assert [entry["status_code"] for entry in delivery["attempt_log"]] == [503, 503, 503]
    assert background_job(api, delivery["job_id"])["status"] == "failed"
    assert deliveries(api, webhook["id"], status="failed") == [delivery]
    assert deliveries(api, webhook["id"], status="delivered") == []


def test_a_pending_retry_shows_when_it_will_be_attempted(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    webhook = create_webhook(
        api, target_url=webhook_url_of_closed_port(), event_types=["background_job.finished"]
    )
    bulk_assign(api, [workspace.owner_user_id])

    run_jobs(db, settings)

    [delivery] = deliveries(api, webhook["id"])
    assert delivery["status"] == "pending"
    assert delivery["attempts"] == 1
    assert delivery["last_status_code"] is None
    assert delivery["last_error"].startswith("ConnectError")
    sender = background_job(api, delivery["job_id"])
    assert sender["status"] == "pending"
    assert delivery["next_attempt_at"] is not None
    assert delivery["next_attempt_at"] > delivery["attempt_log"][0]["attempted_at"]


def test_a_receiver_slower_than_the_timeout_is_a_failed_attempt(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    with webhook_receiver(delay=2.0) as receiver:
        webhook = create_webhook(
            api, target_url=receiver.url, event_types=["background_job.finished"]
        )
        bulk_assign(api, [workspace.owner_user_id])

        run_jobs_until_settled(db, settings, webhook_timeout_seconds=0.2, webhook_max_attempts=1)

        assert len(receiver.requests) == 1

    [delivery] = deliveries(api, webhook["id"])
    assert delivery["status"] == "failed"
    assert delivery["last_status_code"] is None
    assert delivery["last_error"] == "timed out after 0.2 s"


def test_a_webhook_deleted_before_delivery_drops_its_pending_delivery(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    with webhook_receiver() as receiver:
        webhook = create_webhook(
            api, target_url=receiver.url, event_types=["background_job.finished"]
        )
        job_id = bulk_assign(api, [workspace.owner_user_id])
        # Cancelling the pending job finishes it: its delivery is queued, not yet sent.
        assert api.post(f"/api/v2/background-jobs/{job_id}/cancel").status_code == 200
        [pending] = deliveries(api, webhook["id"])
        assert pending["status"] == "pending"
        assert pending["payload"]["status"] == "cancelled"
        assert api.delete(f"{WEBHOOKS}/{webhook['id']}").status_code == 200

        run_jobs_until_settled(db, settings)

        assert receiver.requests == []
    sender = background_job(api, pending["job_id"])
    assert sender["status"] == "success"
    assert sender["data"]["result"] == "dropped: the webhook was deleted"


def test_a_changed_url_and_secret_apply_to_pending_deliveries(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    with webhook_receiver() as receiver:
        webhook = create_webhook(
            api,
            target_url=webhook_url_of_closed_port(),
            event_types=["background_job.finished"],
        )
        bulk_assign(api, [workspace.owner_user_id])
        run_jobs(db, settings)
        make_retries_due(db)
        new_secret = "the-rotated-secret-value"
        patched = api.patch(
            f"{WEBHOOKS}/{webhook['id']}",
            json={"target_url": receiver.url, "secret": new_secret},
        )
        assert patched.status_code == 200

        run_jobs_until_settled(db, settings, **FAST_RETRIES)

        [request] = receiver.requests
        assert request.headers["x-leadroute-signature"] == expected_signature(
            new_secret, request.body
        )
    [delivery] = deliveries(api, webhook["id"])
    assert delivery["status"] == "delivered"
    assert delivery["attempts"] == 2


def test_deliveries_page_in_id_order(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    with webhook_receiver() as receiver:
        webhook = create_webhook(
            api, target_url=receiver.url, event_types=["background_job.finished"]
        )
        for _ in range(3):
            bulk_assign(api, [workspace.owner_user_id])
        run_jobs_until_settled(db, settings)
    path = f"{WEBHOOKS}/{webhook['id']}/deliveries"

    first = api.get(path, params={"limit": 2}).json()
    second = api.get(path, params={"limit": 2, "starting_after": first["next_starting_after"]})

    every = deliveries(api, webhook["id"])
    assert len(every) == 3
    assert first["items"] == every[:2]
    assert second.json() == {"items": every[2:]}
    senders = api.get("/api/v2/background-jobs", params={"type": "deliver-webhook"}).json()
    assert sorted(job["id"] for job in senders["items"]) == sorted(item["job_id"] for item in every)


def make_retries_due(db: Database) -> None:
    with db.write_sessions.begin() as session:
        session.execute(
            update(BackgroundJob)
            .where(BackgroundJob.status == "pending")
            .values(run_after=utcnow() - timedelta(seconds=1))
        )


def webhook_url_of_closed_port() -> str:
    """A URL nothing listens on: connecting fails at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/nobody-home"
