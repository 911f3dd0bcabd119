"""Rate limits per workspace (contract section 2): 100 requests a second, 6,000 a minute.

Every key of a workspace draws on one budget. The limiter runs right after the API key is
authenticated (``leadroute.auth.dependencies.authenticate``), so only requests that name a
workspace are counted; a request over the limit is answered 429 in the error envelope with
``Retry-After`` (whole seconds, at least 1) and ``X-RateLimit-Limit``/``-Remaining``/``-Reset``.

Counters live in the process (``limits``' ``MemoryStorage``) or, when ``LEADROUTE_REDIS_URL``
is set, in Redis, so every API process behind a load balancer shares them.

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
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import (
    MemoryStorage,
    MovingWindowSupport,
    RedisStorage,
    Storage,
    storage_from_string,
)
from limits.strategies import MovingWindowRateLimiter
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


class WorkspaceRateLimiter:
    """The per-second and per-minute budgets of each workspace, in one storage.

    ``fallback`` (per-process counters) takes over while ``storage`` (Redis) fails.
    """

    def __init__(
        self,
        *,
        per_second: int,
        per_minute: int,
        storage: Storage,
        fallback: Storage | None = None,
        outage_retry_seconds: float = OUTAGE_RETRY_SECONDS,
    ) -> None:
        # Narrowest window first: see the module docstring.
        self.limits: tuple[RateLimitItem, ...] = (
            RateLimitItemPerSecond(per_second, namespace="workspace"),
            RateLimitItemPerMinute(per_minute, namespace="workspace"),
        )
        self.storage = storage
        # Counting in the process never blocks, so the async auth dependency calls it inline;
        # Redis is network I/O, counted from the thread pool.
        self.counts_in_process = isinstance(storage, MemoryStorage)
        self.primary = MovingWindowRateLimiter(storage)
        self.fallback = MovingWindowRateLimiter(fallback) if fallback is not None else None
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
        if isinstance(self.storage, RedisStorage):
            client: Any = self.storage.get_connection()
            client.close()

    def _hit(self, strategy: MovingWindowRateLimiter, workspace: str) -> Refusal | None:
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

    def _current_strategy(self) -> MovingWindowRateLimiter:
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
            storage=storage,
            fallback=MemoryStorage(),
        )
    return WorkspaceRateLimiter(
        per_second=settings.rate_limit_per_second,
        per_minute=settings.rate_limit_per_minute,
        storage=MemoryStorage(),
    )
