"""Runtime configuration, read from ``LEADROUTE_*`` environment variables.

One ``Settings`` object is built by the caller (the CLI, the app factory, a test) and passed
down; no module reads the environment on import.
"""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEADROUTE_", extra="ignore")

    database_url: str = "sqlite:///./leadroute.db"
    # SQLite waits this long for the write lock before giving up with "database is locked".
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    # A commit that takes SQLite's write-ahead log past this many pages (4 KiB each) copies
    # the log back into the database itself (a checkpoint); SQLite's own default is 1,000.
    # `serve` and `worker` checkpoint in a thread of their own every
    # `sqlite_checkpoint_interval_seconds` (0: they leave it to the commits), which keeps
    # the log far below this, so commits rarely pay for it (leadroute.db.checkpoint).
    sqlite_wal_autocheckpoint_pages: int = Field(default=16_384, ge=0)
    sqlite_checkpoint_interval_seconds: float = Field(default=0.25, ge=0)

    # `leadroute serve` logs one line per request (uvicorn's access log). It costs about 6% of
    # a bare GET's CPU: turn it off behind a proxy that logs requests itself.
    access_log: bool = True
    # Embedded job workers started by `leadroute serve` (0 disables them).
    embedded_workers: int = Field(default=1, ge=0)
    # How many leads one job chunk touches: one transaction per chunk. 10,000 keeps a chunk's
    # transaction (and SQLite's write lock) near 0.1 s while the per-chunk costs (commit,
    # job bookkeeping) stay a few percent of a bulk job (docs/benchmarks.md).
    job_chunk_size: int = Field(default=10_000, ge=1)
    # A worker that has not renewed its lease for this long is presumed dead.
    job_lease_seconds: float = Field(default=30.0, gt=0)
    job_max_attempts: int = Field(default=5, ge=1)
    # An idle worker looks for a claimable job this often: a new job waits 0.1 s on average.
    job_poll_interval_seconds: float = Field(default=0.2, gt=0)
    # A failed attempt is retried after this many seconds, doubling with each one, up to the max.
    job_retry_base_seconds: float = Field(default=2.0, gt=0)
    job_retry_max_seconds: float = Field(default=300.0, gt=0)
    # Test/extension hook: comma-separated `module:attribute` job kinds to register as well.
    extra_job_kinds: str = ""

    # An authenticated key is remembered this long (0: looked up on every request). A key
    # revoked through another process stops working here within this time.
    api_key_cache_seconds: float = Field(default=2.0, ge=0, le=60)

    rate_limit_per_second: int = Field(default=100, ge=1)
    rate_limit_per_minute: int = Field(default=6000, ge=1)
    rate_limit_enabled: bool = True
    redis_url: str | None = None

    # Webhook deliveries: each attempt's HTTP timeout (far below a job lease: the call runs
    # while the worker holds the delivery's job), and attempts before a delivery is `failed`.
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=20)
    webhook_max_attempts: int = Field(default=10, ge=1, le=25)

    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
