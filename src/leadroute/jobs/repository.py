import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from leadroute.jobs.models import BackgroundJob

SortColumn = Literal["created_at", "updated_at"]
SORT_COLUMNS: dict[str, InstrumentedAttribute[datetime]] = {
    "created_at": BackgroundJob.created_at,
    "updated_at": BackgroundJob.updated_at,
}


@dataclass(frozen=True)
class JobFilters:
    """The list endpoint's filters; each given one is ANDed."""

    ids: list[uuid.UUID] | None = None
    excluded_ids: list[uuid.UUID] | None = None
    type: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    statuses: list[str] | None = None


@dataclass(frozen=True)
class JobOrder:
    """``column`` None orders by id alone; otherwise by (column, id), id breaking ties."""

    column: SortColumn | None = None
    descending: bool = False


class JobRepository:
    """Background jobs of one workspace; no query here can see another workspace's jobs."""

    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    def readable(self) -> Select[BackgroundJob]:
        return select(BackgroundJob).where(BackgroundJob.workspace_id == self.workspace_id)

    def get(self, job_id: uuid.UUID, *, for_update: bool = False) -> BackgroundJob | None:
        statement = self.readable().where(BackgroundJob.id == job_id)
        if for_update:
            statement = statement.with_for_update()
        return self.session.scalar(statement)

    def page(
        self,
        filters: JobFilters,
        order: JobOrder,
        *,
        limit: int,
        starting_after: uuid.UUID | None,
    ) -> tuple[Sequence[BackgroundJob], uuid.UUID | None]:
        """One keyset page in ``order``, and the cursor (an id) of the next page or None.

        With a timestamp order the page after ``starting_after`` is the rows after that job's
        (timestamp, id), so pages neither skip nor repeat rows with equal timestamps.
        """
        statement = self._filtered(filters)
        if starting_after is not None:
            statement = statement.where(self._after(order, starting_after))
        keys = (
            [SORT_COLUMNS[order.column], BackgroundJob.id] if order.column else [BackgroundJob.id]
        )
        statement = statement.order_by(*(key.desc() if order.descending else key for key in keys))
        rows = self.session.scalars(statement.limit(limit + 1)).all()
        if len(rows) > limit:
            rows = rows[:limit]
            return rows, rows[-1].id
        return rows, None

    def _filtered(self, filters: JobFilters) -> Select[BackgroundJob]:
        statement = self.readable()
        if filters.ids is not None:
            statement = statement.where(BackgroundJob.id.in_(filters.ids))
        if filters.excluded_ids:
            statement = statement.where(BackgroundJob.id.not_in(filters.excluded_ids))
        if filters.type is not None:
            statement = statement.where(BackgroundJob.type == filters.type)
        if filters.entity_type is not None:
            statement = statement.where(BackgroundJob.entity_type == filters.entity_type)
        if filters.entity_id is not None:
            statement = statement.where(BackgroundJob.entity_id == filters.entity_id)
        if filters.statuses is not None:
            statement = statement.where(BackgroundJob.status.in_(filters.statuses))
        return statement

    def _after(self, order: JobOrder, cursor: uuid.UUID) -> ColumnElement[bool]:
        if order.column is None:
            return BackgroundJob.id < cursor if order.descending else BackgroundJob.id > cursor
        column = SORT_COLUMNS[order.column]
        # An alias, so the subquery reads the cursor job's row, not the outer query's.
        anchor = aliased(BackgroundJob, name="anchor")
        cursor_value = (
            select(getattr(anchor, order.column))
            .where(anchor.workspace_id == self.workspace_id, anchor.id == cursor)
            .scalar_subquery()
        )
        if order.descending:
            return or_(
                column < cursor_value, and_(column == cursor_value, BackgroundJob.id < cursor)
            )
        return or_(column > cursor_value, and_(column == cursor_value, BackgroundJob.id > cursor))
