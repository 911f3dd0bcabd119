"""A small typed client for leadroute's public HTTP API (Instantly API v2 compatible).

The command line talks to a running server only through this client, so it works against
any leadroute, and against Instantly itself for the endpoints Instantly has.

- Every non-2xx answer becomes :class:`ApiError` carrying the error envelope
  (``statusCode``, ``error``, ``message``); a server that cannot be reached is
  :class:`ServerUnreachable`. Both are :class:`ClientError`.
- A 429 (rate limited) or 503 is retried after its ``Retry-After`` (seconds), a bounded
  number of times; nothing else is retried, so a POST is never sent twice by accident.
- Lists are read with :meth:`Client.paginate` (``GET``) and :meth:`Client.paginate_post`
  (``POST /leads/list``): keyset pages of up to 100 items, following
  ``next_starting_after`` and stopping on a page without one or on an empty page.
"""

import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import httpx

JsonObject = dict[str, Any]

API_PREFIX = "/api/v2"
MAX_PAGE_SIZE = 100
MAX_IMPORT_BATCH = 1000
MAX_ACTIVITY_BATCH = 1000
FINISHED_JOB_STATUSES = frozenset({"success", "failed", "cancelled"})
# Rate limits are per second and per minute: a bounded wait covers a minute's window.
MAX_RATE_LIMIT_RETRIES = 10
DEFAULT_RETRY_AFTER_SECONDS = 1.0
MAX_RETRY_AFTER_SECONDS = 60.0


class ClientError(Exception):
    """The API could not do what was asked."""


class ServerUnreachable(ClientError):
    def __init__(self, base_url: str, reason: str) -> None:
        super().__init__(f"cannot reach leadroute at {base_url}: {reason}")
        self.base_url = base_url


class ApiError(ClientError):
    """A non-2xx answer, with the fields of the error envelope."""

    def __init__(self, status_code: int, error: str, message: str) -> None:
        super().__init__(f"{status_code} {error}: {message}")
        self.status_code = status_code
        self.error = error
        self.message = message

    @classmethod
    def from_response(cls, response: httpx.Response) -> "ApiError":
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and "message" in body:
            return cls(
                int(body.get("statusCode", response.status_code)),
                str(body.get("error", response.reason_phrase)),
                str(body["message"]),
            )
        text = response.text.strip()[:500] or response.reason_phrase
        return cls(response.status_code, response.reason_phrase, text)


@dataclass(frozen=True, slots=True)
class Member:
    """A workspace member; leads are assigned to its ``user_id``."""

    id: str
    user_id: str
    email: str
    role: str

    @classmethod
    def from_json(cls, body: JsonObject) -> Self:
        return cls(
            id=str(body["id"]),
            user_id=str(body["user_id"]),
            email=str(body["email"]),
            role=str(body.get("role", "")),
        )


@dataclass(frozen=True, slots=True)
class NamedResource:
    """A lead list, a campaign or a smart view: what the command line names them by."""

    id: str
    name: str

    @classmethod
    def from_json(cls, body: JsonObject) -> Self:
        return cls(id=str(body["id"]), name=str(body["name"]))


@dataclass(frozen=True, slots=True)
class LeadLabel:
    id: str
    label: str
    interest_status: int | None
    interest_status_label: str

    @classmethod
    def from_json(cls, body: JsonObject) -> Self:
        status = body.get("interest_status")
        return cls(
            id=str(body["id"]),
            label=str(body["label"]),
            interest_status=int(status) if status is not None else None,
            interest_status_label=str(body.get("interest_status_label", "")),
        )


