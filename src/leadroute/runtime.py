"""Starting and stopping the job workers that run inside `leadroute serve`."""

from leadroute.app import LifecycleHook
from leadroute.db.session import Database
from leadroute.settings import Settings


def embedded_worker_hooks(
    settings: Settings, database: Database
) -> tuple[LifecycleHook | None, LifecycleHook | None]:
    """No job engine yet: the API runs alone."""
    return None, None
