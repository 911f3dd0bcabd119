"""Turning finished jobs into webhook deliveries, in the transaction that finishes the job.

:class:`WebhookEvents` is a finish listener (``JobRegistry.add_finish_listener``): a job's
deliveries exist if and only if its final status commits. For each event it writes one
delivery per subscribed webhook and queues one ``deliver-webhook`` job that sends it.

Events (decisions where the contract is silent):
- ``background_job.finished``: every job that ends (``success``, ``failed``, ``cancelled``),
  except the ``deliver-webhook`` jobs themselves (a delivery announcing a delivery would
  never end). Its ``data`` is the job as ``GET /api/v2/background-jobs/{id}`` shows it.
- ``leads.assigned``: an ``assign-leads`` job that ends, however it ends, having changed at
  least one lead's owner. Its ``data``: ``job_id``, ``status``, ``total`` (leads that took
  part), ``unchanged`` (of those, already owned by their target), ``changed`` and
  ``assigned_per_user`` (leads that took part, per target user), the counts of the job's
  ``data`` (for a finished job, ``total`` is its ``total_to_process``).
"""

import uuid
from typing import Any

from sqlalchemy.orm import Session

from leadroute.assignment.kind import ASSIGN_LEADS
from leadroute.ids import new_id
from leadroute.jobs.models import BackgroundJob, JobStatus
from leadroute.jobs.schemas import BackgroundJobRead
from leadroute.jobs.service import enqueue_job
from leadroute.settings import Settings
from leadroute.webhooks.delivery import DELIVER_WEBHOOK
from leadroute.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery, WebhookEvent
from leadroute.webhooks.repository import WebhookRepository


def job_finished_payload(job: BackgroundJob) -> dict[str, Any]:
    payload: dict[str, Any] = BackgroundJobRead.from_job(job).model_dump(mode="json")
    return payload


def leads_assigned_payload(job: BackgroundJob) -> dict[str, Any] | None:
    """The ``leads.assigned`` data of ``job``; None when it is not one that changed owners."""
    if job.type != ASSIGN_LEADS:
        return None
    took_part = int(job.data.get("success_count", 0))
    unchanged = int(job.data.get("unchanged_count", 0))
    if took_part - unchanged <= 0:
        return None
    return {
        "job_id": str(job.id),
        "status": job.status,
        "total": took_part,
        "unchanged": unchanged,
        "changed": took_part - unchanged,
        "assigned_per_user": dict(job.data.get("assigned_per_user", {})),
    }


class WebhookEvents:
    """The finish listener of webhooks (see the module's docstring)."""

    def __init__(self, settings: Settings) -> None:
        self.max_attempts = settings.webhook_max_attempts

    def __call__(self, session: Session, job: BackgroundJob) -> None:
        if job.type == DELIVER_WEBHOOK:
            settle_delivery(session, job)
            return
        # Subscriptions are matched in Python: a workspace has few webhooks, each with a
        # short JSON list of event types (JSON containment differs between the databases).
        webhooks = WebhookRepository(session, job.workspace_id).all()
        if not webhooks:
            return
        events: list[tuple[WebhookEvent, dict[str, Any]]] = []
        assigned = leads_assigned_payload(job)
        if assigned is not None:
            events.append((WebhookEvent.LEADS_ASSIGNED, assigned))
        events.append((WebhookEvent.BACKGROUND_JOB_FINISHED, job_finished_payload(job)))
        for event, payload in events:
            for webhook in webhooks:
                if event in webhook.event_types:
                    self._queue_delivery(session, webhook, event, payload)

    def _queue_delivery(
        self, session: Session, webhook: Webhook, event: WebhookEvent, payload: dict[str, Any]
    ) -> None:
        delivery_id = new_id()
        job = enqueue_job(
            session,
            workspace_id=webhook.workspace_id,
            user_id=None,
            type=DELIVER_WEBHOOK,
            entity_type="workspace",
            entity_id=str(webhook.workspace_id),
            data={
                "webhook_id": str(webhook.id),
                "delivery_id": str(delivery_id),
                "event": event.value,
            },
            state={"delivery_id": str(delivery_id)},
            max_attempts=self.max_attempts,
        )
        session.add(
            WebhookDelivery(
                id=delivery_id,
                workspace_id=webhook.workspace_id,
                webhook_id=webhook.id,
                job_id=job.id,
                event=event.value,
                payload=payload,
                status=DeliveryStatus.PENDING,
                attempts=0,
                attempt_log=[],
                next_attempt_at=job.run_after,
                created_at=job.created_at,
                updated_at=job.created_at,
            )
        )
        session.flush()


def settle_delivery(session: Session, job: BackgroundJob) -> None:
    """A delivery whose job ended without delivering it (cancelled, or failed by the engine
    rather than by a recorded attempt, e.g. a lost lease at the last attempt) is failed."""
    delivery = session.get(WebhookDelivery, uuid.UUID(job.state["delivery_id"]))
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return
    if job.status == JobStatus.SUCCESS:
        return
    delivery.status = DeliveryStatus.FAILED
    delivery.next_attempt_at = None
    delivery.last_error = delivery.last_error or str(job.data.get("error") or job.status)
    delivery.updated_at = job.updated_at
    session.flush()
