"""Requests carrying a NUL character (U+0000) are refused with a 400 naming the field.

PostgreSQL cannot store U+0000 in ``text`` or ``jsonb`` (psycopg refuses it before sending),
so a NUL in any string of a request (a name, a custom variable, a search term, a lead email a
job stores) was a 500 on PostgreSQL while SQLite stored it. No field of the API has a use for
it, so it is refused at the door, the same way on both engines, for every endpoint at once.

JSON can carry a NUL only as the escape ``\\u0000`` and a query string only as ``%00``; the
guard looks for those bytes first and parses only a request that has them, to name the field
the way validation errors do (``campaign_schedule.schedules.1.name``).
"""

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadroute.errors import error_response

# `\u0000` preceded by an even number of backslashes: an escape, not the text "\u0000".
JSON_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
NUL = "\x00"
MESSAGE = "must not contain NUL characters (\\u0000)"


class RejectNulCharacters:
    """Answers 400 for a query string or a JSON body with a NUL in any string or key."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        field = query_field_with_nul(scope.get("query_string", b""))
        if field is not None:
            await error_response(400, f"`{field}`: {MESSAGE}")(scope, receive, send)
            return
        # The whole body, as FastAPI reads it anyway (its size is bounded by BodySizeLimit).
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending its body
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        field = body_field_with_nul(body)
        if field is not None:
            await error_response(400, f"`{field}`: {MESSAGE}")(scope, receive, send)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def query_field_with_nul(query_string: bytes) -> str | None:
    """The first query parameter whose name or value holds a NUL."""
    if b"%00" not in query_string and b"\x00" not in query_string:
        return None
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if NUL in name or NUL in value:
            return _printable(name)
    return None


def body_field_with_nul(body: bytes) -> str | None:
    """The path of the first string or key with a NUL in a JSON body (``body`` for the root)."""
    if not JSON_NUL_ESCAPE.search(body):
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None  # not JSON: the route's own parsing answers 400
    path = _path_to_nul(document, [])
    if path is None:
        return None
    return ".".join(_printable(str(part)) for part in path) or "body"


def _path_to_nul(value: Any, path: list[str | int]) -> list[str | int] | None:
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                return [*path, key]
            found = _path_to_nul(item, [*path, key])
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _path_to_nul(item, [*path, index])
            if found is not None:
                return found
    return None


def _printable(name: str) -> str:
    return name.replace(NUL, "\\u0000")
