"""The command line of `make deploy`: runs the steps of steps.py in order, one rule per step, and stops at
the first that fails, naming it and what to do next."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from deploy.config import REPO_ROOT, TERRAFORM_DIR, ConfigError, DeployConfig
from deploy.prompts import AnswerMissing, Prompter
from deploy.shell import CommandFailed, Shell
from deploy.steps import STEPS, Context, Step, StepFailed

EXIT_FAILED: Final = 1
EXIT_INTERRUPTED: Final = 130
DEFAULT_TFVARS: Final = TERRAFORM_DIR / "terraform.tfvars"
TERRAFORM_ENV: Final = {"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m deploy", description="Deploy to Google Cloud, or update a deployment (idempotent)."
    )
    parser.add_argument("--tfvars", type=Path, default=DEFAULT_TFVARS, help="the deployment's tfvars file")
    parser.add_argument(
        "--tag", default="", help="worker image tag (default: the last commit of its sources)"
    )
    parser.add_argument("--yes", action="store_true", help="apply plans without asking (CI)")
    return parser.parse_args(argv)


def run_step(ctx: Context, console: Console, number: int, step: Step) -> bool:
    console.rule(f"[bold]{number}/{len(STEPS)} {step.title}")
    try:
        summary = step.run(ctx)
    except (StepFailed, CommandFailed, AnswerMissing) as failure:
        message = Text.assemble(
            (f"Step {number}/{len(STEPS)} failed: {step.title}\n", "bold red"),
            f"{failure}\n",
            ("Next: ", "bold"),
            step.next_action,
        )
        console.print(Panel(message, border_style="red"))
        return False
    console.print(Text.assemble(("✓ ", "green"), summary))
    return True


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    console = Console(highlight=False)
    try:
        config = DeployConfig.load(arguments.tfvars)
    except ConfigError as error:
        console.print(Panel(f"Cannot deploy: {error}", border_style="red"))
        return EXIT_FAILED
    prompter = Prompter(console, interactive=sys.stdin.isatty(), assume_yes=arguments.yes)
    shell = Shell(REPO_ROOT, {**os.environ, **TERRAFORM_ENV})
    ctx = Context(config, shell, prompter, tag=arguments.tag)
    try:
        for number, step in enumerate(STEPS, start=1):
            if not run_step(ctx, console, number, step):
                return EXIT_FAILED
    except KeyboardInterrupt:
        console.print("[red]Interrupted.[/red] Run `make deploy` again: every step picks up where it stands.")
        return EXIT_INTERRUPTED
    console.rule("[bold green]Deployed")
    console.print(Text(ctx.medusa_block), soft_wrap=True)
    console.print(
        "\nThe shop also needs a notification provider for the `email` channel in medusa-config "
        "(customer mail goes through Medusa's Notification Module). Run `make deploy` again for every update."
    )
    return 0
