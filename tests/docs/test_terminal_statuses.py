"""The guides that list terminal statuses list exactly the ones the code marks terminal
(`WorkflowStatus.terminal`, fulfillment/workflow.py): docs/order-fulfillment.md's table of status reports,
and docs/runbook.md's sections on the ends of an order other than `completed`. (The README's table has its
own test, test_readme_statuses.py; Terraform's `terminal` label, tests/terraform/test_monitoring.py.)"""

from __future__ import annotations

import re

from fulfillment.workflow import WorkflowStatus

from .docs_spans import REPO_ROOT

ORDER_FULFILLMENT = REPO_ROOT / "docs" / "order-fulfillment.md"
RUNBOOK = REPO_ROOT / "docs" / "runbook.md"
TERMINAL = {status.value for status in WorkflowStatus if status.terminal}


def section(text: str, heading: str) -> str:
    """The text under `heading` up to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    after = text.split(f"\n{heading}\n", 1)[1]
    return re.split(rf"^#{{1,{len(level)}}} ", after, maxsplit=1, flags=re.MULTILINE)[0]


def table_rows(text: str) -> dict[str, str]:
    """First cell (a `status`) => second cell of each row of the Markdown tables in `text`."""
    return dict(re.findall(r"^\| `([a-z_]+)` \| ([^|]+?) \|", text, flags=re.MULTILINE))


def test_the_status_reports_table_marks_exactly_the_terminal_statuses() -> None:
    rows = table_rows(section(ORDER_FULFILLMENT.read_text(encoding="utf-8"), "## Status reports"))
    assert set(rows) == {status.value for status in WorkflowStatus}
    assert {status for status, terminal in rows.items() if terminal == "yes"} == TERMINAL
    assert set(rows.values()) == {"yes", "no"}


def test_the_runbook_has_a_section_for_each_end_of_an_order_but_completed() -> None:
    ends = section(RUNBOOK.read_text(encoding="utf-8"), "## Failure statuses of an order")
    explained = set(re.findall(r"^### `([a-z_]+)`$", ends, flags=re.MULTILINE))
    assert explained == TERMINAL - {WorkflowStatus.COMPLETED.value}


def test_the_reading_of_a_table_catches_a_stale_status() -> None:
    """Guards the reading itself: a row of a status the code no longer has is read, not skipped."""
    rows = table_rows("| status | terminal |\n|---|---|\n| `failed` | yes |\n| `completed` | yes |\n")
    assert rows == {"failed": "yes", "completed": "yes"}
