"""What `leadroute serve` and `leadroute worker` run beside their main loop: job worker
threads, SQLite's WAL checkpointer, and the start-up freeze of the garbage collector."""

import gc
import logging
import os
import socket
import threading

from fastapi import FastAPI

from leadroute.app import LifecycleHook
from leadroute.db.checkpoint import WalCheckpointer
from leadroute.db.session import Database
from leadroute.job_kinds import job_registry
from leadroute.jobs.kinds import JobRegistry
from leadroute.jobs.worker import Worker
from leadroute.settings import Settings

logger = logging.getLogger(__name__)

# How long a shutdown waits for a thread to finish its chunk beyond one lease. A thread still
# busy after that is left behind; its lease expires and the reaper re-queues the job.
SHUTDOWN_GRACE_SECONDS = 30.0


class WorkerPool:
    """``size`` worker threads sharing one stop event.

    Each thread is named ``<host>:<pid>:<n>`` in ``lease_owner``, so a job's last holder can
    be traced to a process.
    """

    def __init__(
        self, database: Database, registry: JobRegistry, settings: Settings, *, size: int
    ) -> None:
        self.stop_event = threading.Event()
        self.settings = settings
        prefix = f"{socket.gethostname()}:{os.getpid()}"
        self.workers = [
            Worker(database, registry, settings, name=f"{prefix}:{number}")
            for number in range(1, size + 1)
        ]
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for worker in self.workers:
            thread = threading.Thread(
                target=worker.run_forever,
                args=(self.stop_event,),
                name=f"job-worker-{worker.name}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Ask every thread to finish its chunk and release its job, and wait for them."""
        self.stop_event.set()
        self.join()

    def join(self) -> None:
        timeout = self.settings.job_lease_seconds + SHUTDOWN_GRACE_SECONDS
        for thread in self._threads:
            thread.join(timeout)
            if thread.is_alive():
                logger.warning("%s did not stop within %.0f s", thread.name, timeout)
        self._threads.clear()


def embedded_worker_hooks(
    settings: Settings, database: Database
) -> tuple[LifecycleHook | None, LifecycleHook | None]:
    """Start ``settings.embedded_workers`` worker threads with the app, stop them with it.

    The app's cancel endpoint uses the same registry (``app.state.job_registry``), so finish
    listeners hear of every finished job, however it finished.
    """
    if settings.embedded_workers == 0:
        return None, None
    registry = job_registry(settings)
    pool = WorkerPool(database, registry, settings, size=settings.embedded_workers)

    def start(app: FastAPI) -> None:
        app.state.job_registry = registry
        pool.start()

    def stop(_app: FastAPI) -> None:
        pool.stop()

    return start, stop


def wal_checkpointer(settings: Settings, database: Database) -> WalCheckpointer | None:
    """The thread that checkpoints SQLite's log for this process (None: not SQLite, or off)."""
    if not settings.is_sqlite or settings.sqlite_checkpoint_interval_seconds == 0:
        return None
    return WalCheckpointer(database.engine, settings.sqlite_checkpoint_interval_seconds)


def serve_hooks(
    settings: Settings, database: Database
) -> tuple[LifecycleHook | None, LifecycleHook | None]:
    """What ``leadroute serve`` runs beside the API: embedded workers and, on SQLite, the
    WAL checkpointer; started and stopped with the app."""
    start_workers, stop_workers = embedded_worker_hooks(settings, database)
    checkpointer = wal_checkpointer(settings, database)
    if checkpointer is None:
        return start_workers, stop_workers

    def start(app: FastAPI) -> None:
        checkpointer.start()
        if start_workers:
            start_workers(app)

    def stop(app: FastAPI) -> None:
        if stop_workers:
            stop_workers(app)
        checkpointer.stop()

    return start, stop


def freeze_startup_objects() -> None:
    """Keep what start-up built out of the garbage collector's full passes from now on.

    A full (generation 2) collection walks every object the collector tracks, and after
    start-up that is a few hundred thousand (modules, FastAPI's routes and models,
    SQLAlchemy's metadata) that will never be garbage. Under 300 bulk-assigns a second on
    SQLite such a pass stopped the API process for up to 80 ms, and those pauses were the
    p99 latency (docs/benchmarks.md). Frozen, they are no longer walked; what is made later
    is collected as before. Garbage is collected first, so none is frozen.
    """
    gc.collect()
    gc.freeze()
