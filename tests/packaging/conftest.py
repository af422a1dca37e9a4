"""Shared by the packaging tests: the interpreter that stands in for the cloud's Python 3.12."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def cloud_like_python() -> str:
    """Python 3.12 like the python312 runtime and the worker image, when installed (PATH or pyenv),
    else the interpreter running the tests."""
    pyenv = sorted(map(str, Path.home().glob(".pyenv/versions/3.12*/bin/python3.12")))
    for candidate in filter(None, [shutil.which("python3.12"), *pyenv]):
        probe = subprocess.run([candidate, "-c", "import venv"], capture_output=True, check=False)
        if probe.returncode == 0:
            return candidate
    return sys.executable


@pytest.fixture(scope="session")
def cloud_python() -> str:
    return cloud_like_python()
