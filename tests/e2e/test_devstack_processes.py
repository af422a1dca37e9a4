"""The stack runner's process handling, which `python -m devstack down` relies on (no stack needed)."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import pytest

from devstack import medusa
from devstack.processes import ProcessGroup, StartupError, process_start_time, running_parts, stop_recorded

from .support import poll

pytestmark = pytest.mark.e2e

# Ignores SIGTERM, so only the SIGKILL after the grace period can stop it. It prints "ignoring" once the
# handler is in place (built from two halves: the log also holds the command line).
STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ignor' + 'ing', flush=True); time.sleep(60)"
)


def _sleeper(group: ProcessGroup, name: str, code: str = "import time; time.sleep(60)") -> int:
    return group.start(name, [sys.executable, "-c", code], env={}).pid


def test_down_stops_recorded_processes_newest_first_and_forgets_them(tmp_path: Path) -> None:
    group = ProcessGroup(tmp_path, log=lambda _: None)
    first, second = _sleeper(group, "first"), _sleeper(group, "second")
    stopped: list[str] = []

    # A new ProcessGroup-less caller, as `down` is: it only has the PID files.
    count = stop_recorded(tmp_path, log=stopped.append)

    assert count == 2
    assert stopped == [f"stopping second (pid {second})", f"stopping first (pid {first})"]
    for process in group.processes:
        process.popen.wait(timeout=5)  # type: ignore[union-attr]  # reap: they were our children
    assert process_start_time(first) is None
    assert process_start_time(second) is None
    assert list((tmp_path / "pids").glob("*.json")) == []


def test_a_recycled_pid_is_never_signalled(tmp_path: Path) -> None:
    group = ProcessGroup(tmp_path, log=lambda _: None)
    pid = _sleeper(group, "sleeper")
    record_path = tmp_path / "pids" / "sleeper.json"
    record = json.loads(record_path.read_text())
    record_path.write_text(json.dumps({**record, "start_time": "1"}))  # as if the PID now were someone else's

    assert stop_recorded(tmp_path, log=lambda _: None) == 0

    assert process_start_time(pid) is not None
    group.stop_all()
    assert process_start_time(pid) is None


def test_running_parts_lists_live_processes_and_skips_exited_recycled_and_unreadable_records(
    tmp_path: Path,
) -> None:
    group = ProcessGroup(tmp_path, log=lambda _: None)
    _sleeper(group, "live")
    group.start("exited", [sys.executable, "-c", "pass"], env={}).popen.wait(timeout=5)  # type: ignore[union-attr]
    recycled = tmp_path / "pids" / "recycled.json"
    _sleeper(group, "recycled")
    recycled.write_text(json.dumps({**json.loads(recycled.read_text()), "start_time": "1"}))
    (tmp_path / "pids" / "torn.json").write_text('{"name": "torn", "pi')  # as a write cut short leaves it

    try:
        assert running_parts(tmp_path) == ["live"]
    finally:
        group.stop_all()


def test_a_child_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    group = ProcessGroup(tmp_path, log=lambda _: None)
    process = group.start("stubborn", [sys.executable, "-c", STUBBORN], env={})
    poll(lambda: "ignoring" in process.log_path.read_text(), 10, lambda: "the child to ignore SIGTERM", 0.05)

    exit_code = group.stop("stubborn", grace=0.5)

    assert exit_code == -signal.SIGKILL
    assert "stubborn" not in [p.name for p in group.processes]


def test_a_medusa_command_that_runs_too_long_is_stopped_with_what_it_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    helper_pid_file = tmp_path / "helper.pid"
    cli = tmp_path / "medusa"
    cli.write_text(f"#!/bin/sh\nsleep 60 &\necho $! > {helper_pid_file}\nwait\n")
    cli.chmod(0o755)
    monkeypatch.setattr(medusa, "medusa_cli", lambda: cli)
    monkeypatch.setattr(medusa, "HEARTBEAT_SECONDS", 0.1)
    backend = medusa.Medusa(tmp_path, 0, {}, ProcessGroup(tmp_path, log=lambda _: None), say=lambda _: None)

    with pytest.raises(StartupError, match="took longer than"):
        backend._run_cli("migrate", ["db:migrate"], timeout=0.5)

    helper = int(helper_pid_file.read_text())
    poll(lambda: process_start_time(helper) is None, 10, lambda: "the command's own child to stop", 0.05)
