"""A first-come, first-served lock for SQLite writers inside one process.

SQLite lets one writer in at a time and makes the others poll (the busy timeout). Polling is
not fair: a job worker that commits a chunk and begins the next one at once can win the lock
again and again while an API request keeps sleeping until its timeout runs out ("database is
locked"). Queueing this process's writers here first, in arrival order, gives each writer its
turn; SQLite's own lock then only arbitrates between processes.
"""

import threading
from collections import deque


class FairLock:
    """A non-reentrant lock handed to waiters in the order they asked for it."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Event] = deque()

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held and not self._waiters:
                self._held = True
                return True
            turn = threading.Event()
            self._waiters.append(turn)
        if turn.wait(timeout):
            return True
        with self._mutex:
            if turn.is_set():  # handed over between the timeout and here
                return True
            self._waiters.remove(turn)
            return False

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                # Hand over directly: the lock stays held, so nobody can barge in between.
                self._waiters.popleft().set()
            else:
                self._held = False
