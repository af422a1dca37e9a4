"""Start `python -m localzeebe` as a child process, wait for its ready line, stop it: for tests, benchmarks
and the local stack (production code never imports this package).

    with LocalEngine.start(log_path=tmp / "engine.log") as engine:
        client = ZeebeClient(create_insecure_channel(engine.grpc_address))

Port 0 (the default) lets the engine pick free ports; the ready line on its stdout says which
(`localzeebe ready grpc=HOST:PORT http=HOST:PORT`). The engine's log (stderr) goes to the log file, after a
header line naming the command, so one file can follow an engine across restarts.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, Self

import httpx

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS: Final = 30.0
STOP_GRACE_SECONDS: Final = 10.0
READY_LINE: Final = re.compile(r"localzeebe ready grpc=(?P<grpc>\S+) http=(?P<http>\S+)")
_LOG_TAIL_LINES: Final = 30


class EngineStartError(RuntimeError):
    """The engine exited or stayed silent instead of printing its ready line; the message has its log tail."""


def engine_argv(
    host: str,
    port: int,
    http_port: int,
    data_dir: Path | None,
    log_level: str | None,
    options: Sequence[str] = (),
) -> list[str]:
    """The engine's command line, run with this interpreter."""
    argv = [sys.executable, "-m", "localzeebe", "--host", host]
    argv += ["--port", str(port), "--http-port", str(http_port)]
    if data_dir is not None:
        argv += ["--data-dir", str(data_dir)]
    if log_level is not None:
        argv += ["--log-level", log_level]
    return argv + list(options)


class LocalEngine:
    """A running engine child process, its addresses (from the ready line) and its log file."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        grpc_address: str,
        http_address: str,
        log_path: Path,
        stop_grace: float = STOP_GRACE_SECONDS,
    ) -> None:
        self.process = process
        self.grpc_address = grpc_address
        self.http_url = f"http://{http_address}"
        self.log_path = log_path
        self.stop_grace = stop_grace

    @classmethod
    def start(
        cls,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        http_port: int = 0,
        data_dir: Path | None = None,
        log_level: str | None = None,
        log_path: Path | None = None,
        env: Mapping[str, str] | None = None,
        options: Sequence[str] = (),
        new_session: bool = False,
        start_timeout: float = START_TIMEOUT_SECONDS,
        stop_grace: float = STOP_GRACE_SECONDS,
    ) -> LocalEngine:
        """Starts the engine and returns once it listens on both ports.

        `log_level` None keeps the engine's default (info); `env` None inherits this process's environment;
        `log_path` None logs to a new temporary file (kept, so a failure can be read afterwards).
        `options` are more command-line options (e.g. `["--back-pressure", "0.3"]`, see `--help`).
        `new_session` puts the engine in its own session, so Ctrl-C in a terminal does not reach it.
        Raises EngineStartError when the engine exits or prints no ready line within `start_timeout`.
        """
        log_path = log_path or _temporary_log()
        argv = engine_argv(host, port, http_port, data_dir, log_level, options)
        with log_path.open("ab") as log:
            log.write(f"\n--- {time.strftime('%H:%M:%S')} starting: {' '.join(argv)}\n".encode())
            log.flush()
            process = subprocess.Popen(
                argv,
                cwd=REPO_ROOT,
                env=None if env is None else dict(env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=new_session,
            )
        try:
            ready = _read_ready_line(process, start_timeout)
        except EngineStartError as error:
            _stop(process, stop_grace)
            raise EngineStartError(f"{error}; log {log_path}:\n{_log_tail(log_path)}") from None
        except BaseException:  # e.g. Ctrl-C while waiting: never leave the engine running behind us
            _stop(process, stop_grace)
            raise
        return cls(process, ready["grpc"], ready["http"], log_path, stop_grace)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> int:
        """SIGTERM, then SIGKILL if the engine is still running after the grace period; its exit code."""
        return _stop(self.process, self.stop_grace)

    def inspect(self, path: str, **params: str) -> Any:
        """GET on the read-only inspection view, e.g. inspect("/process-instances", state="ACTIVE")."""
        response = httpx.get(f"{self.http_url}{path}", params=params, timeout=5)
        response.raise_for_status()
        return response.json()

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        return _log_tail(self.log_path, lines)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _stop(process: subprocess.Popen[bytes], grace: float) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def _log_tail(log_path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _temporary_log() -> Path:
    handle, raw_path = tempfile.mkstemp(prefix="localzeebe-", suffix=".log")
    os.close(handle)
    return Path(raw_path)


def _read_ready_line(process: subprocess.Popen[bytes], timeout: float) -> dict[str, str]:
    """Reads the engine's one stdout line within `timeout`, then closes the pipe (nothing else comes)."""
    stdout = process.stdout
    assert stdout is not None
    try:
        line = _read_line(stdout, timeout)
    finally:
        stdout.close()
    if not line:  # end of output: the engine is exiting
        try:
            code = process.wait(1.0)
        except subprocess.TimeoutExpired:
            raise EngineStartError("localzeebe closed its output without a ready line") from None
        raise EngineStartError(f"localzeebe exited with code {code} before it was ready")
    match = READY_LINE.fullmatch(line.strip())
    if match is None:
        raise EngineStartError(f"localzeebe printed {line.strip()!r} instead of its ready line")
    return match.groupdict()


def _read_line(stream: IO[bytes], timeout: float) -> str:
    """One line, empty at end of file; EngineStartError when none comes within `timeout`."""
    deadline = time.monotonic() + timeout
    received = b""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while b"\n" not in received:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                raise EngineStartError(f"localzeebe printed no ready line within {timeout:g} s")
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                break
            received += chunk
    return received.decode(errors="replace")
