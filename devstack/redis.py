"""A private Redis server for the production-shaped Medusa: own config and data directory, loopback only.

Medusa's Redis event bus, workflow engine, locking and cache modules share it (medusa/backend's
medusa-config.ts registers them when REDIS_URL is set). Debian's `redis-server` package provides the binary
(`make setup` installs it); the server is started in the foreground and stopped by its PID like every part.
"""

from __future__ import annotations

import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

from devstack.processes import ManagedProcess, ProcessGroup, StartupError, wait_until

START_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class RedisInfo:
    url: str
    port: int
    process: ManagedProcess


def find_redis_server() -> Path:
    """From PATH, or where Debian's package puts it (a login shell's PATH may lack /usr/bin on odd setups)."""
    found = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin:/usr/local/bin")
    if found is None:
        raise StartupError(
            "redis-server not found: run `make setup` or install Debian's `redis-server` package"
        )
    return Path(found)


def config_text(port: int, data_dir: Path) -> str:
    """Loopback only, no password (nothing else can reach it), no background daemon (we keep its PID), and
    persistence off: the tests start from nothing, and a BullMQ queue needs no snapshot to work."""
    return "\n".join(
        [
            "bind 127.0.0.1",
            f"port {port}",
            "protected-mode yes",
            "daemonize no",
            f"dir {data_dir}",
            'save ""',
            "appendonly no",
            # BullMQ (event bus, workflow engine) refuses any other policy: its jobs must never be evicted.
            "maxmemory-policy noeviction",
            "loglevel notice",
            "",
        ]
    )


class Redis:
    def __init__(self, base_dir: Path, port: int, group: ProcessGroup) -> None:
        self.base_dir = base_dir
        self.data_dir = base_dir / "data"
        self.config_path = base_dir / "redis.conf"
        self.port = port
        self.group = group

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self, env: dict[str, str]) -> RedisInfo:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(config_text(self.port, self.data_dir))
        argv = [str(find_redis_server()), str(self.config_path)]
        process = self.group.start("redis", argv, env, cwd=self.base_dir)
        wait_until(self.answers_ping, START_TIMEOUT_SECONDS, f"Redis on 127.0.0.1:{self.port}", process)
        return RedisInfo(self.url, self.port, process)

    def answers_ping(self) -> bool:
        return ping(self.port)


def ping(port: int, host: str = "127.0.0.1") -> bool:
    """True when a Redis server answers PING on the port (RESP inline command; no client library needed)."""
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False
