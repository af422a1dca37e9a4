"""Child processes with a PID file and a log file each, stopped in reverse order of start.

The PID files let `python -m devstack down` stop what another process (`up`) started. Each PID file also
records the process start time, so a recycled PID is never signalled by mistake.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STOP_GRACE_SECONDS = 15.0


class StartupError(RuntimeError):
    """A part of the stack did not come up; the message says which and where its log is."""


@dataclass
class ManagedProcess:
    name: str
    pid: int
    log_path: Path
    stop_signal: int = signal.SIGTERM
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def is_running(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        return process_start_time(self.pid) is not None

    def exit_code(self) -> int | None:
        return self.popen.poll() if self.popen is not None else None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def process_start_time(pid: int) -> str | None:
    """Field 22 of /proc/PID/stat: start time in clock ticks since boot (None if gone or a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":
        return None
    return fields[19]


class ProcessGroup:
    """Starts children, records them under run_dir/pids, stops them newest first."""

    def __init__(self, run_dir: Path, log: Callable[[str], None] = print) -> None:
        self.run_dir = run_dir
        self.pid_dir = run_dir / "pids"
        self.log_dir = run_dir / "logs"
        self.processes: list[ManagedProcess] = []
        self._log = log
        self._started = 0

    def start(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: Path | None = None,
        stop_signal: int = signal.SIGTERM,
        user: str | None = None,
    ) -> ManagedProcess:
        log_path = self.log_path(name)
        with log_path.open("ab") as log_file:
            log_file.write(f"\n--- {time.strftime('%H:%M:%S')} starting: {' '.join(argv)}\n".encode())
            log_file.flush()
            popen = subprocess.Popen(
                list(argv),
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                # Own session: Ctrl-C in the terminal reaches only us, and we stop children in order.
                start_new_session=True,
                user=user,
            )
        return self.adopt(name, popen, log_path, stop_signal)

    def log_path(self, name: str) -> Path:
        """Where a child's output goes: run_dir/logs/NAME.log (appended to across restarts)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return self.log_dir / f"{name}.log"

    def adopt(
        self,
        name: str,
        popen: subprocess.Popen[bytes],
        log_path: Path,
        stop_signal: int = signal.SIGTERM,
    ) -> ManagedProcess:
        """Records a child started elsewhere (e.g. by localzeebe.launcher) like one started here.

        Start it in its own session: stop() signals its process group.
        """
        self.pid_dir.mkdir(parents=True, exist_ok=True)
        process = ManagedProcess(name, popen.pid, log_path, stop_signal, popen)
        self._started += 1
        self._record(process)
        self.processes.append(process)
        return process

    def _record(self, process: ManagedProcess) -> None:
        record = {
            "name": process.name,
            "pid": process.pid,
            "start_time": process_start_time(process.pid),
            "stop_signal": int(process.stop_signal),
            "log": str(process.log_path),
            "order": self._started,
        }
        (self.pid_dir / f"{process.name}.json").write_text(json.dumps(record))

    def stop(self, name: str, grace: float = STOP_GRACE_SECONDS) -> int | None:
        """Stops one child (and its process group); returns its exit code when known."""
        for process in list(self.processes):
            if process.name == name:
                code = stop_process(process, grace)
                self.processes.remove(process)
                (self.pid_dir / f"{name}.json").unlink(missing_ok=True)
                return code
        return None

    def stop_all(self, grace: float = STOP_GRACE_SECONDS) -> None:
        for process in reversed(list(self.processes)):
            self._log(f"stopping {process.name} (pid {process.pid})")
            self.stop(process.name, grace)

    def get(self, name: str) -> ManagedProcess:
        for process in self.processes:
            if process.name == name:
                return process
        raise KeyError(name)


def stop_process(process: ManagedProcess, grace: float = STOP_GRACE_SECONDS) -> int | None:
    """Sends the stop signal to the child's process group, then SIGKILL after the grace period."""
    if process.popen is not None and process.popen.poll() is not None:
        return process.popen.returncode
    _signal_group(process.pid, process.stop_signal)
    if _wait_gone(process, grace):
        return process.exit_code()
    _signal_group(process.pid, signal.SIGKILL)
    _wait_gone(process, 5.0)
    return process.exit_code()


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _wait_gone(process: ManagedProcess, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen is not None:
            try:
                process.popen.wait(timeout=0.1)
                return True
            except subprocess.TimeoutExpired:
                continue
        if not process.is_running():
            return True
        time.sleep(0.1)
    return not process.is_running()


def _recorded(run_dir: Path) -> list[tuple[dict[str, Any], Path]]:
    """The PID files under run_dir/pids with their records, newest first; unreadable files are skipped."""
    pid_dir = run_dir / "pids"
    records = []
    for path in pid_dir.glob("*.json") if pid_dir.is_dir() else []:
        with contextlib.suppress(ValueError, OSError):
            records.append((json.loads(path.read_text()), path))
    return sorted(records, key=lambda item: int(item[0]["order"]), reverse=True)


def _still_running(record: Mapping[str, Any]) -> bool:
    """True while the recorded PID is still the recorded process (not exited, not recycled)."""
    return bool(record.get("start_time")) and process_start_time(int(record["pid"])) == record["start_time"]


def running_parts(run_dir: Path) -> list[str]:
    """Names of the processes recorded under run_dir/pids that are still running, newest first."""
    return [str(record["name"]) for record, _ in _recorded(run_dir) if _still_running(record)]


def stop_recorded(run_dir: Path, log: Callable[[str], None] = print) -> int:
    """Stops every process recorded under run_dir/pids (newest first); returns how many were running."""
    stopped = 0
    for record, path in _recorded(run_dir):
        if _still_running(record):
            pid = int(record["pid"])
            log(f"stopping {record['name']} (pid {pid})")
            stop_process(ManagedProcess(record["name"], pid, Path(record["log"]), int(record["stop_signal"])))
            stopped += 1
        path.unlink(missing_ok=True)
    return stopped


def wait_until(
    check: Callable[[], bool],
    timeout: float,
    what: str,
    process: ManagedProcess | None = None,
    interval: float = 0.25,
) -> None:
    """Polls `check` until true; fails early with the log tail if the process exits meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if process is not None and not process.is_running():
            raise StartupError(
                f"{process.name} exited (code {process.exit_code()}) before {what}; "
                f"log {process.log_path}:\n{process.log_tail()}"
            )
        time.sleep(interval)
    detail = f"; log {process.log_path}:\n{process.log_tail()}" if process else ""
    raise StartupError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")
