"""The system under test as real processes: ``leadroute serve`` and ``leadroute worker``.

Both run the installed ``leadroute`` command in a subprocess against the bench database,
the server on 127.0.0.1 with a random port. Their output goes to log files under the
scratch folder (kept for a post-mortem). Every process started here is stopped here, by
its own pid (SIGTERM, then SIGKILL after a grace period).
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.common import SCRATCH, Target, free_port

LEADROUTE = str(Path(sys.executable).with_name("leadroute"))
STOP_GRACE_SECONDS = 60.0


def environment(target: Target, **settings: Any) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LEADROUTE_")}
    env["LEADROUTE_DATABASE_URL"] = target.url
    for key, value in settings.items():
        env[f"LEADROUTE_{key.upper()}"] = str(value)
    return env


class Process:
    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        SCRATCH.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = SCRATCH / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            command, env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_for_log(self, needle: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log_text():
                return
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_text()[-3000:]}")
            time.sleep(0.05)
        raise TimeoutError(f"{self.name}: no {needle!r} within {timeout} s")

    def peak_rss_mib(self) -> float:
        """The process's peak resident set (VmHWM), MiB; NaN once it has exited."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
        except OSError:
            pass
        return float("nan")

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far (all its threads)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mib(self) -> float:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
        except OSError:
            pass
        return float("nan")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        self._log.close()


class Server(Process):
    """``leadroute serve`` on a random port; ``client(api_key)`` talks to it."""

    def __init__(self, target: Target, *, embedded_workers: int, **settings: Any) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = environment(target, **settings)
        command = [
            LEADROUTE,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--embedded-workers",
            str(embedded_workers),
        ]
        super().__init__(f"server-{target.name}", command, env)

    def wait_ready(self, api_key: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        with self.client(api_key) as client:
            while time.monotonic() < deadline:
                if self.popen.poll() is not None:
                    raise RuntimeError(f"server exited early:\n{self.log_text()[-3000:]}")
                try:
                    if client.get("/api/v2/workspaces/current").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise TimeoutError("the server did not answer in time")

    def client(self, api_key: str, timeout: float = 60.0) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout,
        )


class Worker(Process):
    """``leadroute worker`` (one thread); ready once it says so."""

    def __init__(self, target: Target, name: str, **settings: Any) -> None:
        env = environment(target, **settings)
        super().__init__(f"worker-{target.name}-{name}", [LEADROUTE, "worker"], env)

    def wait_ready(self, timeout: float = 60.0) -> None:
        self.wait_for_log("leadroute worker ready", timeout)


@contextmanager
def running_server(
    target: Target, api_key: str, *, embedded_workers: int = 0, **settings: Any
) -> Iterator[Server]:
    server = Server(target, embedded_workers=embedded_workers, **settings)
    try:
        server.wait_ready(api_key)
        yield server
    finally:
        server.stop()


@contextmanager
def running_worker(target: Target, name: str, **settings: Any) -> Iterator[Worker]:
    worker = Worker(target, name, **settings)
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()
