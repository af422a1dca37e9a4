"""One chaos stack (production-shaped: Redis, a server and a worker Medusa) for this directory's runs."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.chaos.nemesis import clock_skew
from devstack.chaos.stack import ChaosStack

SEED = 20261205
FAMILIES = ("kill", "pause", "slow", "error", "cut", "replay", "skew")


@pytest.fixture(scope="package")
def work_dir(request: pytest.FixtureRequest) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="chaos-tests-"))
    path.chmod(0o755)  # PostgreSQL runs as its own user when we are root
    yield path
    if request.session.testsfailed:
        print(f"\nchaos run directory kept for its logs: {path}")
    else:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="package")
def stack(work_dir: Path) -> Iterator[ChaosStack]:
    chaos = ChaosStack(work_dir / "run", seed=SEED, clock_skew_seconds=clock_skew(SEED, FAMILIES))
    try:
        yield chaos.start()
    finally:
        chaos.stop()
