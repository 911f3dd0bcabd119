import functools
import uuid
from collections.abc import Iterable, Sequence
from typing import cast

from sqlalchemy import Select, Table, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadroute.members.models import User, WorkspaceMember
from leadroute.pagination import fetch_page
from leadroute.search import like_pattern


class UserRepository:
    """Users are global (one per email); memberships tie them to workspaces."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get_or_create(self, email: str) -> User:
        """The user with this email (lower-cased), created if new.

        Two requests may create the same new user at once: the loser's insert fails on the
        unique email inside a savepoint, and it reads the winner's row instead.
        """
        normalized = email.strip().lower()
        user = self._by_email(normalized)
        if user is not None:
            return user
        try:
            with self.session.begin_nested():
                user = User(email=normalized)
                self.session.add(user)
        except IntegrityError:
            user = self._by_email(normalized)
            if user is None:
                raise
        return user

    def _by_email(self, normalized_email: str) -> User | None:
        return self.session.scalar(select(User).where(User.email == normalized_email))


_members = cast(Table, WorkspaceMember.__table__)
# Users checked per statement; a longer list takes several.
MEMBER_BATCH = 500


@functools.lru_cache(maxsize=64)
def member_user_ids_among(count: int) -> Select[tuple[uuid.UUID]]:
    """Which of ``count`` users (``user_0`` ... ``user_<count-1>``) are members of a workspace.

    Every bulk-assign checks its users, so the statement is built once per count, of Core
    columns: building a statement per call costs more than running it, and an ORM select
    goes through the ORM's execution path even for one column. The list is one bound
    value per user, not an expanding IN, which SQLAlchemy re-renders at every execution
    (3% of an accepted bulk-assign's instructions, ``python -m bench.instructions``).
    """
    return select(_members.c.user_id).where(
        _members.c.workspace_id == bindparam("workspace_id"),
        _members.c.user_id.in_(
            [bindparam(f"user_{index}", type_=_members.c.user_id.type) for index in range(count)]
        ),
    )


class MemberRepository:
    """Members of one workspace."""

    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    def readable(self) -> Select[WorkspaceMember]:
        return select(WorkspaceMember).where(WorkspaceMember.workspace_id == self.workspace_id)

    def get(self, member_id: uuid.UUID) -> WorkspaceMember | None:
        return self.session.scalar(self.readable().where(WorkspaceMember.id == member_id))

    def get_by_user(self, user_id: uuid.UUID) -> WorkspaceMember | None:
        return self.session.scalar(self.readable().where(WorkspaceMember.user_id == user_id))

    def member_user_ids(self, user_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """Which of ``user_ids`` are users of current members of this workspace."""
        wanted = list(set(user_ids))
        found: set[uuid.UUID] = set()
        for start in range(0, len(wanted), MEMBER_BATCH):
            batch = wanted[start : start + MEMBER_BATCH]
            parameters: dict[str, object] = {f"user_{i}": user for i, user in enumerate(batch)}
            parameters["workspace_id"] = self.workspace_id
            found.update(self.session.scalars(member_user_ids_among(len(batch)), parameters))
        return found

    def page(
        self,
        *,
        limit: int,
        starting_after: uuid.UUID | None,
        accepted: bool | None,
        search: str | None,
    ) -> tuple[Sequence[WorkspaceMember], uuid.UUID | None]:
        statement = self.readable()
        if accepted is not None:
            statement = statement.where(WorkspaceMember.accepted == accepted)
        if search:
            pattern = like_pattern(search)
            full_name = func.coalesce(User.first_name, "") + " " + func.coalesce(User.last_name, "")
            statement = statement.where(
                WorkspaceMember.user_id.in_(
                    select(User.id).where(
                        or_(
                            func.lower(User.email).like(pattern, escape="\\"),
                            func.lower(full_name).like(pattern, escape="\\"),
                            func.lower(WorkspaceMember.nickname).like(pattern, escape="\\"),
                        )
                    )
                )
            )
        return fetch_page(
            self.session,
            statement,
            WorkspaceMember.id,
            limit=limit,
            starting_after=starting_after,
        )

    def add(self, member: WorkspaceMember) -> WorkspaceMember:
        self.session.add(member)
        self.session.flush()
        return member

    def delete(self, member: WorkspaceMember) -> None:
        self.session.delete(member)
        self.session.flush()
