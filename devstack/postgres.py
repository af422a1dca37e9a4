"""A private PostgreSQL server for the local Medusa: own data directory under the run dir, loopback only.

PostgreSQL refuses to run as root, so as root the server runs as a dedicated system user that owns the
data directory (the child process drops privileges itself; no `su`/`runuser` process in between, so the
recorded PID is the postmaster's).
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from devstack.processes import ManagedProcess, ProcessGroup, StartupError, wait_until

SYSTEM_USER = "devstack-pg"
DATABASE = "medusa"
SUPERUSER = "postgres"


@dataclass(frozen=True)
class PostgresInfo:
    url: str
    port: int
    process: ManagedProcess


def find_bin_dir() -> Path:
    """The directory holding initdb, postgres, psql: from PATH (symlinks resolved) or Debian's layout."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    if candidates:
        return Path(candidates[-1]).parent
    raise StartupError(
        "PostgreSQL server binaries not found (initdb on PATH or /usr/lib/postgresql/*/bin): "
        "run `make setup` or install Debian's `postgresql` package"
    )


def _version_key(path: str) -> int:
    version = Path(path).parent.parent.name
    return int(version) if version.isdigit() else 0


def _server_user() -> str | None:
    """None when we are not root (the server then runs as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
            check=True,
            capture_output=True,
        )
    return SYSTEM_USER


def cluster_dir(preferred: Path) -> Path:
    """Where the cluster lives: `preferred`, unless the server's system user could not reach it.

    As root, the server runs as another user, who needs search permission on every parent directory. A
    checkout under /root (mode 700) fails that, so the cluster then lives in the temporary directory,
    under a name derived from `preferred` so that the same run dir always finds the same cluster.
    """
    if os.geteuid() != 0 or all(
        parent.stat().st_mode & 0o001 for parent in preferred.parents if parent.exists()
    ):
        return preferred
    digest = hashlib.sha256(str(preferred).encode()).hexdigest()[:12]
    fallback = Path(tempfile.gettempdir()) / f"devstack-pg-{digest}"
    fallback.mkdir(mode=0o755, exist_ok=True)
    return fallback


def _chown_tree(path: Path, user: str | None) -> None:
    if user is None:
        return
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        for name in [root, *(os.path.join(root, d) for d in dirs), *(os.path.join(root, f) for f in files)]:
            os.chown(name, entry.pw_uid, entry.pw_gid)


class Postgres:
    def __init__(self, base_dir: Path, port: int, log: ProcessGroup) -> None:
        self.base_dir = base_dir
        self.data_dir = base_dir / "data"
        self.socket_dir = base_dir / "socket"
        self.password_file = base_dir / "password"
        self.port = port
        self.group = log
        self.bin_dir = find_bin_dir()

    @property
    def password(self) -> str:
        return self.password_file.read_text().strip()

    def url(self) -> str:
        return f"postgres://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{DATABASE}"

    def initialise(self) -> bool:
        """Creates the cluster unless it exists; True when it was created (a fresh, empty database)."""
        user = _server_user()
        if (self.data_dir / "PG_VERSION").exists():
            _chown_tree(self.base_dir, user)
            return False
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        self.password_file.write_text(secrets.token_urlsafe(24))
        self.password_file.chmod(0o600)
        _chown_tree(self.base_dir, user)
        result = subprocess.run(
            [
                str(self.bin_dir / "initdb"),
                "--pgdata",
                str(self.data_dir),
                "--username",
                SUPERUSER,
                "--pwfile",
                str(self.password_file),
                "--auth-host=scram-sha-256",
                "--auth-local=peer",
                "--encoding=UTF8",
                # Locale C whatever LANG/LC_* name: a shell reached over ssh often names the client's locale,
                # which a fresh server has not generated, and initdb then refuses to run.
                "--no-locale",
                "--no-instructions",
            ],
            user=user,
            cwd=self.base_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StartupError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
        return True

    def start(self, env: dict[str, str]) -> PostgresInfo:
        argv = [
            str(self.bin_dir / "postgres"),
            "-D",
            str(self.data_dir),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-k",
            str(self.socket_dir),
            # A throw-away development database: durability is not worth the disk flushes.
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ]
        # SIGINT is PostgreSQL's "fast" shutdown; SIGTERM ("smart") would wait for clients to disconnect.
        process = self.group.start(
            "postgres", argv, env, cwd=self.base_dir, stop_signal=signal.SIGINT, user=_server_user()
        )
        wait_until(self._accepts_connections, 60, "PostgreSQL to accept connections", process)
        self._ensure_database()
        return PostgresInfo(self.url(), self.port, process)

    def _client_env(self) -> dict[str, str]:
        return {**os.environ, "PGPASSWORD": self.password, "PGCONNECT_TIMEOUT": "5"}

    def _accepts_connections(self) -> bool:
        result = subprocess.run(
            [str(self.bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    def _psql(self, sql: str) -> str:
        psql = [str(self.bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER]
        result = subprocess.run(
            [*psql, "-d", "postgres", "-tAc", sql],
            env=self._client_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StartupError(f"psql failed ({sql}): {result.stderr.strip()}")
        return result.stdout.strip()

    def _ensure_database(self) -> None:
        # DATABASE is a constant of this module, not input.
        if self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'") != "1":  # noqa: S608
            self._psql(f"CREATE DATABASE {DATABASE}")
