"""Rate limits per workspace: 429 with `Retry-After`, one budget per workspace shared by all
its keys, in memory for one process and through Redis across processes.

The limits are set low here (a few requests) so a test shows the rule without sending
thousands of requests; the defaults are Instantly's published 100/s and 6,000/min.
Redis tests use ``LEADROUTE_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``) with a
key prefix of their own, removed afterwards.
"""

import logging
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import func, select

from leadroute.app import create_app
from leadroute.db.session import Database
from leadroute.lead_lists.models import LeadList
from leadroute.rate_limits import InProcessMovingWindows, WorkspaceRateLimiter, build_rate_limiter
from leadroute.settings import Settings
from tests.conftest import WorkspaceClient, make_workspace
from tests.test_auth import ENDPOINTS, key_clients
from tests.wire import assert_is_error

REDIS_URL = os.environ.get("LEADROUTE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1/0"
CHEAP = "/api/v2/workspaces/current"


def limited_settings(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={"rate_limit_enabled": True, **changes})


def limited_app(
    db: Database,
    settings: Settings,
    *,
    per_second: int = 1000,
    per_minute: int = 1000,
    redis_url: str | None = None,
    key_prefix: str | None = None,
) -> FastAPI:
    """An app with rate limits on; with ``key_prefix``, its own limiter (its own Redis
    connections) under that prefix, as a separate API process would have."""
    effective = limited_settings(
        settings, rate_limit_per_second=per_second, rate_limit_per_minute=per_minute
    )
    effective = effective.model_copy(update={"redis_url": redis_url})
    limiter = build_rate_limiter(effective, key_prefix=key_prefix) if key_prefix else None
    return create_app(effective, database=db, rate_limiter=limiter)


def client_for(app: FastAPI, api_key: str) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {api_key}"
    return client


def statuses(client: TestClient, count: int, path: str = CHEAP) -> list[int]:
    return [client.get(path).status_code for _ in range(count)]


def assert_rate_limited(response: Any, *, limit: int) -> int:
    """The response is a 429 in the envelope with its headers; returns `Retry-After`."""
    assert_is_error(response, 429)
    retry_after = response.headers["Retry-After"]
    assert retry_after.isdigit(), retry_after
    assert int(retry_after) >= 1
    assert response.headers["X-RateLimit-Limit"] == str(limit)
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) >= int(time.time())
    return int(retry_after)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the test Redis; its keys are deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis at {REDIS_URL} is needed for this test: {error}")
    prefix = f"leadroute-test:{uuid.uuid4()}"
    yield prefix
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


# --- configuration ---------------------------------------------------------------------


def test_the_defaults_are_100_a_second_and_6000_a_minute_and_on() -> None:
    defaults = Settings(database_url="sqlite://")
    assert defaults.rate_limit_enabled is True
    assert (defaults.rate_limit_per_second, defaults.rate_limit_per_minute) == (100, 6000)

    limiter = build_rate_limiter(defaults)

    assert limiter is not None
    assert [(item.amount, item.get_expiry()) for item in limiter.limits] == [(100, 1), (6000, 60)]


def test_the_limits_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADROUTE_RATE_LIMIT_PER_SECOND", "7")
    monkeypatch.setenv("LEADROUTE_RATE_LIMIT_PER_MINUTE", "70")
    monkeypatch.setenv("LEADROUTE_REDIS_URL", REDIS_URL)

    limiter = build_rate_limiter(Settings(database_url="sqlite://"))

    assert limiter is not None
    assert [item.amount for item in limiter.limits] == [7, 70]
    assert isinstance(limiter.redis, RedisStorage)


def test_disabled_rate_limits_let_every_request_through(
    app: FastAPI, api: TestClient, settings: Settings
) -> None:
    assert settings.rate_limit_enabled is False
    assert app.state.rate_limiter is None
    small = settings.model_copy(update={"rate_limit_per_second": 1, "rate_limit_per_minute": 1})
    assert build_rate_limiter(small) is None

    assert statuses(api, 5) == [200] * 5


# --- the limits --------------------------------------------------------------------------


def test_a_burst_over_the_per_second_limit_is_429_with_retry_after_one_second(
    db: Database, settings: Settings, workspace: WorkspaceClient
) -> None:
    client = client_for(limited_app(db, settings, per_second=5), workspace.api_key)

    started = time.monotonic()
    answered = statuses(client, 5)
    refused = client.get(CHEAP)
    assert time.monotonic() - started < 1.0, "the burst must fit in one second"

    assert answered == [200] * 5
    assert assert_rate_limited(refused, limit=5) == 1
    assert "5 requests per second" in refused.json()["message"]


