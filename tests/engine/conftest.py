"""Fixtures: one engine process per test session; the conformance target is local or a real Zeebe."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator

import pytest

from localzeebe.launcher import LocalEngine

from .support import Gateway, LeftoverCheck, Target, describe_jobs

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


@pytest.fixture(scope="package", autouse=True)
def no_production_jobs_left(request: pytest.FixtureRequest) -> Iterator[None]:
    """The engine tests leave no activatable job of a production type on the engine they share: the Zeebe
    at ZEEBE_ADDRESS (shared with the worker tier, whose real worker would take such a job), else the
    session's local engine. Jobs that were there before the first engine test are not counted; the
    instances of any that are left are canceled, then the run fails naming them. Package scope: the check
    ends with the last engine test, before a worker tier in the same run starts."""
    address = os.environ.get("ZEEBE_ADDRESS") or request.getfixturevalue("local_engine").grpc_address
    check = LeftoverCheck(address)
    asyncio.run(check.start())
    yield
    left = asyncio.run(check.left())
    if left:
        asyncio.run(check.cancel_instances(left))
        pytest.fail(f"the engine tests left jobs of production types: {describe_jobs(left)}", pytrace=False)


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
