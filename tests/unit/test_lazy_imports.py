"""A cold start imports only what every request needs: Google Cloud's clients load when a setting asks for
them (a Secret Manager reference, an ID token), and the status function never loads the engine's client
nor the order models (it reads no order).

Each check imports in a fresh interpreter, the way a new instance does, and looks at `sys.modules`.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SECRET = "whsec_" + base64.b64encode(b"lazy-imports-test-secret-0123456").decode()
SETTINGS = {
    "MEDUSA_BACKEND_URL": "http://127.0.0.1:9",
    "MEDUSA_STATUS_SECRET": SECRET,
    "MEDUSA_WORKER_SECRET": SECRET,
    "ORDER_WEBHOOK_SECRET": SECRET,
    "STATUS_UPDATE_SECRET": SECRET,
    "STATUS_UPDATE_URL": "http://127.0.0.1:9/status",
}
GOOGLE_CLOUD = ("google.cloud.secretmanager", "google.api_core", "google.auth", "google.oauth2")
ENGINE_CLIENT = ("pyzeebe", "grpc", "requests_oauthlib")

LOAD_FUNCTION = """
import functions_framework, json, sys
functions_framework.create_app(target="{name}", source="functions/{name}/main.py")
print(json.dumps(sorted(sys.modules)))
"""
LOAD_WORKER = """
import json, sys
import worker_job.app
print(json.dumps(sorted(sys.modules)))
"""


def loaded_modules(code: str) -> set[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(tuple(SETTINGS))}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**environment, **SETTINGS},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def assert_not_loaded(modules: set[str], packages: tuple[str, ...]) -> None:
    loaded = sorted(m for m in modules for p in packages if m == p or m.startswith(p + "."))
    assert not loaded, f"imported at start: {loaded[:10]}"


@pytest.mark.parametrize("function", ["order_webhook", "status_update"])
def test_a_function_without_secret_references_loads_no_google_cloud_client(function: str) -> None:
    assert_not_loaded(loaded_modules(LOAD_FUNCTION.format(name=function)), GOOGLE_CLOUD)


def test_the_status_function_loads_no_order_models() -> None:
    modules = loaded_modules(LOAD_FUNCTION.format(name="status_update"))
    assert "fulfillment.medusa" in modules
    assert_not_loaded(modules, ("fulfillment.orders",))


def test_the_status_function_loads_no_engine_client() -> None:
    assert_not_loaded(loaded_modules(LOAD_FUNCTION.format(name="status_update")), ENGINE_CLIENT)


def test_the_worker_loads_google_auth_only_for_id_tokens() -> None:
    assert_not_loaded(loaded_modules(LOAD_WORKER), GOOGLE_CLOUD)
