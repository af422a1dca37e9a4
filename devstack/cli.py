"""Command line: `up` (start and leave running), `down` (stop it), `demo` (start, place 3 orders, stop),
`order` (place one order on a running stack and watch it), `plugin` (build the Medusa plugin and install
its tarball into the demo shop)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from rich.console import Console

from devstack.admin import AdminApi
from devstack.medusa import ADMIN_EMAIL, AdminLogin, admin_jwt
from devstack.plugin import install_plugin
from devstack.processes import StartupError, running_parts, stop_recorded
from devstack.seed import SeedResult
from devstack.shop import Shop
from devstack.stack import Ports, Stack

DEFAULT_RUN_DIR = Path(".run")
# Logs and CI are not terminals: give them room for full order ids instead of rich's 80 columns.
console = Console(width=None if sys.stdout.isatty() else 120)


def _say(message: str) -> None:
    console.print(f"[dim]{time.strftime('%H:%M:%S')}[/] {message}", highlight=False)


def _interrupt_on_sigterm() -> None:
    """SIGTERM behaves like Ctrl-C, so the stack is stopped on the way out either way."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _refuse_if_running(run_dir: Path) -> bool:
    running = running_parts(run_dir)
    if running:
        console.print(
            f"already running from {run_dir}: {', '.join(running)}; run `python -m devstack down` first"
        )
    return bool(running)


def cmd_up(run_dir: Path, production: bool = False) -> int:
    if _refuse_if_running(run_dir):
        return 1
    stack = Stack(run_dir, Ports(), production=production, say=_say).start()
    assert stack.seed is not None
    _print_usage(stack, stack.seed)
    return 0


def _print_usage(stack: Stack, seed: SeedResult) -> None:
    console.print(
        f"""
[bold]The stack is running[/] (logs in {stack.run_dir / "logs"}; stop it with `python -m devstack down`)
  Medusa            {stack.medusa_url}   (publishable key {seed.publishable_key}){_worker_line(stack)}
  Medusa admin      {_admin_line(stack)}
  order webhook     {stack.order_webhook_url}
  status update     {stack.status_update_url}
  engine            {stack.engine_address}   inspection {stack.engine_http_url}/process-instances
  notifications     {stack.outbox_dir}

[bold]Place an order and watch it:[/]
  python -m devstack order
[bold]Look at one order[/] (as the admin user: a token from its login, valid for a day):
  TOKEN=$(curl -s -H 'content-type: application/json' -d '{_login_json(stack.admin_login)}' \\
    {stack.medusa_url}/auth/user/emailpass | jq -r .token)
  curl -s -H "authorization: Bearer $TOKEN" \\
    '{stack.medusa_url}/admin/orders/ORDER_ID?fields=id,display_id,metadata'
  python -m localzeebe inspect --url {stack.engine_http_url} --correlation-key ORDER_ID
""",
        highlight=False,
        soft_wrap=True,
    )


def _worker_line(stack: Stack) -> str:
    if not stack.production:
        return ""
    return f"\n  Medusa worker     {stack.medusa_worker_url}/health   Redis {stack.redis_url}"


def _login_json(login: AdminLogin) -> str:
    return json.dumps({"email": login.email, "password": login.password})


def _admin_line(stack: Stack) -> str:
    login = stack.admin_login
    return f"{stack.admin_url}   (log in as {login.email} / {login.password})"


def _offer_admin(stack: Stack) -> None:
    """After the demo: where to see the orders in the admin; on a terminal, keep the stack up until Enter."""
    console.print(
        f"\n[bold]The orders in Medusa's admin[/] (open one to see the fulfillment workflow panel):\n"
        f"  {_admin_line(stack)}",
        highlight=False,
        soft_wrap=True,
    )
    if sys.stdin.isatty():
        try:
            console.input("Press Enter (or Ctrl-C) to stop everything... ")
        except (KeyboardInterrupt, EOFError):
            console.print()


def cmd_down(run_dir: Path) -> int:
    stopped = stop_recorded(run_dir, log=_say)
    (run_dir / "stack.json").unlink(missing_ok=True)
    _say(f"stopped {stopped} process(es)" if stopped else f"nothing was running from {run_dir}")
    return 0


def cmd_demo(run_dir: Path) -> int:
    from devstack.demo import run_demo  # imports rich's live display only when needed

    if _refuse_if_running(run_dir):
        return 1
    _interrupt_on_sigterm()
    try:
        with Stack(run_dir, Ports(), say=_say) as stack:
            completed = run_demo(stack, console)
            _offer_admin(stack)
            return 0 if completed else 1
    except KeyboardInterrupt:
        _say("interrupted: everything that was started has been stopped")
        return 130


def cmd_order(run_dir: Path, quantity: int) -> int:
    """Places one order on a stack started with `up` and follows its metadata until a final status."""
    from devstack.demo import WatchedOrder, watch

    state_file = run_dir / "stack.json"
    if not state_file.exists():
        console.print(f"no stack is running from {run_dir}: start one with `python -m devstack up`")
        return 1
    state = json.loads(state_file.read_text())
    seed = SeedResult.load(run_dir / "seed.json")
    with Shop(state["medusa_url"], seed.publishable_key, seed.region_id) as shop:
        order = shop.place_order(seed.variant_id, quantity=quantity)
    _say(f"placed order #{order.display_id} {order.id}")
    watched = [WatchedOrder(order, time.monotonic())]
    with AdminApi(state["medusa_url"], token=_admin_token(run_dir, state["medusa_url"])) as admin:
        watch(admin, watched, console)
    console.print_json(data=watched[0].metadata)
    return 0 if watched[0].terminal else 1


def _admin_token(run_dir: Path, medusa_url: str) -> str:
    """Logs in as the stack's admin user, with the password `up` keeps in the run directory."""
    password = json.loads((run_dir / "secrets.json").read_text())["admin_password"]
    token = admin_jwt(medusa_url, AdminLogin(ADMIN_EMAIL, password))
    if token is None:
        raise StartupError(f"Medusa at {medusa_url} refused the login of {ADMIN_EMAIL}")
    return token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument(
        "--run-dir", type=Path, default=DEFAULT_RUN_DIR, help="state, logs, data (default .run)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start everything on the default local ports and leave it running")
    up.add_argument(
        "--production",
        action="store_true",
        help="Medusa as production runs it: Redis, a server and a worker process, RBAC on",
    )
    commands.add_parser("down", help="stop what `up` started")
    commands.add_parser("demo", help="start everything, place three orders, watch them, stop everything")
    order = commands.add_parser("order", help="place one order on a running stack and watch it")
    order.add_argument("--quantity", type=int, default=1)
    commands.add_parser(
        "plugin", help="build medusa/plugin, pack it, install the tarball into medusa/backend"
    )
    args = parser.parse_args(argv)
    run_dir: Path = args.run_dir.resolve()
    try:
        if args.command == "up":
            return cmd_up(run_dir, args.production)
        if args.command == "down":
            return cmd_down(run_dir)
        if args.command == "demo":
            return cmd_demo(run_dir)
        if args.command == "plugin":
            _say(f"installed {install_plugin(_say).name}")
            return 0
        return cmd_order(run_dir, args.quantity)
    except StartupError as error:
        console.print(f"[bold red]startup failed:[/] {error}", highlight=False)
        return 1


if __name__ == "__main__":
    sys.exit(main())
