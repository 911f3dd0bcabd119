"""Rate limits per workspace (contract section 2): 100 requests a second, 6,000 a minute.

Every key of a workspace draws on one budget. The limiter runs right after the API key is
authenticated (``leadroute.auth.dependencies.authenticate``), so only requests that name a
workspace are counted; a request over the limit is answered 429 in the error envelope with
``Retry-After`` (whole seconds, at least 1) and ``X-RateLimit-Limit``/``-Remaining``/``-Reset``.

Counters live in the process (:class:`InProcessMovingWindows`) or, when ``LEADROUTE_REDIS_URL``
is set, in Redis through ``limits``, so every API process behind a load balancer shares them.

Decisions where the contract is silent:

- Moving windows (``limits``' moving-window strategy): no second and no minute ever holds
  more than the limit, with no burst at a window boundary, and ``Retry-After`` is when the
  oldest counted request leaves the window, i.e. when the next request will pass.
- A refused request is not counted, so a client that retries too early does not push its
  own recovery further out. The per-second window is taken first: a request that passes it
  but is refused by the per-minute window keeps its per-second slot (the minute is spent
  anyway, so this only matters to a client that is already waiting).
- Requests without a valid key (401) are not limited here: they name no workspace, and
  limiting by client address is only right where the address is the client's (behind a
  proxy every client would share one budget). A reverse proxy in front of leadroute is
  the place for per-address limits; a 401 costs one indexed lookup.
- With Redis, each window holds the API processes' own timestamps: their clocks must agree
  (NTP); a skew of a few milliseconds only shifts when a slot frees.
- Redis unreachable: the API stays up. The limiter logs one warning, falls back to the
  per-process counters (each process then allows the full budget on its own) and tries Redis
  again after ``OUTAGE_RETRY_SECONDS``; a socket timeout keeps a hung Redis from holding
  requests for long.
"""

import logging
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import (
    MovingWindowSupport,
    RedisStorage,
    Storage,
    storage_from_string,
)
from limits.strategies import MovingWindowRateLimiter
from limits.util import WindowStats
from redis.exceptions import RedisError

from leadroute.errors import TooManyRequests
from leadroute.settings import Settings

logger = logging.getLogger(__name__)

DEFAULT_KEY_PREFIX = "leadroute:ratelimit"
# A Redis call that takes longer than this counts as an outage (connect and each command).
REDIS_TIMEOUT_SECONDS = 0.5
# After an outage, requests use the per-process counters this long before Redis is tried again.
OUTAGE_RETRY_SECONDS = 5.0

STORAGE_ERRORS = (StorageError, RedisError, OSError)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request was refused: the limit it hit and when the next request can pass."""

    limit: RateLimitItem
    retry_after: int
    reset_at: int

    def error(self) -> TooManyRequests:
        window = "second" if isinstance(self.limit, RateLimitItemPerSecond) else "minute"
        return TooManyRequests(
            f"Rate limit of {self.limit.amount} requests per {window} for this workspace "
            f"exceeded; retry after {self.retry_after} s",
            headers={
                "Retry-After": str(self.retry_after),
                "X-RateLimit-Limit": str(self.limit.amount),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(self.reset_at),
            },
        )


class WindowCounter(Protocol):
    """What counts one window: ``limits``' moving-window strategy, or this process's own."""

    def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool: ...

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats: ...


class InProcessMovingWindows:
    """``limits``' moving-window rule, counted in this process: a deque of times per window.

    The same keys, windows and answers as ``MovingWindowRateLimiter`` over ``limits``'
    ``MemoryStorage``, which does it with a list grown at its front (a copy of the whole
    window per request) and a thread started every 10 ms to drop expired entries. Under
    12 clients sending bulk-assigns back to back, that was 5 to 7% of one API process's
    accepts (measured with ``LEADROUTE_RATE_LIMIT_ENABLED`` on and off; with this class,
    on is within 2.5% of off). Here a request drops its window's expired times from the
    left and appends its own; windows left idle are forgotten every ``SWEEP_SECONDS``, so
    a workspace that stopped calling holds no memory.
    """

    SWEEP_SECONDS = 60.0

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[int, deque[float]]] = {}
        self._lock = threading.Lock()
        self._next_sweep = clock() + self.SWEEP_SECONDS

    def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        now = self._clock()
        expiry = item.get_expiry()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            times = self._current(item.key_for(*identifiers), expiry, now)
            if len(times) + cost > item.amount:
                return False
            times.extend([now] * cost)
            return True

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        """When the window's oldest time leaves it, and what is left of its budget."""
        now = self._clock()
        expiry = item.get_expiry()
        with self._lock:
            times = self._current(item.key_for(*identifiers), expiry, now)
            start = times[0] if times else now
            return WindowStats(start + expiry, item.amount - len(times))

    def __len__(self) -> int:
        """How many windows are held."""
        return len(self._windows)

    def _current(self, key: str, expiry: int, now: float) -> deque[float]:
        """The key's times within ``expiry`` seconds of ``now``, oldest first."""
        _expiry, times = self._windows.setdefault(key, (expiry, deque()))
        horizon = now - expiry
        while times and times[0] < horizon:
            times.popleft()
        return times

    def _sweep(self, now: float) -> None:
        for key, (expiry, times) in list(self._windows.items()):
            if not times or times[-1] < now - expiry:
                del self._windows[key]
        self._next_sweep = now + self.SWEEP_SECONDS


