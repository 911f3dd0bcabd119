"""The load generator's HTTP client: prepared HTTP/1.1 requests on one kept-alive socket.

The load tests share this machine's two cores with the server and the database, so the
client's own CPU is taken from them. httpx cost the bench process 1.0 to 1.3 ms of CPU per
request here, a third of what the server spent on an accepted bulk-assign; this client
sends bytes encoded once and reads the status line, the headers and ``Content-Length``
bytes of body, for about a tenth of that (each load test reports its figure as
``client_cpu_ms_per_request``). The server sees the same requests as from any HTTP/1.1
client: uvicorn parses them with httptools either way.

It speaks only what the server answers to these requests (a ``Content-Length`` body, no
chunked encoding); anything else raises :class:`LoadClientError`, which a load test counts
as an error.
"""

import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

MAX_HEADER_BYTES = 64 * 1024


class LoadClientError(Exception):
    """The connection broke or the answer was not one this client reads."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Request:
    """A request's bytes, encoded once and sent as often as the load needs."""

    def __init__(
        self, method: str, path: str, *, host: str, api_key: str, body: Any = None
    ) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        head = [
            f"{method} {path} HTTP/1.1",
            f"Host: {host}",
            f"Authorization: Bearer {api_key}",
            "Accept: application/json",
        ]
        if body is not None:
            head += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        self.data = ("\r\n".join(head) + "\r\n\r\n").encode() + payload


class LoadClient:
    """One kept-alive connection to ``base_url``; not shared between threads."""

    def __init__(self, base_url: str, api_key: str, timeout: float = 60.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"an http://host:port URL is needed, got {base_url!r}")
        self.address = (parts.hostname, parts.port)
        self.host = parts.netloc
        self.api_key = api_key
        self.timeout = timeout
        self._socket: socket.socket | None = None
        self._buffer = b""

    def request(self, method: str, path: str, body: Any = None) -> Request:
        return Request(method, path, host=self.host, api_key=self.api_key, body=body)

    def send(self, request: Request) -> Answer:
        """Send ``request`` and read its answer; reconnects once if the kept-alive socket
        was closed by the server between requests."""
        reused = self._socket is not None
        try:
            return self._exchange(request)
        except (ConnectionError, LoadClientError):
            self.close()
            if not reused:
                raise
        return self._exchange(request)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._buffer = b""

    def __enter__(self) -> "LoadClient":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _connected(self) -> socket.socket:
        if self._socket is None:
            connection = socket.create_connection(self.address, timeout=self.timeout)
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._socket = connection
        return self._socket

    def _exchange(self, request: Request) -> Answer:
        connection = self._connected()
        connection.sendall(request.data)
        end = self._buffer.find(b"\r\n\r\n")
        while end < 0:
            if len(self._buffer) > MAX_HEADER_BYTES:
                raise LoadClientError("the response's headers are too long")
            self._buffer += self._received(connection)
            end = self._buffer.find(b"\r\n\r\n")
        head, self._buffer = self._buffer[:end].decode("latin-1"), self._buffer[end + 4 :]
        lines = head.split("\r\n")
        try:
            status = int(lines[0].split(" ", 2)[1])
        except (IndexError, ValueError):
            raise LoadClientError(f"not an HTTP status line: {lines[0]!r}") from None
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                raise LoadClientError("a chunked response: this client reads Content-Length")
        while len(self._buffer) < length:
            self._buffer += self._received(connection)
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        return Answer(status, body)

    @staticmethod
    def _received(connection: socket.socket) -> bytes:
        data = connection.recv(65536)
        if not data:
            raise LoadClientError("the server closed the connection")
        return data
