"""Authenticated keys remembered for a few seconds, so a busy client skips the key lookup.

At hundreds of requests a second from one key, looking the key up on every request is one
more statement (and, for a sync lookup, one more hop through the thread pool) per request.
An entry lives ``ttl_seconds`` (``LEADROUTE_API_KEY_CACHE_SECONDS``, 2 s by default; 0
turns the cache off). A key revoked through this process's API is forgotten at once; a key
revoked through another process (another API process, a direct database change) stops
working here within ``ttl_seconds``.
"""

import threading
import time
import uuid
from collections.abc import Callable

from leadroute.auth.caller import Caller


class ApiKeyCache:
    """Callers by the SHA-256 digest of their key; at most ``max_entries`` of them."""

    def __init__(
        self,
        ttl_seconds: float,
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, tuple[float, Caller]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> Caller | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        expires_at, caller = entry
        if self._clock() >= expires_at:
            return None
        return caller

    def put(self, digest: str, caller: Caller) -> None:
        if self.ttl_seconds <= 0:
            return
        with self._lock:
            if digest not in self._entries and len(self._entries) >= self.max_entries:
                # Oldest first: dicts keep insertion order.
                del self._entries[next(iter(self._entries))]
            self._entries[digest] = (self._clock() + self.ttl_seconds, caller)

    def forget(self, api_key_id: uuid.UUID) -> None:
        """Drop the key's entry (it was revoked): its next request is looked up again."""
        with self._lock:
            for digest, (_expires_at, caller) in list(self._entries.items()):
                if caller.api_key_id == api_key_id:
                    del self._entries[digest]
