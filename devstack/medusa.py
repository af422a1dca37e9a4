"""The local Medusa v2 shop in medusa/backend: migrations, the admin user, the server process."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from devstack.plugin import BACKEND_DIR, exclusive, plugin_fingerprint
from devstack.processes import ManagedProcess, ProcessGroup, StartupError, stop_process, wait_until

ADMIN_EMAIL = "admin@example.com"
ADMIN_PATH = "/app"
# `medusa start` serves the admin from here; `medusa build --admin-only` writes it to .medusa/admin.
ADMIN_BUILD_DIR = BACKEND_DIR / "public" / "admin"
ADMIN_BUILD_TIMEOUT_SECONDS = 900
BOOT_TIMEOUT_SECONDS = 180
HEARTBEAT_SECONDS = 10


@dataclass(frozen=True)
class AdminLogin:
    email: str
    password: str


def medusa_cli() -> Path:
    cli = BACKEND_DIR / "node_modules" / ".bin" / "medusa"
    if not cli.exists():
        raise StartupError(f"{cli} is missing: run `make setup` (it runs `npm ci` in medusa/backend)")
    return cli


def dependencies_fingerprint() -> str:
    """Changes when the installed packages, the plugin or the configuration change, i.e. when migrations
    may differ."""
    digest = hashlib.sha256(plugin_fingerprint().encode())
    for name in ("package-lock.json", "medusa-config.ts"):
        digest.update((BACKEND_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


class Medusa:
    def __init__(
        self,
        state_dir: Path,
        port: int,
        env: dict[str, str],
        group: ProcessGroup,
        say: Callable[[str], None],
        *,
        name: str = "medusa",
    ) -> None:
        self.name = name
        self.state_dir = state_dir
        self.port = port
        self.env = env
        self.group = group
        self.say = say
        self.url = f"http://127.0.0.1:{port}"

    def migrate(self) -> None:
        """Runs `medusa db:migrate` unless this database was migrated with the same packages before."""
        marker = self.state_dir / f"migrated-{dependencies_fingerprint()}"
        if marker.exists():
            self.say("database schema is up to date (migrations skipped)")
            return
        self.say("running Medusa's database migrations (about 20 s on a fresh database)...")
        started = time.monotonic()
        self._run_cli("migrate", ["db:migrate"], timeout=600)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.state_dir.glob("migrated-*"):
            stale.unlink()
        marker.touch()
        self.say(f"migrations done in {time.monotonic() - started:.0f} s")

    def build_admin(self) -> None:
        """Builds the admin dashboard with the plugin's widgets unless this very build is in place.

        Medusa bundles a plugin's admin extensions into the dashboard at build time, so the dashboard is
        built again whenever the plugin, the packages or the configuration change.
        """
        marker = ADMIN_BUILD_DIR / f".built-{dependencies_fingerprint()}"
        with exclusive(BACKEND_DIR / "node_modules" / ".admin-build.lock"):
            if marker.exists():
                self.say("the admin dashboard is built for the current plugin (build skipped)")
                return
            self.say("building the admin dashboard with the plugin's widgets (about a minute)...")
            started = time.monotonic()
            self._run_cli("admin-build", ["build", "--admin-only"], timeout=ADMIN_BUILD_TIMEOUT_SECONDS)
            shutil.rmtree(ADMIN_BUILD_DIR, ignore_errors=True)
            ADMIN_BUILD_DIR.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(BACKEND_DIR / ".medusa" / "admin", ADMIN_BUILD_DIR)
            marker.touch()
            self.say(f"admin dashboard built in {time.monotonic() - started:.0f} s")

    def _run_cli(self, name: str, args: list[str], timeout: float) -> None:
        """Runs a short-lived `medusa` command to completion, saying every few seconds that it still runs.

        Not through ProcessGroup.start, whose log line would carry the admin password of `medusa user`.
        """
        log_path = self.group.log_path(f"medusa-{name}")
        with (
            log_path.open("ab") as log_file,
            subprocess.Popen(
                [str(medusa_cli()), *args],
                cwd=BACKEND_DIR,
                env=self.env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                # Own session, as for every part: stopped below, with whatever it started, on every failure.
                start_new_session=True,
            ) as process,
        ):
            try:
                returncode = self._await_cli(process, args[0], timeout)
            except BaseException:
                stop_process(ManagedProcess(f"medusa-{name}", process.pid, log_path, popen=process), grace=5)
                raise
        if returncode != 0:
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
            raise StartupError(f"`medusa {args[0]}` failed; log {log_path}:\n{tail}")

    def _await_cli(self, process: subprocess.Popen[bytes], command: str, timeout: float) -> int:
        started = time.monotonic()
        while True:
            try:
                return process.wait(timeout=HEARTBEAT_SECONDS)
            except subprocess.TimeoutExpired:
                elapsed = time.monotonic() - started
                if elapsed > timeout:
                    raise StartupError(f"`medusa {command}` took longer than {timeout:.0f} s") from None
                self.say(f"  still running `medusa {command}` ({elapsed:.0f} s)...")

    def start(self) -> ManagedProcess:
        mode = self.env.get("MEDUSA_WORKER_MODE")
        self.say(f"starting Medusa{f' ({mode} mode)' if mode else ''} on {self.url} (about 10 s)...")
        process = self.group.start(
            self.name,
            [str(medusa_cli()), "start", "-H", "127.0.0.1", "-p", str(self.port)],
            self.env,
            cwd=BACKEND_DIR,
        )
        wait_until(self.is_healthy, BOOT_TIMEOUT_SECONDS, f"Medusa's GET {self.url}/health", process)
        return process

    def is_healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def admin_token(self, login: AdminLogin) -> str:
        """Logs the admin in, creating the user first if the login fails (`medusa user` is not idempotent)."""
        token = self._login(login)
        if token is None:
            self.say(f"creating the admin user {login.email}...")
            self._run_cli("user", ["user", "-e", login.email, "-p", login.password], timeout=120)
            token = self._login(login)
        if token is None:
            raise StartupError(f"cannot log in to Medusa as {login.email} even after creating the user")
        return token

    def _login(self, login: AdminLogin) -> str | None:
        return admin_jwt(self.url, login)


def admin_jwt(medusa_url: str, login: AdminLogin) -> str | None:
    """A user's token for the Admin API (24 h), or None when Medusa refuses the login."""
    response = httpx.post(
        f"{medusa_url}/auth/user/emailpass",
        json={"email": login.email, "password": login.password},
        timeout=30,
    )
    if response.status_code == 200:
        return str(response.json()["token"])
    return None