class WorkspaceRateLimiter:
    """The per-second and per-minute budgets of each workspace.

    With ``redis``, the budgets are counted there (shared by every API process), and this
    process's own counts take over while Redis fails; without it, they are this process's.
    """

    def __init__(
        self,
        *,
        per_second: int,
        per_minute: int,
        redis: Storage | None = None,
        outage_retry_seconds: float = OUTAGE_RETRY_SECONDS,
    ) -> None:
        # Narrowest window first: see the module docstring.
        self.limits: tuple[RateLimitItem, ...] = (
            RateLimitItemPerSecond(per_second, namespace="workspace"),
            RateLimitItemPerMinute(per_minute, namespace="workspace"),
        )
        self.redis = redis
        # Counting in the process never blocks, so the async auth dependency calls it inline;
        # Redis is network I/O, counted from the thread pool.
        self.counts_in_process = redis is None
        self.primary: WindowCounter
        self.fallback: WindowCounter | None
        if redis is None:
            self.primary, self.fallback = InProcessMovingWindows(), None
        else:
            self.primary, self.fallback = MovingWindowRateLimiter(redis), InProcessMovingWindows()
        self.outage_retry_seconds = outage_retry_seconds
        self._outage_until = 0.0
        self._lock = threading.Lock()

    def check(self, workspace_id: uuid.UUID) -> None:
        """Count one request of the workspace; raises 429 if it is over a limit."""
        refusal = self.hit(str(workspace_id))
        if refusal is not None:
            raise refusal.error()

    def hit(self, workspace: str) -> Refusal | None:
        strategy = self._current_strategy()
        try:
            return self._hit(strategy, workspace)
        except STORAGE_ERRORS as error:
            if self.fallback is None or strategy is self.fallback:
                raise
            self._start_outage(error)
            return self._hit(self.fallback, workspace)

    def close(self) -> None:
        """Closes the Redis connections (the app's lifespan calls it at shutdown)."""
        if isinstance(self.redis, RedisStorage):
            client: Any = self.redis.get_connection()
            client.close()

    def _hit(self, strategy: WindowCounter, workspace: str) -> Refusal | None:
        for limit in self.limits:
            if not strategy.hit(limit, workspace):
                reset_at, _remaining = strategy.get_window_stats(limit, workspace)
                now = time.time()
                return Refusal(
                    limit=limit,
                    retry_after=max(1, math.ceil(reset_at - now)),
                    reset_at=math.ceil(max(reset_at, now)),
                )
        return None

    def _current_strategy(self) -> WindowCounter:
        if self.fallback is not None and time.monotonic() < self._outage_until:
            return self.fallback
        return self.primary

    def _start_outage(self, error: Exception) -> None:
        with self._lock:
            if time.monotonic() < self._outage_until:
                return
            self._outage_until = time.monotonic() + self.outage_retry_seconds
        logger.warning(
            "rate limit storage unavailable (%s: %s); counting requests in this process "
            "for the next %.0f s",
            type(error).__name__,
            error,
            self.outage_retry_seconds,
        )


def build_rate_limiter(
    settings: Settings, *, key_prefix: str = DEFAULT_KEY_PREFIX
) -> WorkspaceRateLimiter | None:
    """The limiter the settings describe, or None when rate limiting is disabled.

    ``key_prefix`` namespaces the Redis keys (several deployments, or tests, on one Redis).
    """
    if not settings.rate_limit_enabled:
        return None
    if settings.redis_url:
        storage = storage_from_string(
            settings.redis_url,
            key_prefix=key_prefix,
            wrap_exceptions=True,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        if not isinstance(storage, Storage) or not isinstance(storage, MovingWindowSupport):
            raise ValueError(
                f"LEADROUTE_REDIS_URL: {settings.redis_url!r} is not a synchronous Redis URL"
            )
        return WorkspaceRateLimiter(
            per_second=settings.rate_limit_per_second,
            per_minute=settings.rate_limit_per_minute,
            redis=storage,
        )
    return WorkspaceRateLimiter(
        per_second=settings.rate_limit_per_second,
        per_minute=settings.rate_limit_per_minute,
    )