def test_over_the_per_minute_limit_retry_after_counts_down_to_the_oldest_request(
    db: Database, settings: Settings, workspace: WorkspaceClient
) -> None:
    client = client_for(limited_app(db, settings, per_minute=3), workspace.api_key)

    assert statuses(client, 3) == [200] * 3
    refused = client.get(CHEAP)

    retry_after = assert_rate_limited(refused, limit=3)
    assert 55 <= retry_after <= 60
    assert "3 requests per minute" in refused.json()["message"]


def test_a_client_that_keeps_retrying_gets_through_once_the_window_frees(
    db: Database, settings: Settings, workspace: WorkspaceClient
) -> None:
    """Refused requests are not counted: otherwise retries would keep the window full."""
    client = client_for(limited_app(db, settings, per_second=2), workspace.api_key)
    started = time.monotonic()
    assert statuses(client, 2) == [200, 200]

    answered_at = []
    while time.monotonic() - started < 1.6:
        response = client.get(CHEAP)
        if response.status_code == 200:
            answered_at.append(time.monotonic() - started)
        else:
            assert_rate_limited(response, limit=2)
        time.sleep(0.02)

    assert answered_at, "retries never got through"
    assert answered_at[0] >= 1.0


def test_every_key_of_a_workspace_draws_on_one_budget(
    db: Database, settings: Settings, workspace: WorkspaceClient
) -> None:
    app = limited_app(db, settings, per_minute=4)
    owner = client_for(app, workspace.api_key)
    script = key_clients(app, db, workspace, {"script": ["all:all"]})["script"]

    assert statuses(owner, 2) + statuses(script, 2) == [200] * 4

    assert_rate_limited(owner.get(CHEAP), limit=4)
    assert_rate_limited(script.get(CHEAP), limit=4)


def test_each_workspace_has_a_budget_of_its_own(db: Database, settings: Settings) -> None:
    app = limited_app(db, settings, per_minute=2)
    acme = make_workspace(app, db, "Acme", "owner@acme.test").client
    globex = make_workspace(app, db, "Globex", "owner@globex.test").client

    assert statuses(acme, 2) == [200, 200]
    assert_rate_limited(acme.get(CHEAP), limit=2)

    assert statuses(globex, 2) == [200, 200]
    assert_rate_limited(acme.get(CHEAP), limit=2)


def test_requests_without_a_valid_key_are_401_and_not_counted(
    db: Database, settings: Settings, workspace: WorkspaceClient
) -> None:
    app = limited_app(db, settings, per_second=2, per_minute=2)
    anonymous = TestClient(app, raise_server_exceptions=False)
    wrong = client_for(app, "lr_" + "x" * 43)

    assert statuses(anonymous, 5) + statuses(wrong, 5) == [401] * 10

    assert statuses(client_for(app, workspace.api_key), 2) == [200, 200]


def test_a_refused_request_writes_nothing(
    db: Database, settings: Settings, workspace: WorkspaceClient
) -> None:
    client = client_for(limited_app(db, settings, per_minute=1), workspace.api_key)
    assert client.get(CHEAP).status_code == 200

    assert_rate_limited(client.post("/api/v2/lead-lists", json={"name": "Late"}), limit=1)

    with db.read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(LeadList)) == 0


def test_every_endpoint_is_rate_limited(
    db: Database, settings: Settings, workspace: WorkspaceClient
) -> None:
    """Checked before the body, the path and the scope: a refused call does no work at all."""
    client = client_for(limited_app(db, settings, per_minute=1), workspace.api_key)
    assert client.get(CHEAP).status_code == 200

    for endpoint in ENDPOINTS:
        response = endpoint.call(client)
        assert response.status_code == 429, f"{endpoint.name}: {response.status_code}"
        assert_rate_limited(response, limit=1)


# --- processes -------------------------------------------------------------------------


def test_in_memory_counters_belong_to_one_process(
    db: Database, settings: Settings, workspace: WorkspaceClient
) -> None:
    """Without Redis, two API processes each allow the whole budget: why Redis exists."""
    first = client_for(limited_app(db, settings, per_minute=2), workspace.api_key)
    second = client_for(limited_app(db, settings, per_minute=2), workspace.api_key)

    assert statuses(first, 2) == [200, 200]
    assert statuses(second, 2) == [200, 200]
    assert_rate_limited(first.get(CHEAP), limit=2)


