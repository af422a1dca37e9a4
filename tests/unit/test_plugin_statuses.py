"""The Medusa plugin's admin reads the statuses this package writes: its list must match WorkflowStatus."""

from __future__ import annotations

import re
from pathlib import Path

from fulfillment.workflow import WORKFLOW_KEYS, WorkflowStatus

STATUS_MODULE = Path(__file__).resolve().parents[2] / "medusa/plugin/src/lib/workflow-status.ts"


def _ts_constant(name: str) -> list[str]:
    """The string literals of `export const NAME = ...` in the plugin's status module."""
    match = re.search(rf"export const {name} = (.*?)(?: as const)?\n", STATUS_MODULE.read_text())
    assert match, f"{name} is missing from {STATUS_MODULE}"
    return re.findall(r'"([a-z_]+)"', match.group(1))


def test_running_statuses_are_the_non_terminal_ones_in_process_order() -> None:
    running = sorted((s for s in WorkflowStatus if not s.terminal), key=lambda s: s.rank)

    assert _ts_constant("RUNNING_STATUSES") == [s.value for s in running]


def test_completed_and_failure_statuses_are_the_terminal_ones() -> None:
    terminal = {s.value for s in WorkflowStatus if s.terminal}

    assert _ts_constant("COMPLETED_STATUS") == [WorkflowStatus.COMPLETED.value]
    assert set(_ts_constant("FAILURE_STATUSES")) == terminal - {WorkflowStatus.COMPLETED.value}


def test_metadata_keys_are_the_ones_the_status_function_writes() -> None:
    module = STATUS_MODULE.read_text()
    block = re.search(r"WORKFLOW_METADATA_KEYS = \{(.*?)\}", module, re.DOTALL)
    assert block
    assert sorted(re.findall(r':\s*"([a-z_]+)"', block.group(1))) == sorted(WORKFLOW_KEYS)
