"""Builds the plugin in medusa/plugin, packs it and installs the tarball into medusa/backend, as a shop would.

The backend never imports the plugin's sources: it gets exactly what `npm pack` puts into the package.
`npm install --no-save` keeps the backend's package.json and lock unchanged (the tarball changes with
every build). Skipped while the installed tarball came from the same plugin sources.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from devstack.processes import StartupError

REPO_ROOT = Path(__file__).resolve().parent.parent
PLUGIN_DIR = REPO_ROOT / "medusa" / "plugin"
BACKEND_DIR = REPO_ROOT / "medusa" / "backend"
PACK_DIR = REPO_ROOT / ".build" / "medusa"
NPM_TIMEOUT_SECONDS = 600
# The commands of the plugin's README, "Installing it in a shop" (tests/packaging/test_plugin_package.py
# checks they match): `npm pack` in the plugin, `npm install TARBALL` in the shop. `--no-save` keeps the
# demo shop's package.json and lock as they are, since the tarball changes with every build.
PACK_ARGS = ("pack",)
INSTALL_ARGS = ("install", "--no-save", "--no-audit", "--no-fund")


def plugin_package_name() -> str:
    return str(json.loads((PLUGIN_DIR / "package.json").read_text())["name"])


def plugin_fingerprint() -> str:
    """Changes whenever anything that goes into the package changes."""
    digest = hashlib.sha256()
    paths = [PLUGIN_DIR / "package.json", PLUGIN_DIR / "package-lock.json", PLUGIN_DIR / "tsconfig.json"]
    paths += sorted(path for path in (PLUGIN_DIR / "src").rglob("*") if path.is_file())
    for path in paths:
        digest.update(str(path.relative_to(PLUGIN_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def install_plugin(say: Callable[[str], None] = print) -> Path:
    """Builds, packs and installs the plugin unless the backend already has this very build; returns the
    tarball's path."""
    _require_node_modules(PLUGIN_DIR)
    _require_node_modules(BACKEND_DIR)
    PACK_DIR.mkdir(parents=True, exist_ok=True)
    fingerprint = plugin_fingerprint()
    marker = BACKEND_DIR / "node_modules" / f".fulfillment-plugin-{fingerprint}"
    with exclusive(PACK_DIR / ".lock"):
        tarball = PACK_DIR / f"{plugin_package_name()}-{fingerprint}.tgz"
        if marker.exists() and tarball.exists():
            say("the plugin is installed from its current sources (build skipped)")
            return tarball
        say("packing the plugin (its prepack script runs medusa plugin:build, about 20 s)...")
        shutil.move(pack_plugin(PLUGIN_DIR, PACK_DIR), tarball)
        say(f"installing {tarball.name} into medusa/backend...")
        _npm(BACKEND_DIR, *INSTALL_ARGS, str(tarball))
        for stale in (BACKEND_DIR / "node_modules").glob(".fulfillment-plugin-*"):
            stale.unlink()
        marker.touch()
        for old in PACK_DIR.glob("*.tgz"):
            if old != tarball:
                old.unlink()
        return tarball


def pack_plugin(plugin_dir: Path, destination: Path) -> Path:
    """Runs `npm pack` in `plugin_dir` as the plugin's README says (its prepack script builds first) and
    returns the tarball. The build's log goes to stdout too, so the tarball is found in a fresh folder
    rather than parsed out of npm's answer."""
    destination.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination) as fresh:
        _npm(plugin_dir, *PACK_ARGS, "--pack-destination", fresh)
        (packed,) = Path(fresh).glob("*.tgz")
        return Path(shutil.move(packed, destination / packed.name))


def _require_node_modules(project: Path) -> None:
    if not (project / "node_modules" / ".bin" / "medusa").exists():
        raise StartupError(f"{project}/node_modules is missing: run `make setup` (it runs `npm ci` there)")


def _npm(cwd: Path, *args: str) -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise StartupError("npm is not on PATH (Node 20 and npm are needed for Medusa)")
    result = subprocess.run(
        [npm, *args], cwd=cwd, capture_output=True, text=True, timeout=NPM_TIMEOUT_SECONDS, check=False
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()
        raise StartupError(f"`npm {' '.join(args)}` failed in {cwd}:\n" + "\n".join(output[-30:]))
    return result.stdout


@contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """One build at a time per checkout: the demo and a test run may start together."""
    with lock_path.open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