@dataclass(frozen=True, slots=True)
class Job:
    """A background job as ``/background-jobs`` answers it."""

    id: str
    type: str
    status: str
    progress: int
    data: JsonObject
    created_at: str
    updated_at: str

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_JOB_STATUSES

    @classmethod
    def from_json(cls, body: JsonObject) -> Self:
        return cls(
            id=str(body["id"]),
            type=str(body.get("type", "")),
            status=str(body.get("status", "")),
            progress=int(body.get("progress") or 0),
            data=dict(body.get("data") or {}),
            created_at=str(body.get("created_at", "")),
            updated_at=str(body.get("updated_at", "")),
        )


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """The answer of ``POST /leads/add``; ``created_indexes`` are positions in the batch."""

    leads_uploaded: int
    duplicated_leads: int
    skipped_count: int
    invalid_email_count: int
    incomplete_count: int
    duplicate_email_count: int
    created: dict[int, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, body: JsonObject) -> Self:
        return cls(
            leads_uploaded=int(body.get("leads_uploaded") or 0),
            duplicated_leads=int(body.get("duplicated_leads") or 0),
            skipped_count=int(body.get("skipped_count") or 0),
            invalid_email_count=int(body.get("invalid_email_count") or 0),
            incomplete_count=int(body.get("incomplete_count") or 0),
            duplicate_email_count=int(body.get("duplicate_email_count") or 0),
            created={
                int(item["index"]): str(item["id"]) for item in body.get("created_leads") or []
            },
        )


def api_base_url(url: str) -> str:
    """``http://host:8000``, ``http://host:8000/`` and ``http://host:8000/api/v2`` all give
    the server's root; paths are appended with :data:`API_PREFIX`."""
    root = url.strip().rstrip("/")
    return root.removesuffix(API_PREFIX)


