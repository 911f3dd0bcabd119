"""Lead labels: custom interest statuses, each a number outside the built-in set.

Allocation of ``interest_status`` when the request gives none [decided]: one more than the
largest number already in use in the workspace, by a label or by a lead, and at least 5. So a
new label never takes a number that a lead still carries from a deleted label. Should that
pass the 32-bit limit (only after someone chose a huge number by hand), the smallest free
number >= 5 is taken instead. Two concurrent creates may pick the same number: the unique
(workspace, interest_status) stops the second, which picks again.
"""

import uuid
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadroute.errors import BadRequest, Conflict, NotFound
from leadroute.lead_labels.models import LeadLabel
from leadroute.lead_labels.repository import LeadLabelRepository
from leadroute.lead_labels.schemas import (
    INTEREST_STATUS_MAX,
    LeadLabelCreate,
    LeadLabelUpdate,
)

FIRST_CUSTOM_INTEREST_STATUS = 5
ALLOCATION_ATTEMPTS = 5


class LeadLabelService:
    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.labels = LeadLabelRepository(session, workspace_id)
        self.workspace_id = workspace_id

    def get(self, label_id: uuid.UUID) -> LeadLabel:
        label = self.labels.get(label_id)
        if label is None:
            raise NotFound(f"Lead label {label_id} not found")
        return label

    def page(
        self, *, limit: int, starting_after: uuid.UUID | None, search: str | None
    ) -> tuple[Sequence[LeadLabel], uuid.UUID | None]:
        return self.labels.page(limit=limit, starting_after=starting_after, search=search)

    def create(self, body: LeadLabelCreate, *, created_by: uuid.UUID | None) -> LeadLabel:
        def build(interest_status: int) -> LeadLabel:
            return LeadLabel(
                workspace_id=self.workspace_id,
                label=body.label,
                interest_status=interest_status,
                interest_status_label=body.interest_status_label,
                description=body.description,
                use_with_ai=body.use_with_ai,
                created_by=created_by,
            )

        if body.interest_status is not None:
            taken = Conflict(
                f"`interest_status`: {body.interest_status} is already used by a lead label"
            )
            if self.labels.get_by_interest_status(body.interest_status) is not None:
                raise taken
            label = self._insert(build(body.interest_status))
            if label is None:
                raise taken
            return label

        for _ in range(ALLOCATION_ATTEMPTS):
            label = self._insert(build(self._next_interest_status()))
            if label is not None:
                return label
        raise Conflict("`interest_status`: could not allocate one, please retry")

    def update(self, label_id: uuid.UUID, body: LeadLabelUpdate) -> LeadLabel:
        """`interest_status` is read-only (ignored if sent): leads carry the number."""
        label = self.get(label_id)
        changes = body.model_dump(exclude_unset=True)
        if not changes:
            raise BadRequest(
                "body: give at least one of `label`, `interest_status_label`, `description`, "
                "`use_with_ai`"
            )
        for field in ("label", "interest_status_label"):
            if field in changes and changes[field] is None:
                raise BadRequest(f"`{field}`: must not be null")
        for field, value in changes.items():
            setattr(label, field, value)
        self.session.flush()
        return label

    def delete(self, label_id: uuid.UUID) -> LeadLabel:
        """Deletes the label; leads keep their `lt_interest_status` number."""
        label = self.get(label_id)
        self.labels.delete(label)
        return label

    def _insert(self, label: LeadLabel) -> LeadLabel | None:
        """Inserts in a savepoint; None when the number was taken meanwhile."""
        try:
            with self.session.begin_nested():
                self.labels.add(label)
        except IntegrityError:
            return None
        return label

    def _next_interest_status(self) -> int:
        used = self.labels.used_interest_statuses()
        highest_lead = self.labels.highest_lead_interest_status()
        candidate = max([FIRST_CUSTOM_INTEREST_STATUS - 1, *used, highest_lead or 0]) + 1
        if candidate <= INTEREST_STATUS_MAX:
            return candidate
        candidate = FIRST_CUSTOM_INTEREST_STATUS
        while candidate in used:
            candidate += 1
        return candidate
