"""The deployable function zips: built by tools/package_functions.py exactly as for `terraform apply`, then
installed the way Cloud Functions does it (a fresh virtual environment, `pip install -r requirements.txt`
from PyPI) and imported and served from the unpacked zip, so a module or dependency missing from the zip
fails here rather than in the cloud.

The fresh environments use Python 3.12 (the `python312` runtime) when the machine has it, else this
interpreter. They are made per run in a temporary directory; nothing is cached in the repository.
"""

from __future__ import annotations

import base64
import os
import secrets
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGER = REPO_ROOT / "tools" / "package_functions.py"
FUNCTIONS = ("order_webhook", "status_update")
PIP_TIMEOUT_SECONDS = 600
SERVE_TIMEOUT_SECONDS = 60

# Settings each function loads at import (fulfillment/settings.py; an empty value gets a fresh secret).
# Nothing listens on port 9: the functions only connect on a real request, which these tests never let get
# that far. The webhook has no Medusa setting.
FUNCTION_SETTINGS = {
    "order_webhook": {"ORDER_WEBHOOK_SECRET": "", "ZEEBE_ADDRESS": "127.0.0.1:9"},
    "status_update": {
        "MEDUSA_BACKEND_URL": "http://127.0.0.1:9",
        "MEDUSA_STATUS_SECRET": "",
        "STATUS_UPDATE_SECRET": "",
    },
}


def build_zips(out_dir: Path) -> dict[str, Path]:
    subprocess.run([sys.executable, str(PACKAGER), "--out", str(out_dir)], check=True, cwd=REPO_ROOT)
    return {name: out_dir / f"{name}.zip" for name in FUNCTIONS}


@pytest.fixture(scope="module")
def zips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_zips(tmp_path_factory.mktemp("zips"))


def expected_entries(function: str) -> set[str]:
    core = {
        path.relative_to(REPO_ROOT).as_posix()
        for path in (REPO_ROOT / "fulfillment").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    return {"main.py", "requirements.txt", *core}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_zip_holds_the_function_and_the_core_package(zips: dict[str, Path], function: str) -> None:
    with zipfile.ZipFile(zips[function]) as archive:
        names = set(archive.namelist())
        assert archive.testzip() is None
    assert names == expected_entries(function)
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc") or "/tests/" in name]


def test_zips_are_reproducible(zips: dict[str, Path], tmp_path: Path) -> None:
    """Same sources, same bytes: Terraform redeploys a function only when its zip's hash changes."""
    again = build_zips(tmp_path)
    for function in FUNCTIONS:
        assert again[function].read_bytes() == zips[function].read_bytes()


def settings_env(function: str) -> dict[str, str]:
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    values = {name: value or secret for name, value in FUNCTION_SETTINGS[function].items()}
    # Only what a Cloud Functions instance would have: no PYTHONPATH, so nothing leaks in from the repo.
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(Path.home()), **values}


@pytest.fixture(scope="module", params=FUNCTIONS)
def installed(
    request: pytest.FixtureRequest,
    zips: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
    cloud_python: str,
) -> tuple[str, Path, Path]:
    """(function, unpacked zip, virtual environment with the function's requirements.txt installed)."""
    function: str = request.param
    root = tmp_path_factory.mktemp(function)
    unpacked = root / "source"
    with zipfile.ZipFile(zips[function]) as archive:
        archive.extractall(unpacked)
    venv = root / "venv"
    subprocess.run([cloud_python, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-input", "-r", str(unpacked / "requirements.txt")],
        capture_output=True,
        text=True,
        check=False,
        timeout=PIP_TIMEOUT_SECONDS,
    )  # fmt: skip
    assert pip.returncode == 0, f"pip install -r requirements.txt failed:\n{pip.stdout}\n{pip.stderr}"
    return function, unpacked, venv


@pytest.mark.integration
def test_entry_point_imports_from_the_unpacked_zip(installed: tuple[str, Path, Path]) -> None:
    function, unpacked, venv = installed
    script = (
        "import sys, main, fulfillment\n"
        f"assert callable(main.{function})\n"
        "print(fulfillment.__file__)\n"
        "print('.'.join(map(str, sys.version_info[:2])))\n"
    )
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", script],
        cwd=unpacked,
        env=settings_env(function),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    core_file, python_version = result.stdout.split()
    assert Path(core_file).resolve().is_relative_to(unpacked.resolve()), "fulfillment must come from the zip"
    print(f"{function}: imported with Python {python_version} from {unpacked}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served(installed: tuple[str, Path, Path]) -> Iterator[str]:
    """The unpacked function served by functions-framework from its own virtual environment."""
    function, unpacked, venv = installed
    port = free_port()
    process = subprocess.Popen(
        [str(venv / "bin" / "functions-framework"), "--target", function, "--source", "main.py",
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=unpacked,
        env=settings_env(function),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_serving(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + SERVE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"functions-framework exited {process.returncode}: {output}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"functions-framework did not serve {url} within {SERVE_TIMEOUT_SECONDS} s")


@pytest.mark.integration
def test_unpacked_zip_serves_with_functions_framework(served: str) -> None:
    """The runtime's loader finds the entry point; requests reach the code's own checks."""
    not_post = httpx.get(served, timeout=10)
    assert not_post.status_code == 405
    assert not_post.json()["error"] == "method_not_allowed"
    unsigned = httpx.post(served, json={"type": "order.placed", "data": {"id": "order_1"}}, timeout=10)
    assert unsigned.status_code == 401
