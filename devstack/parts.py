"""How a part runs on 127.0.0.1, shared by the stack and the tests that start parts themselves: free ports,
an environment without the shell's project settings, and the functions-framework command for a function.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Mapping
from typing import Final

FUNCTIONS: Final = ("order_webhook", "status_update")
# A developer's real Camunda credentials or shop URL in the shell must never reach a local part, which gets
# exactly the settings it needs.
PROJECT_SETTING_PREFIXES: Final = (
    "ZEEBE_",
    "CAMUNDA_",
    "MEDUSA_",
    "ORDER_WEBHOOK_",
    "ORDER_MESSAGE_",
    "STATUS_UPDATE_",
    "WORKER_",
    "NOTIFICATION_",
    "SMTP_",
    "DATABASE_URL",
    "JWT_SECRET",
    "COOKIE_SECRET",
    # A shell's REDIS_URL would turn the in-memory shop into a Redis one (medusa-config.ts).
    "REDIS_URL",
)


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` different free ports: all are held at once while they are chosen, so the kernel cannot hand
    out one port twice (it may when each is bound and released before the next is asked for)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def without_project_settings(environ: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in environ.items() if not key.startswith(PROJECT_SETTING_PREFIXES)}


def function_argv(name: str, port: int, host: str = "127.0.0.1") -> list[str]:
    """functions-framework serving functions/NAME/main.py (run from the repository root)."""
    if name not in FUNCTIONS:
        raise ValueError(f"unknown function {name!r}; expected one of {FUNCTIONS}")
    return [
        sys.executable,
        "-m",
        "functions_framework",
        "--source",
        f"functions/{name}/main.py",
        "--target",
        name,
        "--host",
        host,
        "--port",
        str(port),
    ]
