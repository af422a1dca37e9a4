"""The demo shop's own Node tests (the wording of the mails its notification provider renders); its types
are checked with the plugin's in test_medusa_sources.py."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from devstack.plugin import BACKEND_DIR

pytestmark = pytest.mark.e2e


def test_demo_shop_node_tests_pass() -> None:
    if not (BACKEND_DIR / "node_modules").is_dir():
        pytest.fail(f"{BACKEND_DIR}/node_modules is missing: run `make setup`")
    npm = shutil.which("npm")
    assert npm, "npm is needed for the Medusa side"

    result = subprocess.run(
        [npm, "test"], cwd=BACKEND_DIR, capture_output=True, text=True, timeout=300, check=False
    )

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
