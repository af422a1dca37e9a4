"""One cold start, measured from inside a fresh interpreter (run by `benchmarks.cold_start`).

    python -m benchmarks.cold_start_probe SPAWNED_AT ABSENT_JSON function NAME REQUEST_JSON
    python -m benchmarks.cold_start_probe SPAWNED_AT ABSENT_JSON floor REQUEST_JSON MODULE [MODULE ...]

`SPAWNED_AT` is the parent's `time.monotonic()` just before it started this process (CLOCK_MONOTONIC is one
clock for every process on Linux), so the figures include the interpreter's own start. `ABSENT_JSON` lists
top-level modules that the deployed function would not have (installed here for development only, e.g.
rich, which httpx imports when it finds it): they cannot be imported, as on Cloud Functions.

Run from the function's deployed folder (benchmarks.cold_start's `deployed_source`).
`function`: functions-framework builds the app from main.py there (the function's import) and
answers the signed request in REQUEST_JSON ({"body": ..., "headers": {...}}) through that app (the first
answer). `floor`: imports the modules named (functions-framework first, then the collector's view is
frozen as each function's main.py does), then functions-framework builds the app of a function with no
code of its own (benchmarks/floor_function.py) and it answers the same request. Prints one JSON line and
exits without teardown. The `benchmarks` package this runs from is empty, so running it as a module adds
nothing a function would not load.
"""

from __future__ import annotations

import gc
import importlib
import importlib.abc
import importlib.machinery
import json
import os
import sys
import time
from pathlib import Path
from typing import Any


class _Absent(importlib.abc.MetaPathFinder):
    def __init__(self, modules: frozenset[str]) -> None:
        self.modules = modules

    def find_spec(
        self, name: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec:
        if name.partition(".")[0] in self.modules:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None  # type: ignore[return-value]  # None: let the other finders look


def _rss_mib() -> float:
    # VmHWM, not getrusage's maxrss: that one keeps the parent's peak across fork and exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _serve(spawned_at: float, target: str, source: str, request: dict[str, Any]) -> dict[str, Any]:
    """functions-framework builds the app of `target` in `source` (the import) and answers the request."""
    import functions_framework

    app = functions_framework.create_app(target=target, source=source)  # type: ignore[no-untyped-call]
    imported_at = time.monotonic()
    answer = app.test_client().post("/", data=request["body"].encode(), headers=request["headers"])
    answered_at = time.monotonic()
    return {
        "import_s": imported_at - spawned_at,
        "first_answer_s": answered_at - spawned_at,
        # CPU seconds of this process so far: unlike wall time, barely moved by other work on the machine.
        "cpu_s": time.process_time(),
        "status": answer.status_code,
        "answer": answer.get_json(silent=True),
        "rss_mib": _rss_mib(),
    }


def _function(spawned_at: float, name: str, request: dict[str, Any]) -> dict[str, Any]:
    result = _serve(spawned_at, name, "main.py", request)
    result["core_package"] = sys.modules["fulfillment"].__file__
    # In the order they were loaded: the floor imports them in that order too.
    result["modules"] = list(sys.modules)
    return result


def _floor(spawned_at: float, request: dict[str, Any], modules: list[str]) -> dict[str, Any]:
    # As in the function: functions-framework is loaded first, and each function's main.py freezes the
    # garbage collector's view of what is loaded before it imports anything else, so the libraries loaded
    # after that point cost the floor what they cost the function.
    importlib.import_module("functions_framework")
    gc.freeze()
    for module in modules:
        importlib.import_module(module)
    return _serve(spawned_at, "floor", str(Path(__file__).with_name("floor_function.py")), request)


def main() -> None:
    spawned_at = float(sys.argv[1])
    sys.meta_path.insert(0, _Absent(frozenset(json.loads(sys.argv[2]))))
    mode = sys.argv[3]
    if mode == "function":
        result = _function(spawned_at, sys.argv[4], json.loads(sys.argv[5]))
    else:
        result = _floor(spawned_at, json.loads(sys.argv[4]), sys.argv[5:])
    print(json.dumps(result), flush=True)
    # No teardown: the engine connection's thread and gRPC's shutdown are not part of a cold start.
    os._exit(0)


if __name__ == "__main__":
    main()
