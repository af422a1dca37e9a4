"""Serve a function with the real functions-framework CLI on a free loopback port (for any test tier).

    with serve_function("order_webhook", env) as function:
        httpx.post(function.url, ...)

`env` holds the function's settings; the parent's settings of this project are NOT inherited, so a test
states every setting it relies on. The child is started with sys.executable (its PID is the server's),
stopped by that PID with SIGTERM (gunicorn then stops its workers), and killed only if it does not stop.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

from devstack.parts import free_port, function_argv, port_open, without_project_settings

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS: Final = 30.0
STOP_TIMEOUT_SECONDS: Final = 10.0


class FunctionStartError(RuntimeError):
    """The function did not start listening; the message carries its output."""


def function_env(settings: Mapping[str, str]) -> dict[str, str]:
    inherited = without_project_settings(os.environ)
    # Few threads keep a 2-core machine responsive; output unbuffered so logs reach the file at once.
    return {**inherited, "THREADS": "4", "PYTHONUNBUFFERED": "1", **settings}


@dataclass
class ServedFunction:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        """Stops the server (SIGTERM, then SIGKILL after a grace period) and returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT_SECONDS)
        self._log.close()
        return self.process.returncode


def start_function(
    name: str,
    settings: Mapping[str, str],
    *,
    port: int | None = None,
    log_path: Path | None = None,
    timeout: float = START_TIMEOUT_SECONDS,
) -> ServedFunction:
    """Starts functions/NAME with `settings` and returns once its port accepts connections."""
    port = port or free_port()
    argv = function_argv(name, port)  # refuses an unknown function before anything starts
    if log_path is None:
        handle, raw_path = tempfile.mkstemp(prefix=f"{name}-", suffix=".log")
        os.close(handle)
        log_path = Path(raw_path)
    log = log_path.open("wb")
    process = subprocess.Popen(
        argv,
        cwd=REPO_ROOT,
        env=function_env(settings),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    served = ServedFunction(name, port, process, log_path, log)
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if process.poll() is not None:
            served.stop()
            raise FunctionStartError(f"{name} exited with {process.returncode} at start:\n{served.output()}")
        if time.monotonic() > deadline:
            served.stop()
            raise FunctionStartError(f"{name} did not listen within {timeout:g} s:\n{served.output()}")
        time.sleep(0.05)
    return served


@contextmanager
def serve_function(
    name: str,
    settings: Mapping[str, str],
    *,
    port: int | None = None,
    log_path: Path | None = None,
    timeout: float = START_TIMEOUT_SECONDS,
) -> Iterator[ServedFunction]:
    served = start_function(name, settings, port=port, log_path=log_path, timeout=timeout)
    try:
        yield served
    finally:
        served.stop()


def run_until_exit(
    name: str, settings: Mapping[str, str], timeout: float = START_TIMEOUT_SECONDS
) -> subprocess.CompletedProcess[str]:
    """Runs the function's server expecting it to exit by itself (e.g. on bad settings).

    subprocess.run kills it and raises TimeoutExpired when it is still running after `timeout`.
    """
    return subprocess.run(
        function_argv(name, free_port()),
        cwd=REPO_ROOT,
        env=function_env(settings),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def read_answer_head(connection: socket.socket) -> tuple[int, dict[str, str]]:
    """Status code and headers (names in lower case) of the next HTTP answer on a raw socket, for tests
    that send what an HTTP client library would refuse to (broken framing, stalled bodies)."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(4096)
        if not chunk:
            break
        received += chunk
    assert received.startswith(b"HTTP/1.1 "), received[:200]
    status_line, *header_lines = received.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines if ": " in line)
    return int(status_line.split(" ")[1]), {name.lower(): value for name, value in headers.items()}
