"""What a job kind is, and the registry a worker finds kinds (and finish listeners) in."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from leadroute.jobs.models import BackgroundJob

FinishListener = Callable[[Session, BackgroundJob], None]


@dataclass
class ChunkOutcome:
    """What one chunk leaves behind: the job's new ``data``, ``state`` and ``progress``.

    ``finished`` ends the job with status ``success``. The key ``error`` of ``data`` belongs
    to the engine (the last failed attempt's message) and is dropped on success.
    """

    data: dict[str, Any]
    state: dict[str, Any]
    progress: int
    finished: bool


class JobKind(Protocol):
    """One type of job. ``run_chunk`` does one chunk of set-based SQL.

    It is called inside the chunk's write transaction, after the engine has checked that this
    worker still holds the job; the engine then writes the outcome in the same transaction and
    commits, so a chunk's effects and the job's progress are durable together or not at all.
    A chunk that raises is rolled back and retried later, so chunks must be idempotent with
    respect to ``state`` (re-running a chunk from the same state gives the same result).
    """

    type: str

    def run_chunk(self, session: Session, job: BackgroundJob) -> ChunkOutcome: ...


class JobRegistry:
    """The job kinds a worker can run, and who to tell when a job finishes."""

    def __init__(self) -> None:
        self._kinds: dict[str, JobKind] = {}
        self._finish_listeners: list[FinishListener] = []

    def register(self, kind: JobKind) -> None:
        if kind.type in self._kinds:
            raise ValueError(f"job kind {kind.type!r} is already registered")
        self._kinds[kind.type] = kind

    def get(self, type: str) -> JobKind:
        try:
            return self._kinds[type]
        except KeyError:
            raise LookupError(f"no job kind {type!r} is registered") from None

    def types(self) -> list[str]:
        """The types this registry runs: a worker claims only jobs it knows how to run."""
        return sorted(self._kinds)

    def add_finish_listener(self, listener: FinishListener) -> None:
        """``listener(session, job)`` runs in the transaction that moves a job to
        ``success``, ``failed`` or ``cancelled``; if it raises, that transaction rolls back."""
        self._finish_listeners.append(listener)

    @property
    def finish_listeners(self) -> tuple[FinishListener, ...]:
        return tuple(self._finish_listeners)
