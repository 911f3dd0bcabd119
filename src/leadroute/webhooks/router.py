import uuid
from typing import Annotated

from fastapi import Query

from leadroute.auth.dependencies import Caller, scoped
from leadroute.db.session import SessionDep
from leadroute.pagination import DEFAULT_PAGE_SIZE, Page, PageLimit, StartingAfter
from leadroute.routing import api_router
from leadroute.webhooks.schemas import (
    DeliveryStatusValue,
    WebhookCreate,
    WebhookCreated,
    WebhookDeliveryRead,
    WebhookRead,
    WebhookUpdate,
)
from leadroute.webhooks.service import WebhookService

router = api_router(prefix="/api/v2/webhooks", tags=["Webhooks"])


@router.post("", response_model=WebhookCreated)
def create_webhook(
    body: WebhookCreate,
    caller: Annotated[Caller, scoped("webhooks", "create")],
    session: SessionDep,
) -> WebhookCreated:
    """[extension] Subscribe a URL to events. The answer shows the signing `secret` (given or
    generated); no later answer does."""
    webhook = WebhookService(session, caller.workspace_id).create(body)
    return WebhookCreated.model_validate(webhook)


@router.get("", response_model=Page[WebhookRead])
def list_webhooks(
    caller: Annotated[Caller, scoped("webhooks", "read")],
    session: SessionDep,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    starting_after: StartingAfter = None,
) -> Page[WebhookRead]:
    """[extension] The workspace's webhooks in id order."""
    rows, cursor = WebhookService(session, caller.workspace_id).page(
        limit=limit, starting_after=starting_after
    )
    return Page(
        items=[WebhookRead.model_validate(row) for row in rows],
        next_starting_after=str(cursor) if cursor else None,
    )


@router.get("/{id}", response_model=WebhookRead)
def get_webhook(
    id: uuid.UUID,
    caller: Annotated[Caller, scoped("webhooks", "read")],
    session: SessionDep,
) -> WebhookRead:
    """[extension] One webhook."""
    return WebhookRead.model_validate(WebhookService(session, caller.workspace_id).get(id))


@router.patch("/{id}", response_model=WebhookRead)
def update_webhook(
    id: uuid.UUID,
    body: WebhookUpdate,
    caller: Annotated[Caller, scoped("webhooks", "update")],
    session: SessionDep,
) -> WebhookRead:
    """[extension] Change the URL, the events, the name or the secret (pending deliveries use
    the new URL and secret)."""
    webhook = WebhookService(session, caller.workspace_id).update(id, body)
    return WebhookRead.model_validate(webhook)


@router.delete("/{id}", response_model=WebhookRead)
def delete_webhook(
    id: uuid.UUID,
    caller: Annotated[Caller, scoped("webhooks", "delete")],
    session: SessionDep,
) -> WebhookRead:
    """[extension] Delete a webhook and its deliveries (pending ones are never sent);
    answers the deleted webhook."""
    webhook = WebhookService(session, caller.workspace_id).delete(id)
    return WebhookRead.model_validate(webhook)


@router.get("/{id}/deliveries", response_model=Page[WebhookDeliveryRead])
def list_webhook_deliveries(
    id: uuid.UUID,
    caller: Annotated[Caller, scoped("webhooks", "read")],
    session: SessionDep,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    starting_after: StartingAfter = None,
    status: Annotated[DeliveryStatusValue | None, Query()] = None,
) -> Page[WebhookDeliveryRead]:
    """[extension] The webhook's deliveries in id order (oldest first), each with its
    attempts: count, log (status code or error of each) and the next attempt's time."""
    rows, cursor = WebhookService(session, caller.workspace_id).page_deliveries(
        id, status=status, limit=limit, starting_after=starting_after
    )
    return Page(
        items=[WebhookDeliveryRead.model_validate(row) for row in rows],
        next_starting_after=str(cursor) if cursor else None,
    )