class Client:
    """One API key against one server; use as a context manager (it holds a connection pool)."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout: float = 120.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = api_base_url(url)
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url + API_PREFIX,
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "leadroute-cli"},
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- transport ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """The decoded JSON body of a 2xx answer (None for an empty one); else :class:`ApiError`."""
        clean_params = {key: value for key, value in (params or {}).items() if value is not None}
        for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
            try:
                response = self._http.request(
                    method, path, json=json, params=clean_params, headers=headers
                )
            except httpx.TransportError as error:
                raise ServerUnreachable(self.base_url, str(error) or type(error).__name__) from None
            if response.status_code in (429, 503) and attempt < MAX_RATE_LIMIT_RETRIES:
                self._sleep(retry_after_seconds(response))
                continue
            if response.is_success:
                return response.json() if response.content else None
            raise ApiError.from_response(response)
        raise AssertionError("unreachable")  # pragma: no cover

    def paginate(
        self, path: str, params: Mapping[str, Any] | None = None, *, page_size: int = MAX_PAGE_SIZE
    ) -> Iterator[JsonObject]:
        """Every item of a ``GET`` list, page after page."""
        cursor: str | None = None
        while True:
            query = {**(params or {}), "limit": page_size, "starting_after": cursor}
            page = self.request("GET", path, params=query)
            items = page.get("items") or []
            yield from items
            cursor = page.get("next_starting_after")
            if not cursor or not items:
                return

    def paginate_post(
        self, path: str, body: Mapping[str, Any], *, page_size: int = MAX_PAGE_SIZE
    ) -> Iterator[list[JsonObject]]:
        """The pages of a ``POST`` list (``/leads/list``), each a list of items."""
        cursor: str | None = None
        while True:
            request = {**body, "limit": page_size}
            if cursor:
                request["starting_after"] = cursor
            page = self.request("POST", path, json=request)
            items = page.get("items") or []
            if items:
                yield items
            cursor = page.get("next_starting_after")
            if not cursor or not items:
                return

    # --- workspace and its people ------------------------------------------------------------

    def current_workspace(self) -> JsonObject:
        body: JsonObject = self.request("GET", "/workspaces/current")
        return body

    def members(self) -> Iterator[Member]:
        for item in self.paginate("/workspace-members"):
            yield Member.from_json(item)

    def create_member(
        self, email: str, role: str = "editor", nickname: str | None = None
    ) -> Member:
        body = {"email": email, "role": role}
        if nickname is not None:
            body["nickname"] = nickname
        return Member.from_json(self.request("POST", "/workspace-members", json=body))

    # --- lists, campaigns, labels, smart views -----------------------------------------------

    def lead_lists(self, search: str | None = None) -> Iterator[NamedResource]:
        for item in self.paginate("/lead-lists", {"search": search}):
            yield NamedResource.from_json(item)

    def create_lead_list(self, name: str) -> NamedResource:
        return NamedResource.from_json(self.request("POST", "/lead-lists", json={"name": name}))

    def campaigns(self, search: str | None = None) -> Iterator[NamedResource]:
        for item in self.paginate("/campaigns", {"search": search}):
            yield NamedResource.from_json(item)

    def create_campaign(self, name: str, campaign_schedule: JsonObject) -> NamedResource:
        body = {"name": name, "campaign_schedule": campaign_schedule}
        return NamedResource.from_json(self.request("POST", "/campaigns", json=body))

    def smart_views(self, search: str | None = None) -> Iterator[NamedResource]:
        for item in self.paginate("/smart-views", {"search": search}):
            yield NamedResource.from_json(item)

    def lead_labels(self) -> Iterator[LeadLabel]:
        for item in self.paginate("/lead-labels"):
            yield LeadLabel.from_json(item)

    def create_lead_label(
        self, label: str, interest_status_label: str, interest_status: int | None = None
    ) -> LeadLabel:
        body = {
            "label": label,
            "interest_status_label": interest_status_label,
            "interest_status": interest_status,
        }
        body = {key: value for key, value in body.items() if value is not None}
        return LeadLabel.from_json(self.request("POST", "/lead-labels", json=body))

    # --- leads -------------------------------------------------------------------------------

    def add_leads(
        self,
        leads: Sequence[JsonObject],
        *,
        list_id: str | None = None,
        campaign_id: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> ImportSummary:
        """``POST /leads/add`` with 1..1000 leads into a list or a campaign."""
        body: JsonObject = {**(options or {}), "leads": list(leads)}
        if list_id is not None:
            body["list_id"] = list_id
        if campaign_id is not None:
            body["campaign_id"] = campaign_id
        return ImportSummary.from_json(self.request("POST", "/leads/add", json=body))

    def lead_pages(
        self, selection: Mapping[str, Any], *, page_size: int = MAX_PAGE_SIZE
    ) -> Iterator[list[JsonObject]]:
        """Pages of the leads a selection means, in id order (``POST /leads/list``)."""
        return self.paginate_post("/leads/list", selection, page_size=page_size)

    def record_activities(self, activities: Sequence[JsonObject]) -> int:
        """``POST /lead-activities`` [leadroute extension]; answers how many applied."""
        body = self.request("POST", "/lead-activities", json={"activities": list(activities)})
        return int(body.get("applied") or 0)

    # --- assignment and jobs ------------------------------------------------------------------

    def bulk_assign(self, body: Mapping[str, Any], *, idempotency_key: str | None = None) -> Any:
        """``POST /leads/bulk-assign``: the 202 body (with ``job_id``), or the dry-run preview.

        The idempotency key (a leadroute extension; other servers ignore the header) makes a
        repeat of the same request answer the same job instead of queueing another.
        """
        headers = {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}
        return self.request("POST", "/leads/bulk-assign", json=dict(body), headers=headers)

    def jobs(self, params: Mapping[str, Any] | None = None) -> Iterator[Job]:
        for item in self.paginate("/background-jobs", params):
            yield Job.from_json(item)

    def job(self, job_id: str) -> Job:
        return Job.from_json(self.request("GET", f"/background-jobs/{job_id}"))

    def cancel_job(self, job_id: str) -> Job:
        return Job.from_json(self.request("POST", f"/background-jobs/{job_id}/cancel"))

    def revert_job(self, job_id: str) -> str:
        """Queues the revert of an assignment job; answers the revert job's id."""
        body = self.request("POST", f"/background-jobs/{job_id}/revert")
        return str(body["job_id"])


def retry_after_seconds(response: httpx.Response) -> float:
    """``Retry-After`` in seconds (a number; an HTTP date is not worth parsing here)."""
    raw = response.headers.get("Retry-After", "")
    try:
        seconds = float(raw)
    except ValueError:
        return DEFAULT_RETRY_AFTER_SECONDS
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)
