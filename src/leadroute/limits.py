"""Request body size limit, enforced before the body is parsed."""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadroute.errors import error_response


class BodySizeLimit:
    """Answers 413 for a body over ``max_bytes``, by its Content-Length or as it streams in."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, receive, send)
            return

        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge(self.max_bytes)
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _BodyTooLarge:
            await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, f"Request body is larger than the limit of {self.max_bytes} bytes"
        )
        await response(scope, receive, send)


class _BodyTooLarge(HTTPException):
    """Raised while the body streams in; an HTTPException, so whatever reads the body
    (FastAPI's parser included) lets it through as a 413 instead of a parse error."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(
            status_code=413, detail=f"Request body is larger than the limit of {max_bytes} bytes"
        )
