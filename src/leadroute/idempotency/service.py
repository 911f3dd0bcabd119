"""``Idempotency-Key``: a request repeated with the same key answers what the first one did.

Within :data:`KEY_LIFETIME` of its first use, a key repeated with the same body answers the
job the first request started (no new job); with another body it is a 409. An older key is
forgotten and starts over. Keys are per workspace.

Decisions where the contract is silent:
- The fingerprint is the SHA-256 of the canonical JSON (sorted keys, no spaces) of the fields
  the client sent that leadroute reads, plus the operation's name: fields leadroute ignores
  do not make a body "another body", and a key can never replay another endpoint's job.
- Two concurrent first uses of one key: the second waits for the first to commit and then
  answers the same job (or 409 if its body differs); if the first fails, the second runs.
- A request that fails (400, 404, ...) leaves no key behind: the key is written in the same
  transaction as the job, so the client may retry it with a corrected body.
"""

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from leadroute.errors import BadRequest, Conflict
from leadroute.idempotency.repository import IdempotencyKeyRepository
from leadroute.jobs.dialect import database_now

HEADER = "Idempotency-Key"
KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255


def validate_key(raw: str | None) -> str | None:
    """The header's value, or None when absent; 400 unless 1..255 printable ASCII characters."""
    if raw is None:
        return None
    if not 1 <= len(raw) <= MAX_KEY_LENGTH or not all(" " <= char <= "~" for char in raw):
        raise BadRequest(
            f"`{HEADER}`: give 1 to {MAX_KEY_LENGTH} printable ASCII characters "
            f"(got {len(raw)} characters)"
        )
    return raw


def request_fingerprint(operation: str, body: Mapping[str, Any]) -> str:
    canonical = json.dumps(
        {"operation": operation, "body": body},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyKeys:
    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.keys = IdempotencyKeyRepository(session, workspace_id)

    def job_for(
        self,
        key: str | None,
        fingerprint_of_request: Callable[[], str],
        start_job: Callable[[], uuid.UUID],
    ) -> uuid.UUID:
        """The job of this request: started now by ``start_job`` (in this transaction), or
        the one an earlier request with ``key`` and the same fingerprint started.

        The fingerprint is computed only for a request with a key: without one there is
        nothing to compare, and a body's canonical JSON and hash are a few per cent of an
        accept's CPU.
        """
        if key is None:
            return start_job()
        fingerprint = fingerprint_of_request()
        now = database_now(self.session)
        self.keys.forget_older_than(now - KEY_LIFETIME)
        if self.keys.claim(key, fingerprint, now=now):
            job_id = start_job()
            self.keys.record_job(key, job_id)
            return job_id
        earlier = self.keys.get(key)
        if earlier is None or earlier.job_id is None:
            # Only if the claiming transaction vanished between the claim and this read.
            raise Conflict(f"`{HEADER}`: a request with this key is in progress; retry it")
        if earlier.fingerprint != fingerprint:
            raise Conflict(
                f"`{HEADER}`: this key was used with another request body in the last "
                f"{KEY_LIFETIME.total_seconds() / 3600:.0f} hours; use a new key"
            )
        return earlier.job_id
