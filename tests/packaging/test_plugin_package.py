"""The Medusa plugin as a shop gets it: packed with the commands of medusa/plugin/README.md from a copy of
its tracked sources (what a fresh clone holds: no `.medusa` build), so a package that ships without its
code, its admin extension or its migrations fails here. The copy reuses the plugin's installed
node_modules through a symlink, so nothing is downloaded.

The demo shop installs the plugin the same way (devstack/plugin.py, run by `make up`, `make demo` and the
end-to-end tests); these tests check that devstack runs the README's commands, and Medusa's own plugin
resolver finds the server code, the modules and the admin extension in the unpacked package.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from devstack.plugin import BACKEND_DIR, INSTALL_ARGS, PACK_ARGS, PLUGIN_DIR

REPO_ROOT = PLUGIN_DIR.parents[1]
PLUGIN_README = PLUGIN_DIR / "README.md"
PACK_TIMEOUT_SECONDS = 600
BUILD_ROOT = "package/.medusa/server/src"
# npm flags that change what npm records or prints about an install, not what it installs: the demo shop
# may add them to the README's `npm install`.
INSTALL_FLAGS_THAT_KEEP_THE_PACKAGE = {"--no-save", "--no-audit", "--no-fund"}


def install_section_commands() -> list[list[str]]:
    """The `npm ...` lines of the bash blocks in the README's section "Installing it in a shop"."""
    text = PLUGIN_README.read_text()
    section = text.split("## Installing it in a shop", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [shlex.split(line) for line in lines if line.startswith("npm ")]


def readme_command(verb: str) -> list[str]:
    (command,) = [words for words in install_section_commands() if words[1] == verb]
    return command


def package_json() -> dict[str, object]:
    return dict(json.loads((PLUGIN_DIR / "package.json").read_text()))


def tracked_plugin_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", "medusa/plugin"], cwd=REPO_ROOT, capture_output=True, check=True
    )
    return [name for name in listed.stdout.decode().split("\0") if name]


@pytest.fixture(scope="module")
def clean_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin's tracked files as a fresh clone has them, with the installed node_modules linked in."""
    if not (PLUGIN_DIR / "node_modules" / ".bin" / "medusa").exists():
        pytest.fail("medusa/plugin/node_modules is missing: run `make setup`")
    copy = tmp_path_factory.mktemp("clone") / "plugin"
    for name in tracked_plugin_files():
        target = copy / Path(name).relative_to("medusa/plugin")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, target)
    assert not (copy / ".medusa").exists(), ".medusa is a build output and must not be tracked"
    (copy / "node_modules").symlink_to(PLUGIN_DIR / "node_modules", target_is_directory=True)
    return copy


@pytest.fixture(scope="module")
def tarball(clean_copy: Path) -> Path:
    """What the README's `npm pack` writes in the clean copy."""
    packed = subprocess.run(
        readme_command("pack"), cwd=clean_copy, capture_output=True, text=True, timeout=PACK_TIMEOUT_SECONDS
    )
    assert packed.returncode == 0, packed.stdout[-3000:] + packed.stderr[-3000:]
    (found,) = clean_copy.glob("*.tgz")
    return found


@pytest.fixture(scope="module")
def packed_names(tarball: Path) -> set[str]:
    with tarfile.open(tarball) as archive:
        return set(archive.getnames())


