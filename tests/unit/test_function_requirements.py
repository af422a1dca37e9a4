"""Each function's requirements.txt pins what it imports, at the versions the project is tested with."""

from __future__ import annotations

import re

import pytest

from .helpers import REPO_ROOT

DIRECT = {
    "order_webhook": {
        "functions-framework",
        "pyzeebe",
        "grpcio",
        "httpx",
        "google-cloud-secret-manager",
        "standardwebhooks",
        "pydantic",
        "pydantic-settings",
        "tenacity",
    },
    "status_update": {
        "functions-framework",
        "httpx",
        "google-cloud-secret-manager",
        "standardwebhooks",
        "pydantic",
        "pydantic-settings",
        "tenacity",
    },
}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in (REPO_ROOT / path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, version = line.split("==")
        assert normalize(name) not in found, f"{name} pinned twice in {path}"
        found[normalize(name)] = version
    return found


@pytest.mark.parametrize("function", sorted(DIRECT))
def test_requirements_are_exact_pins_from_the_lock(function: str) -> None:
    lock = pins("requirements-dev.lock")
    required = pins(f"functions/{function}/requirements.txt")
    assert DIRECT[function] <= set(required), "a direct dependency is missing"
    mismatched = {name: v for name, v in required.items() if lock.get(name) != v}
    assert not mismatched, f"pins that differ from requirements-dev.lock: {mismatched}"
