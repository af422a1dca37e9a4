"""Fixtures: one engine process per test session; the conformance target is local or a real Zeebe."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest

from localzeebe.launcher import LocalEngine

from .support import Gateway, Target

# The session's engine removes expired messages every second (Zeebe's default, 60 s, is kept for the
# engine's own test of it), so the conformance test of the TTL checker stays short.
LOCAL_TTL_CHECK_INTERVAL_S = 1.0


@pytest.fixture(scope="session")
def local_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    engine = LocalEngine.start(
        log_path=tmp_path_factory.mktemp("engine") / "engine.log",
        options=["--message-ttl-check-interval", str(LOCAL_TTL_CHECK_INTERVAL_S)],
    )
    yield engine
    engine.stop()


@pytest.fixture(params=["local", "zeebe"])
def target(request: pytest.FixtureRequest) -> Target:
    if request.param == "zeebe":
        address = os.environ.get("ZEEBE_ADDRESS")
        if not address:
            pytest.skip("ZEEBE_ADDRESS not set: no real Zeebe to run the conformance suite against")
        interval = float(os.environ.get("ZEEBE_MESSAGE_TTL_CHECK_INTERVAL_SECONDS", "60"))
        return Target("zeebe", address, None, ttl_check_interval_s=interval)
    engine: LocalEngine = request.getfixturevalue("local_engine")
    return Target("local", engine.grpc_address, engine, ttl_check_interval_s=LOCAL_TTL_CHECK_INTERVAL_S)


@pytest.fixture
async def gateway(target: Target) -> AsyncIterator[Gateway]:
    client = Gateway(target.address)
    yield client
    await client.close()
