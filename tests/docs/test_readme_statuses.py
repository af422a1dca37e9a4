"""The README's table of workflow states lists exactly the statuses the process writes: the ones the
worker's handlers report (`WorkflowStatus.X` in worker_job/) and the failure statuses the model hands
`fail-order` (its `failure_status` inputs). A status the code no longer writes, or a new one the README
does not explain, fails here."""

from __future__ import annotations

import re

from fulfillment.workflow import WorkflowStatus

from .docs_spans import REPO_ROOT

README = REPO_ROOT / "README.md"
STATES_HEADING = "### Workflow states"


def readme_statuses() -> list[str]:
    section = README.read_text(encoding="utf-8").split(STATES_HEADING, 1)[1].split("\n\n", 2)[1]
    return re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE)


def statuses_the_worker_reports() -> set[str]:
    names = set()
    for path in (REPO_ROOT / "worker_job").glob("*.py"):
        names |= set(re.findall(r"WorkflowStatus\.([A-Z_]+)", path.read_text(encoding="utf-8")))
    return {WorkflowStatus[name].value for name in names}


def failure_statuses_of_the_model() -> set[str]:
    model = (REPO_ROOT / "bpmn" / "order-fulfillment.bpmn").read_text(encoding="utf-8")
    return set(re.findall(r'source="=&#34;([a-z_]+)&#34;" target="failure_status"', model))


def test_the_model_names_its_failure_statuses() -> None:
    """Guards the reading of the model: fail-order gets its status from there."""
    assert failure_statuses_of_the_model() == {"payment_failed", "out_of_stock"}


def test_the_readme_lists_exactly_the_statuses_the_process_writes() -> None:
    written = statuses_the_worker_reports() | failure_statuses_of_the_model()
    listed = readme_statuses()
    assert len(listed) == len(set(listed)), "a status is listed twice"
    assert set(listed) == written


def test_every_status_written_is_one_the_status_function_accepts() -> None:
    written = statuses_the_worker_reports() | failure_statuses_of_the_model()
    assert written <= {status.value for status in WorkflowStatus}


def test_the_readme_marks_exactly_the_terminal_statuses() -> None:
    section = README.read_text(encoding="utf-8").split(STATES_HEADING, 1)[1].split("\n\n", 2)[1]
    terminal = set(re.findall(r"^\| `([a-z_]+)` \|.*\| yes \|$", section, flags=re.MULTILINE))
    assert terminal == {status.value for status in WorkflowStatus if status.terminal}
