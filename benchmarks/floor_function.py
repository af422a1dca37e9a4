"""The cold-start floor's function: no code of its own. functions-framework builds its app and it answers
any request 200 with an empty JSON object, so the floor pays for the framework's app and its first
request as each function does (benchmarks/cold_start_probe.py)."""

from __future__ import annotations

from typing import Any

import flask
import functions_framework


@functions_framework.http
def floor(request: flask.Request) -> dict[str, Any]:
    request.get_data()
    return {}
