"""A real HTTP receiver for webhook tests: ``http.server`` in a thread on 127.0.0.1.

It records every request (path, headers, exact body bytes) and answers the scripted status
codes in order, then ``default_status``; ``delay`` seconds before answering makes timeouts.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    scripted: list[int]
    default_status: int
    delay: float
    requests: list[ReceivedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self.lock:
            return self.scripted.pop(0) if self.scripted else self.default_status

    def record(self, request: ReceivedRequest) -> None:
        with self.lock:
            self.requests.append(request)


@contextmanager
def webhook_receiver(
    *statuses: int, default_status: int = 200, delay: float = 0.0
) -> Iterator[Receiver]:
    receiver = Receiver(url="", scripted=list(statuses), default_status=default_status, delay=delay)
    stop_delaying = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.record(
                ReceivedRequest(
                    "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
            )
            if receiver.delay:
                stop_delaying.wait(receiver.delay)
            status = receiver.next_status()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/leadroute"
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        stop_delaying.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
