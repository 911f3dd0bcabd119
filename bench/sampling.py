"""A sampling profile of a running process: where its Python time goes, by package.

``py-spy record --gil`` samples only the thread holding the GIL, which in a single Python
process is the CPU the interpreter spends (the database's C code and the network run
without it). Each sample's innermost frame is charged to the package it belongs to, so the
table says whose code the process is busy in (the web framework's, the ORM's, leadroute's).
py-spy is a dev dependency; without it (or without the right to trace), the profile is
reported as unavailable rather than failing the run.
"""

import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PY_SPY = Path(sys.executable).with_name("py-spy")
RATE_HZ = 250

# Charged by the first of these that appears in the innermost frame's file path.
PACKAGES = (
    "leadroute",
    "fastapi",
    "starlette",
    "uvicorn",
    "pydantic",
    "sqlalchemy",
    "psycopg",
    "limits",
    "anyio",
    "asyncio",
    "json",
    "logging",
    "threading",
)


@contextmanager
def sampled(pid: int, seconds: float) -> Iterator[dict[str, Any]]:
    """Sample ``pid`` for ``seconds`` while the body runs; the dict is filled on exit."""
    result: dict[str, Any] = {}
    executable = str(PY_SPY) if PY_SPY.exists() else shutil.which("py-spy")
    if executable is None:
        result["error"] = "py-spy is not installed"
        yield result
        return
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "samples.txt"
        command = [executable, "record", "--gil", "--format", "raw"]
        command += ["--rate", str(RATE_HZ), "--duration", str(max(1, round(seconds)))]
        command += ["--output", str(output), "--pid", str(pid)]
        spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            yield result
        finally:
            _, errors = spy.communicate(timeout=seconds + 60)
            if spy.returncode != 0 or not output.exists():
                result["error"] = errors.decode(errors="replace").strip()[-300:] or "no samples"
            else:
                result.update(summarize(output.read_text()))


def summarize(collapsed: str) -> dict[str, Any]:
    """Shares of samples by package and by innermost function, from py-spy's raw output."""
    by_package: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        innermost = stack.split(";")[-1]
        total += count
        by_package[package_of(innermost)] += count
        by_function[_short(innermost)] += count

    def shares(counter: Counter[str], top: int) -> list[list[Any]]:
        return [[name, round(100 * count / total, 1)] for name, count in counter.most_common(top)]

    if total == 0:
        return {"error": "no samples"}
    return {
        "samples": total,
        "packages": shares(by_package, 12),
        "functions": shares(by_function, 12),
    }


def package_of(frame: str) -> str:
    """``fastapi`` for ``solve_dependencies (fastapi/dependencies/utils.py:726)``."""
    location = frame.rpartition(" (")[2]
    for package in PACKAGES:
        if f"{package}/" in location or location.startswith(f"{package}.py"):
            return package
    return "other (stdlib, C extensions)"


def _short(frame: str) -> str:
    function, _, location = frame.rpartition(" (")
    path = location.rstrip(")").rsplit(":", 1)[0]
    return f"{function} ({'/'.join(Path(path).parts[-2:])})"
