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
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
FUNCTIONS: Final = ("order_webhook", "status_update")
START_TIMEOUT_SECONDS: Final = 30.0
STOP_TIMEOUT_SECONDS: Final = 10.0
# Settings of this project that must not leak from the developer's shell into a served function.
_SETTING_PREFIXES: Final = (
    "MEDUSA_",
    "ZEEBE_",
    "CAMUNDA_",
    "ORDER_",
    "STATUS_",
    "WORKER_",
    "SMTP_",
    "NOTIFICATION_",
)


class FunctionStartError(RuntimeError):
    """The function did not start listening; the message carries its output."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def function_argv(name: str, port: int) -> list[str]:
    """The functions-framework command line for a function of this repository (run from the repo root)."""
    return [
        sys.executable,
        "-m",
        "functions_framework",
        "--source",
        f"functions/{name}/main.py",
        "--target",
        name,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def function_env(settings: Mapping[str, str]) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(_SETTING_PREFIXES)}
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
    if name not in FUNCTIONS:
        raise ValueError(f"unknown function {name!r}; expected one of {FUNCTIONS}")
    port = port or free_port()
    if log_path is None:
        handle, raw_path = tempfile.mkstemp(prefix=f"{name}-", suffix=".log")
        os.close(handle)
        log_path = Path(raw_path)
    log = log_path.open("wb")
    process = subprocess.Popen(
        function_argv(name, port),
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


@dataclass
class LocalEngine:
    """The local Zeebe-compatible engine (`python -m localzeebe`) on free ports, read from its ready line."""

    process: subprocess.Popen[str]
    grpc_address: str
    http_url: str

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT_SECONDS)
        return self.process.returncode


@contextmanager
def local_engine(log_path: Path) -> Iterator[LocalEngine]:
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "localzeebe", "--host", "127.0.0.1", "--port", "0", "--http-port", "0"],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    assert process.stdout is not None
    ready = process.stdout.readline().split()  # "localzeebe ready grpc=HOST:PORT http=HOST:PORT"
    if ready[:2] != ["localzeebe", "ready"]:
        process.kill()
        process.wait()
        raise FunctionStartError(f"localzeebe did not start: {' '.join(ready)!r}; log {log_path}")
    fields = dict(part.split("=", 1) for part in ready[2:])
    engine = LocalEngine(process, fields["grpc"], f"http://{fields['http']}")
    try:
        yield engine
    finally:
        engine.stop()
