"""Webhooks: where a workspace's events are delivered, and what became of each delivery."""

import secrets
import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from leadroute.errors import BadRequest, NotFound
from leadroute.webhooks.models import Webhook, WebhookDelivery
from leadroute.webhooks.repository import WebhookRepository
from leadroute.webhooks.schemas import WebhookCreate, WebhookUpdate

# Every finished job fans out to each subscribed webhook in the transaction that finishes it;
# the bound keeps that transaction short.
MAX_WEBHOOKS_PER_WORKSPACE = 25
SECRET_PREFIX = "whsec_"


def generate_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class WebhookService:
    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.webhooks = WebhookRepository(session, workspace_id)
        self.workspace_id = workspace_id

    def get(self, webhook_id: uuid.UUID) -> Webhook:
        webhook = self.webhooks.get(webhook_id)
        if webhook is None:
            raise NotFound(f"Webhook {webhook_id} not found")
        return webhook

    def page(
        self, *, limit: int, starting_after: uuid.UUID | None
    ) -> tuple[Sequence[Webhook], uuid.UUID | None]:
        return self.webhooks.page(limit=limit, starting_after=starting_after)

    def create(self, body: WebhookCreate) -> Webhook:
        if self.webhooks.count() >= MAX_WEBHOOKS_PER_WORKSPACE:
            raise BadRequest(
                f"a workspace has at most {MAX_WEBHOOKS_PER_WORKSPACE} webhooks; delete one first"
            )
        return self.webhooks.add(
            Webhook(
                workspace_id=self.workspace_id,
                name=body.name,
                target_url=body.target_url,
                event_types=list(body.event_types),
                secret=body.secret or generate_secret(),
            )
        )

    def update(self, webhook_id: uuid.UUID, body: WebhookUpdate) -> Webhook:
        """Pending deliveries go to the URL, and are signed with the secret, current when
        each attempt is made."""
        webhook = self.get(webhook_id)
        changes = body.model_dump(exclude_unset=True)
        if not changes:
            raise BadRequest(
                "body: give at least one of `target_url`, `event_types`, `secret`, `name`"
            )
        for field in ("target_url", "event_types", "secret"):
            if field in changes and changes[field] is None:
                raise BadRequest(f"`{field}`: must not be null")
        for field, value in changes.items():
            setattr(webhook, field, value)
        self.webhooks.session.flush()
        return webhook

    def delete(self, webhook_id: uuid.UUID) -> Webhook:
        """Deletes the webhook and its deliveries: those still pending are never sent."""
        webhook = self.get(webhook_id)
        self.webhooks.delete(webhook)
        return webhook

    def page_deliveries(
        self,
        webhook_id: uuid.UUID,
        *,
        status: str | None,
        limit: int,
        starting_after: uuid.UUID | None,
    ) -> tuple[Sequence[WebhookDelivery], uuid.UUID | None]:
        self.get(webhook_id)
        return self.webhooks.page_deliveries(
            webhook_id, status=status, limit=limit, starting_after=starting_after
        )