@pytest.fixture(scope="module")
def unpacked_shop(tarball: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose node_modules holds the unpacked package, as `npm install TARBALL` lays it out."""
    shop = tmp_path_factory.mktemp("shop")
    target = shop / "node_modules" / str(package_json()["name"])
    with tarfile.open(tarball) as archive:
        archive.extractall(shop / "unpacked", filter="data")
    shutil.move(shop / "unpacked" / "package", target)
    return shop


def test_the_readme_installs_the_tarball_that_npm_pack_writes(tarball: Path) -> None:
    install = readme_command("install")
    assert Path(install[-1]).name == tarball.name, "the README's tarball must carry the package's version"


def test_the_demo_shop_runs_the_readme_commands() -> None:
    assert readme_command("pack") == ["npm", *PACK_ARGS]
    install = readme_command("install")
    assert ["npm", INSTALL_ARGS[0]] == install[:2]
    assert set(INSTALL_ARGS[1:]) <= INSTALL_FLAGS_THAT_KEEP_THE_PACKAGE


def test_the_package_holds_the_built_server_code_for_every_source(packed_names: set[str]) -> None:
    sources = [
        path.relative_to(PLUGIN_DIR)
        for path in (PLUGIN_DIR / "src").rglob("*.ts")
        if "admin" not in path.relative_to(PLUGIN_DIR / "src").parts
    ]
    assert sources
    missing = [
        str(source)
        for source in sources
        if f"package/.medusa/server/{source.with_suffix('.js').as_posix()}" not in packed_names
    ]
    assert missing == []


def test_the_package_holds_the_migrations(packed_names: set[str]) -> None:
    migrations = sorted((PLUGIN_DIR / "src").glob("modules/*/migrations/Migration*.ts"))
    assert migrations
    for migration in migrations:
        built = migration.relative_to(PLUGIN_DIR).with_suffix(".js").as_posix()
        assert f"package/.medusa/server/{built}" in packed_names


def test_the_package_holds_the_admin_extension_its_exports_name(packed_names: set[str]) -> None:
    admin = package_json()["exports"]["./admin"]  # type: ignore[index]
    for target in admin.values():
        assert f"package/{target.removeprefix('./')}" in packed_names


def test_the_package_ships_no_sources_or_tests(packed_names: set[str]) -> None:
    shipped = {name.removeprefix("package/") for name in packed_names}
    assert not [name for name in shipped if name.endswith(".ts") and not name.endswith(".d.ts")]
    assert not [name for name in shipped if name.startswith(("src/", "tests/", "node_modules/"))]
    assert {"package.json", "README.md"} <= shipped


def test_medusa_resolves_the_installed_package(unpacked_shop: Path) -> None:
    """Medusa's own plugin resolver (the one `medusa start` and `db:migrate` use) on the unpacked package:
    the server code, the plugin's module with its migrations, and the admin extension as a package."""
    script = """
    const { getResolvedPlugins } = require(process.argv[1])
    const name = process.argv[2]
    getResolvedPlugins(process.cwd(), { plugins: [{ resolve: name, options: {} }] }).then(([plugin]) => {
      const admin = require.resolve(plugin.admin.resolve, { paths: [process.cwd()] })
      const modules = plugin.modules.map((m) => require.resolve(m.resolve, { paths: [process.cwd()] }))
      console.log(JSON.stringify({ resolve: plugin.resolve, admin: plugin.admin, adminFile: admin, modules }))
    })
    """
    utils = BACKEND_DIR / "node_modules" / "@medusajs" / "utils"
    resolved = subprocess.run(
        ["node", "-e", script, str(utils), str(package_json()["name"])],
        cwd=unpacked_shop,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    plugin = json.loads(resolved.stdout)
    installed = unpacked_shop / "node_modules" / str(package_json()["name"])
    assert Path(plugin["resolve"]) == installed / ".medusa" / "server" / "src"
    assert plugin["admin"]["type"] == "package"
    assert Path(plugin["adminFile"]).is_file()
    assert [Path(module).parent.name for module in plugin["modules"]] == ["fulfillment-workflow"]
    migrations = installed / ".medusa/server/src/modules/fulfillment-workflow/migrations"
    assert list(migrations.glob("Migration*.js"))


def test_the_readme_states_the_medusa_range_of_the_peer_dependencies() -> None:
    peers = package_json()["peerDependencies"]
    medusa_range = peers["@medusajs/medusa"]  # type: ignore[index]
    requirements = next(
        line for line in PLUGIN_README.read_text().split("\n\n") if line.startswith("Requirements:")
    )
    assert f"Medusa `{medusa_range}`" in requirements
    assert "2.x" not in requirements.split("(", 1)[0], "state the peer range, not a looser one"