def test_two_app_instances_share_one_budget_through_redis(
    db: Database, settings: Settings, redis_prefix: str
) -> None:
    first_app = limited_app(
        db, settings, per_minute=4, redis_url=REDIS_URL, key_prefix=redis_prefix
    )
    second_app = limited_app(
        db, settings, per_minute=4, redis_url=REDIS_URL, key_prefix=redis_prefix
    )
    assert first_app.state.rate_limiter is not second_app.state.rate_limiter
    acme = make_workspace(first_app, db, "Acme", "owner@acme.test")
    globex = make_workspace(second_app, db, "Globex", "owner@globex.test")
    on_first = client_for(first_app, acme.api_key)
    on_second = client_for(second_app, acme.api_key)

    answered = [
        on_first.get(CHEAP).status_code,
        on_second.get(CHEAP).status_code,
        on_first.get(CHEAP).status_code,
        on_second.get(CHEAP).status_code,
    ]

    assert answered == [200] * 4
    assert_rate_limited(on_first.get(CHEAP), limit=4)
    assert_rate_limited(on_second.get(CHEAP), limit=4)
    assert statuses(globex.client, 4) == [200] * 4
    stored = redis.Redis.from_url(REDIS_URL)
    keys = {key.decode() for key in stored.scan_iter(match=f"{redis_prefix}:*")}
    assert any(acme.workspace_id in key for key in keys), keys
    assert all(0 < stored.ttl(key) <= 60 for key in keys)
    stored.close()


def test_an_unreachable_redis_falls_back_to_per_process_counting_with_one_warning(
    db: Database, settings: Settings, workspace: WorkspaceClient, caplog: pytest.LogCaptureFixture
) -> None:
    app = limited_app(db, settings, per_minute=3, redis_url=UNREACHABLE_REDIS_URL)
    client = client_for(app, workspace.api_key)

    with caplog.at_level(logging.WARNING, logger="leadroute.rate_limits"):
        answered = statuses(client, 3)
        refused = client.get(CHEAP)

    assert answered == [200] * 3
    assert_rate_limited(refused, limit=3)
    warnings = [r for r in caplog.records if r.name == "leadroute.rate_limits"]
    assert len(warnings) == 1
    assert "in this process" in warnings[0].getMessage()


def test_redis_is_tried_again_after_an_outage(
    redis_prefix: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    limiter = build_rate_limiter(
        limited_settings(settings, redis_url=REDIS_URL, rate_limit_per_minute=100),
        key_prefix=redis_prefix,
    )
    assert isinstance(limiter, WorkspaceRateLimiter)
    limiter.outage_retry_seconds = 0.2
    workspace = str(uuid.uuid4())
    stored = redis.Redis.from_url(REDIS_URL)

    def counted_in_redis() -> int:
        keys = list(stored.scan_iter(match=f"{redis_prefix}:*{workspace}*minute"))
        return sum(int(stored.llen(key)) for key in keys)

    with monkeypatch.context() as patch:
        patch.setattr(
            limiter.redis,
            "acquire_entry",
            lambda *args, **kwargs: (_ for _ in ()).throw(redis.ConnectionError("down")),
        )
        assert limiter.hit(workspace) is None
        assert limiter.hit(workspace) is None
    assert counted_in_redis() == 0

    time.sleep(0.25)
    assert limiter.hit(workspace) is None

    assert counted_in_redis() == 1
    limiter.close()
    stored.close()


# --- the in-process counts ---------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_in_process_windows_follow_the_moving_window_rule() -> None:
    clock = FakeClock()
    windows = InProcessMovingWindows(clock)
    per_second = RateLimitItemPerSecond(3, namespace="workspace")

    for offset in (0.0, 0.2, 0.4):
        clock.now = 1_000_000.0 + offset
        assert windows.hit(per_second, "w")
    clock.now = 1_000_000.9
    assert not windows.hit(per_second, "w")  # 3 in the last second already
    assert windows.hit(per_second, "other")  # another workspace, another window
    reset, remaining = windows.get_window_stats(per_second, "w")
    assert (reset, remaining) == (1_000_001.0, 0)  # the oldest leaves at +1 s

    clock.now = 1_000_001.05
    assert windows.hit(per_second, "w")  # the first one has left (a refusal counted none)
    assert not windows.hit(per_second, "w")
    reset, remaining = windows.get_window_stats(per_second, "w")
    assert (reset, remaining) == (1_000_001.2, 0)


def test_in_process_windows_agree_with_limits_memory_storage() -> None:
    """The same sequence of hits gets the same answers as ``limits``' own in-memory counts."""
    ours = InProcessMovingWindows()
    theirs = MovingWindowRateLimiter(MemoryStorage())
    per_minute = RateLimitItemPerMinute(5, namespace="workspace")
    for _ in range(8):
        assert ours.hit(per_minute, "w") == theirs.hit(per_minute, "w")
        assert ours.get_window_stats(per_minute, "w").remaining == (
            theirs.get_window_stats(per_minute, "w").remaining
        )


def test_in_process_windows_forget_workspaces_that_stopped_calling() -> None:
    clock = FakeClock()
    windows = InProcessMovingWindows(clock)
    per_minute = RateLimitItemPerMinute(100, namespace="workspace")
    for number in range(50):
        assert windows.hit(per_minute, f"idle-{number}")
    assert len(windows) == 50

    clock.now += InProcessMovingWindows.SWEEP_SECONDS + 61
    assert windows.hit(per_minute, "busy")
    assert len(windows) == 1
