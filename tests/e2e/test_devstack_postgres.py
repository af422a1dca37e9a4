"""The stack runner's PostgreSQL server, on its own (real binaries, no Medusa)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from devstack.parts import free_port
from devstack.postgres import Postgres
from devstack.processes import ProcessGroup

pytestmark = pytest.mark.e2e


def test_the_cluster_is_created_whatever_locale_the_shell_names(monkeypatch: pytest.MonkeyPatch) -> None:
    # A shell reached over ssh often names the client's locale, which a fresh server has not generated.
    monkeypatch.setenv("LC_ALL", "xx_XX.UTF-8")
    base = Path(tempfile.mkdtemp(prefix="devstack-pg-test-"))
    base.chmod(0o755)  # as root the server's own user must be able to enter it
    try:
        group = ProcessGroup(base, log=lambda _: None)
        postgres = Postgres(base / "postgres", free_port(), group)

        assert postgres.initialise()
        assert not postgres.initialise()  # found, not created again
        try:
            server = postgres.start(dict(os.environ))
            assert server.process.is_running()
        finally:
            group.stop_all()
        assert not server.process.is_running()
    finally:
        shutil.rmtree(base, ignore_errors=True)
