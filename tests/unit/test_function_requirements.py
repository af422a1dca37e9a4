"""Each deployable's requirements.txt pins what it imports, with everything that pulls in, at the versions
the project is tested with (the functions' and the worker's requirements.txt)."""

from __future__ import annotations

from importlib.metadata import distribution

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .helpers import REPO_ROOT

COMMON = {
    "httpx",
    "google-cloud-secret-manager",
    "standardwebhooks",
    "pydantic",
    "pydantic-settings",
    "tenacity",
}
DIRECT = {
    "functions/order_webhook": COMMON | {"functions-framework", "flask", "pyzeebe", "grpcio"},
    "functions/status_update": COMMON | {"functions-framework", "flask"},
    # google-auth and requests: the ID token for the status function (google.auth.transport.requests).
    "worker_job": COMMON | {"pyzeebe", "grpcio", "google-auth", "requests"},
}


def pins(path: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in (REPO_ROOT / path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, version = line.split("==")
        assert canonicalize_name(name) not in found, f"{name} pinned twice in {path}"
        found[canonicalize_name(name)] = version
    return found


def dependencies(name: str) -> set[str]:
    """What the installed distribution `name` requires on this platform (extras left out)."""
    required: set[str] = set()
    for line in distribution(name).requires or []:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            required.add(canonicalize_name(requirement.name))
    return required


@pytest.mark.parametrize("part", sorted(DIRECT))
def test_requirements_are_exact_pins_from_the_lock(part: str) -> None:
    lock = pins("requirements-dev.lock")
    required = pins(f"{part}/requirements.txt")
    assert DIRECT[part] <= set(required), "a direct dependency is missing"
    mismatched = {name: v for name, v in required.items() if lock.get(name) != v}
    assert not mismatched, f"pins that differ from requirements-dev.lock: {mismatched}"


@pytest.mark.parametrize("part", sorted(DIRECT))
def test_what_the_pins_pull_in_is_pinned_too(part: str) -> None:
    required = set(pins(f"{part}/requirements.txt"))
    unpinned = sorted(
        f"{dependency} (for {name})"
        for name in required
        for dependency in dependencies(name)
        if dependency not in required
    )
    assert not unpinned, f"installed unpinned: {unpinned}"
