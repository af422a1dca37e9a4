"""The admin widgets use the dashboard's own copies of what both import (TanStack Query, Medusa's JS SDK).

Medusa's plugin build leaves those imports to the shop, and the dashboard's build resolves them from where
the plugin is installed. Were they the plugin's dependencies at fixed versions, a Medusa upgrade moving the
dashboard to another version would give the widgets a second copy nested under the plugin: a second
TanStack Query has its own React context, and the widgets would find no QueryClient. As peer dependencies
whose ranges the dashboard's versions satisfy, the shop's tree holds one copy, or npm refuses the install.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from devstack.plugin import BACKEND_DIR, install_plugin

pytestmark = pytest.mark.production

DASHBOARD_MANIFEST = BACKEND_DIR / "node_modules" / "@medusajs" / "dashboard" / "package.json"
ADMIN_BUNDLE = "package/.medusa/server/src/admin/index.mjs"
IMPORTED = re.compile(r'from "((?:@[^/"]+/)?[^/"]+)[^"]*"')


@pytest.fixture(scope="module")
def tarball() -> Path:
    """The plugin as a shop installs it, installed into the demo shop (skipped while it is current)."""
    return install_plugin(lambda _message: None)


def packed_text(tarball: Path, member: str) -> str:
    with tarfile.open(tarball) as archive:
        extracted = archive.extractfile(member)
        assert extracted is not None, f"{member} is not a file in {tarball.name}"
        return extracted.read().decode()


def manifest(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def semver(function: str, first: str, second: str) -> bool:
    """npm's own semver (from the demo shop's node_modules): `satisfies` or `intersects`."""
    node = shutil.which("node")
    assert node, "node is needed for the Medusa side"
    script = f"process.exit(require('semver').{function}(process.argv[1], process.argv[2]) ? 0 : 1)"
    result = subprocess.run(
        [node, "-e", script, first, second], cwd=BACKEND_DIR, capture_output=True, check=False
    )
    assert result.returncode in (0, 1), result.stderr
    return result.returncode == 0


def shared_with_the_dashboard(tarball: Path) -> set[str]:
    """The packages the widgets' bundle imports that the dashboard depends on too."""
    imported = set(IMPORTED.findall(packed_text(tarball, ADMIN_BUNDLE)))
    return imported & set(manifest(DASHBOARD_MANIFEST)["dependencies"])


def test_what_the_widgets_share_with_the_dashboard_is_a_peer_the_dashboard_satisfies(tarball: Path) -> None:
    packed = json.loads(packed_text(tarball, "package/package.json"))
    dashboard = manifest(DASHBOARD_MANIFEST)["dependencies"]
    shared = shared_with_the_dashboard(tarball)
    assert {"@tanstack/react-query", "@medusajs/js-sdk"} <= shared, shared

    for name in sorted(shared):
        assert name not in packed.get("dependencies", {}), f"{name} is a dependency of the plugin"
        peer_range = packed.get("peerDependencies", {}).get(name)
        assert peer_range, f"{name} is imported by the widgets but is no peer dependency"
        # The dashboard's declared version or range, and the copy the shop has, are inside the peer range.
        assert semver("intersects", dashboard[name], peer_range), (name, dashboard[name], peer_range)
        installed = manifest(BACKEND_DIR / "node_modules" / name / "package.json")["version"]
        assert semver("satisfies", installed, peer_range), (name, installed, peer_range)


def test_the_shop_holds_one_copy_of_tanstack_query_after_installing_the_tarball(tarball: Path) -> None:
    for name in sorted(shared_with_the_dashboard(tarball)):
        copies = installed_copies(BACKEND_DIR / "node_modules", name)
        assert copies == [BACKEND_DIR / "node_modules" / name], f"{name}: {copies}"


def installed_copies(node_modules: Path, name: str) -> list[Path]:
    """Every installed directory of the package `name` in the tree, nested ones included."""
    suffix = f"{os.sep}node_modules{os.sep}{name.replace('/', os.sep)}"
    return sorted(Path(directory) for directory, _, _ in os.walk(node_modules) if directory.endswith(suffix))
