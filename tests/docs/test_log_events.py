"""The log events the guides name are events the code logs: the `event` field of the JSON lines, which
production code sets in `extra={"event": "..."}` (fulfillment/, functions/, worker_job/). A query in a guide
for an event the code no longer writes finds nothing when someone is paged, so it fails here; and the
runbook's list of events (under "Where to look") names every event, so a new one is listed where people
look for it.

Where a guide names an event: `jsonPayload.event="NAME"` (or `=("A" OR "B")`) in a log query,
`"event": "NAME"` or `event: "NAME"` in a quoted line, a row of contracts.md's table of log lines.
"""

from __future__ import annotations

import ast
import re
from functools import cache

from .docs_spans import GUIDES, REPO_ROOT

PRODUCTION_PACKAGES = ("fulfillment", "functions", "worker_job")
RUNBOOK = REPO_ROOT / "docs" / "runbook.md"
CONTRACTS = REPO_ROOT / "docs" / "contracts.md"
RUNBOOK_LIST_START = "# one kind of event:"
EVENT_NAME = re.compile(r"[a-z]+(?:_[a-z]+)+")


def events_in_source(source: str) -> set[str]:
    """The constant values of an "event" key in the dict literals of `source` (docstrings do not count)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value == "event"
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                ):
                    found.add(value.value)
    return found


@cache
def logged_events() -> frozenset[str]:
    events: set[str] = set()
    for package in PRODUCTION_PACKAGES:
        for path in (REPO_ROOT / package).rglob("*.py"):
            events |= events_in_source(path.read_text(encoding="utf-8"))
    return frozenset(events)


def events_named_in(text: str) -> set[str]:
    names = set()
    for query in re.findall(r'jsonPayload\.event=(\("[^)]*\)|"[^"]*")', text):
        names |= set(re.findall(r'"([^"]+)"', query))
    # A log event is a snake_case word; `event: "order.placed"` is one of Medusa's events, not a log line.
    names |= set(re.findall(r'"?event"?:\s+"([a-z_]+)"', text))
    return names


def contracts_table_events() -> set[str]:
    section = CONTRACTS.read_text(encoding="utf-8").split("## Log lines the monitoring counts", 1)[1]
    table = section.split("\n## ", 1)[0].split("|---|", 1)[1]  # the rows below the header
    return set(re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.MULTILINE))


def runbook_event_list(text: str) -> list[str]:
    """The events the comment that starts with RUNBOOK_LIST_START names, up to the first line that is not a
    comment (parenthesised notes say which part writes them)."""
    lines = text.split(RUNBOOK_LIST_START, 1)[1].splitlines()
    listed = [lines[0]]
    for line in lines[1:]:
        if not line.startswith("#"):
            break
        listed.append(line.removeprefix("#"))
    return EVENT_NAME.findall(re.sub(r"\([^)]*\)", "", " ".join(listed)))


def test_the_code_logs_the_events_the_monitoring_counts() -> None:
    """Guards the reading of the code: the AST walk finds the events of every part."""
    assert {"webhook_handled", "status_recorded", "request_refused", "job_failed"} <= logged_events()
    assert {"worker_heartbeat", "incident_open", "model_check"} <= logged_events()


def test_every_event_a_guide_names_is_one_the_code_logs() -> None:
    unknown = {
        str(guide.relative_to(REPO_ROOT)): sorted(
            events_named_in(guide.read_text(encoding="utf-8")) - logged_events()
        )
        for guide in GUIDES
    }
    assert {guide: names for guide, names in unknown.items() if names} == {}


def test_the_contracts_table_of_log_lines_names_only_logged_events() -> None:
    listed = contracts_table_events()
    assert listed, "no table found under 'Log lines the monitoring counts'"
    assert listed - logged_events() == set()


def test_the_runbook_lists_every_event_the_code_logs() -> None:
    listed = runbook_event_list(RUNBOOK.read_text(encoding="utf-8"))
    assert len(listed) == len(set(listed)), "an event is listed twice"
    assert set(listed) == logged_events()


def test_the_readings_catch_a_stale_event() -> None:
    """Guards the readings themselves: each way a guide names an event is read."""
    text = """
gcloud logging read 'jsonPayload.event="order_lost" AND jsonPayload.x=1'
gcloud logging read 'jsonPayload.event=("job_failed" OR "job_vanished")'
# {"event": "incident_gone", "incident_key"}
Log lines: `event: "model_vanished"`, the plugin's `event: "order.placed"`
"""
    assert events_named_in(text) - logged_events() == {
        "order_lost",
        "job_vanished",
        "incident_gone",
        "model_vanished",
    }
    runbook = "x\n# one kind of event: a_b (the webhook), c_d,\n# e_f (the worker)\nnext line\n# g_h\n"
    assert runbook_event_list(runbook) == ["a_b", "c_d", "e_f"]
    assert events_in_source('"""{"event": "in_docstring"}"""\nlog(extra={"event": "in_code"})') == {"in_code"}
