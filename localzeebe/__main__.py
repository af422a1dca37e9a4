"""`python -m localzeebe [--port ...]` serves the engine; `python -m localzeebe inspect ...` reads it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from localzeebe import log as engine_log
from localzeebe.backpressure import BackPressure
from localzeebe.engine import Engine
from localzeebe.inspection import run_cli, start_http
from localzeebe.message import TTL_CHECK_INTERVAL_MS
from localzeebe.server import start_grpc
from localzeebe.store import Store

log = logging.getLogger("localzeebe")


def _serve_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m localzeebe", description="Local Zeebe-compatible engine")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=26500, help="gRPC gateway port (0 = any free port)")
    parser.add_argument(
        "--http-port", type=int, default=26501, help="inspection HTTP port (0 = any free port)"
    )
    parser.add_argument("--data-dir", type=Path, help="keep state in DIR across restarts (default: memory)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.add_argument(
        "--message-ttl-check-interval",
        type=float,
        default=TTL_CHECK_INTERVAL_MS / 1000,
        metavar="SECONDS",
        help="how often expired messages are removed, freeing their ids (Zeebe's default: 60)",
    )
    parser.add_argument(
        "--back-pressure",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="answer this share (0-1) of the commands Zeebe may limit with RESOURCE_EXHAUSTED (default 0)",
    )
    arguments = parser.parse_args(argv)
    if not 0 <= arguments.back_pressure <= 1:
        parser.error("--back-pressure must be between 0 and 1")
    if arguments.message_ttl_check_interval <= 0:
        parser.error("--message-ttl-check-interval must be positive")
    return arguments


def _inspect_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m localzeebe inspect", description="Show process instances"
    )
    parser.add_argument("--url", default="http://127.0.0.1:26501", help="inspection API base URL")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("key", nargs="?", type=int, help="a process instance key")
    target.add_argument("--correlation-key", help="instances started with this correlation key")
    target.add_argument("--all", action="store_true", help="list every process instance")
    return parser.parse_args(argv)


async def serve(arguments: argparse.Namespace) -> None:
    store = Store(arguments.data_dir) if arguments.data_dir else None
    engine = Engine(store, ttl_check_interval_ms=round(arguments.message_ttl_check_interval * 1000))
    engine.resume()
    back_pressure = BackPressure(arguments.back_pressure)
    grpc_server, grpc_port = await start_grpc(engine, arguments.host, arguments.port, back_pressure)
    try:
        http_server, http_port = await start_http(engine, arguments.host, arguments.http_port)
    except OSError as error:
        await grpc_server.stop(grace=None)
        raise OSError(f"cannot listen for HTTP on {arguments.host}:{arguments.http_port}: {error}") from None
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    log.info(
        "listening grpc=%s:%d http=%s:%d data-dir=%s back-pressure=%g message-ttl-check=%gs",
        arguments.host,
        grpc_port,
        arguments.host,
        http_port,
        arguments.data_dir or "(memory)",
        arguments.back_pressure,
        arguments.message_ttl_check_interval,
    )
    print(f"localzeebe ready grpc={arguments.host}:{grpc_port} http={arguments.host}:{http_port}", flush=True)
    await stopping.wait()
    log.info("stopping")
    http_server.close()
    await grpc_server.stop(grace=1)
    engine.commit()
    if store is not None:
        store.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "inspect":
        inspect = _inspect_arguments(args[1:])
        return run_cli(inspect.url, inspect.key, inspect.correlation_key, inspect.all)
    arguments = _serve_arguments(args)
    engine_log.configure(arguments.log_level)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(arguments))
    except OSError as error:
        log.error("%s", error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
