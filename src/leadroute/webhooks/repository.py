import uuid
from collections.abc import Sequence

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from leadroute.pagination import fetch_page
from leadroute.webhooks.models import Webhook, WebhookDelivery


class WebhookRepository:
    """Webhooks of one workspace and their deliveries; no query here can see another
    workspace's."""

    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    def readable(self) -> Select[Webhook]:
        return select(Webhook).where(Webhook.workspace_id == self.workspace_id)

    def get(self, webhook_id: uuid.UUID) -> Webhook | None:
        return self.session.scalar(self.readable().where(Webhook.id == webhook_id))

    def count(self) -> int:
        statement = select(func.count()).where(Webhook.workspace_id == self.workspace_id)
        return self.session.scalar(statement) or 0

    def page(
        self, *, limit: int, starting_after: uuid.UUID | None
    ) -> tuple[Sequence[Webhook], uuid.UUID | None]:
        return fetch_page(
            self.session, self.readable(), Webhook.id, limit=limit, starting_after=starting_after
        )

    def all(self) -> Sequence[Webhook]:
        """Every webhook of the workspace, in id order (at most a few dozen)."""
        return self.session.scalars(self.readable().order_by(Webhook.id)).all()

    def add(self, webhook: Webhook) -> Webhook:
        self.session.add(webhook)
        self.session.flush()
        return webhook

    def delete(self, webhook: Webhook) -> None:
        """The webhook and its deliveries; their pending jobs find nothing left to send."""
        self.session.execute(
            delete(WebhookDelivery).where(
                WebhookDelivery.workspace_id == self.workspace_id,
                WebhookDelivery.webhook_id == webhook.id,
            ),
            execution_options={"synchronize_session": False},
        )
        self.session.delete(webhook)
        self.session.flush()

    def deliveries(self, webhook_id: uuid.UUID) -> Select[WebhookDelivery]:
        return select(WebhookDelivery).where(
            WebhookDelivery.workspace_id == self.workspace_id,
            WebhookDelivery.webhook_id == webhook_id,
        )

    def page_deliveries(
        self,
        webhook_id: uuid.UUID,
        *,
        status: str | None,
        limit: int,
        starting_after: uuid.UUID | None,
    ) -> tuple[Sequence[WebhookDelivery], uuid.UUID | None]:
        statement = self.deliveries(webhook_id)
        if status is not None:
            statement = statement.where(WebhookDelivery.status == status)
        return fetch_page(
            self.session,
            statement,
            WebhookDelivery.id,
            limit=limit,
            starting_after=starting_after,
        )
