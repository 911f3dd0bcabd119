"""The ``deliver-webhook`` job kind: one delivery, sent by the job engine, at least once.

Each delivery has its own job, so the engine's attempts, backoff and ``failed`` after the
last attempt apply to it. The HTTP call is made in :meth:`DeliverWebhookKind.prepare`,
outside any transaction (a chunk's transaction holds SQLite's only write lock); the chunk
then records the attempt in the delivery row. A failed attempt is committed with
``ChunkOutcome.failed_attempt``, so its status code or error stays visible while the engine
schedules the retry.

The request: ``POST`` of the JSON body, with ``Content-Type: application/json``,
``X-Leadroute-Event``, ``X-Leadroute-Delivery`` (the delivery id) and
``X-Leadroute-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes, keyed with the
webhook's secret>``. Any 2xx is delivered; any other status (redirects are not followed),
a timeout or a connection error is a failed attempt. The body is built the same way at
every attempt, so a retry sends the same bytes and the same signature.
"""

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from leadroute.db.session import Database
from leadroute.ids import format_timestamp, utcnow
from leadroute.jobs.dialect import database_now
from leadroute.jobs.kinds import ChunkOutcome, JobSnapshot
from leadroute.jobs.lifecycle import next_attempt_at
from leadroute.jobs.models import BackgroundJob
from leadroute.settings import Settings
from leadroute.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery

DELIVER_WEBHOOK = "deliver-webhook"
EVENT_HEADER = "X-Leadroute-Event"
DELIVERY_HEADER = "X-Leadroute-Delivery"
SIGNATURE_HEADER = "X-Leadroute-Signature"
USER_AGENT = "leadroute-webhooks/1"
ERROR_TEXT_LIMIT = 500


def sign(secret: str, body: bytes) -> str:
    """The ``X-Leadroute-Signature`` value of ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """``{"id", "event", "workspace_id", "created_at", "data"}`` as compact JSON, keys sorted."""
    envelope = {
        "id": str(delivery.id),
        "event": delivery.event,
        "workspace_id": str(delivery.workspace_id),
        "created_at": format_timestamp(delivery.created_at),
        "data": delivery.payload,
    }
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class DeliverWebhookKind:
    type = DELIVER_WEBHOOK

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def prepare(self, job: JobSnapshot, database: Database) -> dict[str, Any]:
        """Send the delivery once; what happened, for :meth:`run_chunk` to record.

        The delivery and its webhook are read first (the URL and secret current now), and the
        read session is closed before the call.
        """
        delivery_id = uuid.UUID(job.state["delivery_id"])
        with database.read_sessions() as session:
            row = session.execute(
                select(WebhookDelivery, Webhook)
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(WebhookDelivery.id == delivery_id)
            ).first()
            if row is None:
                return {"sent": False}
            delivery, webhook = row
            if delivery.status != DeliveryStatus.PENDING:
                return {"sent": False}
            body = delivery_body(delivery)
            url = webhook.target_url
            headers = {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                EVENT_HEADER: delivery.event,
                DELIVERY_HEADER: str(delivery.id),
                SIGNATURE_HEADER: sign(webhook.secret, body),
            }
        return {"sent": True, **self._post(url, body, headers)}

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        attempted_at = utcnow()
        started = time.monotonic()
        status_code: int | None = None
        error: str | None = None
        try:
            # Streamed and never read: only the status line matters, whatever the body.
            with (
                httpx.Client(timeout=self.settings.webhook_timeout_seconds) as client,
                client.stream("POST", url, content=body, headers=headers) as response,
            ):
                status_code = response.status_code
        except httpx.TimeoutException:
            error = f"timed out after {self.settings.webhook_timeout_seconds:g} s"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"[:ERROR_TEXT_LIMIT]
        if status_code is not None and not 200 <= status_code < 300:
            error = f"the receiver answered {status_code}"
        return {
            "attempted_at": format_timestamp(attempted_at),
            "status_code": status_code,
            "error": error,
            "duration_ms": round((time.monotonic() - started) * 1000),
        }

    def run_chunk(
        self, session: Session, job: BackgroundJob, prepared: dict[str, Any] | None = None
    ) -> ChunkOutcome:
        """Record the attempt ``prepare`` made: delivered, or a failed attempt to retry."""
        if prepared is None:
            raise RuntimeError("a deliver-webhook chunk records the attempt `prepare` made")
        data: dict[str, Any] = dict(job.data)
        state: dict[str, Any] = dict(job.state)
        delivery = session.get(WebhookDelivery, uuid.UUID(state["delivery_id"]))
        if delivery is None:
            data["result"] = "dropped: the webhook was deleted"
            return ChunkOutcome(data=data, state=state, progress=100, finished=True)
        if delivery.status != DeliveryStatus.PENDING:
            data["result"] = f"already {delivery.status}"
            return ChunkOutcome(data=data, state=state, progress=100, finished=True)
        if not prepared["sent"]:
            # The delivery appeared between prepare's read and now: impossible unless ids
            # were reused; retrying is the safe answer.
            raise RuntimeError(f"delivery {delivery.id} was not sent")

        now = database_now(session)
        error: str | None = prepared["error"]
        entry = {key: prepared[key] for key in ("attempted_at", "status_code", "error")}
        entry["duration_ms"] = prepared["duration_ms"]
        delivery.attempts += 1
        delivery.attempt_log = [*delivery.attempt_log, entry][-self.settings.webhook_max_attempts :]
        flag_modified(delivery, "attempt_log")
        delivery.last_status_code = prepared["status_code"]
        delivery.last_error = error
        delivery.updated_at = now
        data["attempts"] = delivery.attempts
        data["status_code"] = prepared["status_code"]
        if error is None:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            data["result"] = DeliveryStatus.DELIVERED.value
            return ChunkOutcome(data=data, state=state, progress=100, finished=True)
        delivery.next_attempt_at = next_attempt_at(job, settings=self.settings, now=now)
        if delivery.next_attempt_at is None:
            delivery.status = DeliveryStatus.FAILED
        return ChunkOutcome(
            data=data, state=state, progress=0, finished=False, failed_attempt=error
        )
