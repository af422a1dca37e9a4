"""`python -m deploy_check` (`make deploy-check`): runs every check, prints a line each, exits 1 on any
failure (2 when the deployment's inputs cannot be read)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from pydantic import ValidationError
from pydantic_settings import CliApp
from rich.console import Console

from deploy_check.checks import CHECKS, Outcome, Run
from deploy_check.deployment import DeploymentUnreadable, load_deployment
from deploy_check.settings import DeployCheckSettings
from fulfillment.settings import describe_errors

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_UNREADABLE: Final = 2


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    console = console or Console(highlight=False, soft_wrap=True)
    try:
        settings = CliApp.run(DeployCheckSettings, cli_args=list(argv) if argv is not None else None)
        deployment = load_deployment(settings)
    except ValidationError as error:
        console.print(f"[red]{describe_errors(error)}[/red]")
        return EXIT_UNREADABLE
    except DeploymentUnreadable as error:
        console.print(f"[red]cannot check: {error}[/red]")
        return EXIT_UNREADABLE
    console.print(f"Checking {deployment.description} (no order is placed, nothing is changed)")
    run = Run(deployment, settings)
    outcomes = [_report(console, check(run)) for check in CHECKS]
    failed = [outcome.check for outcome in outcomes if not outcome.ok]
    if failed:
        console.print(f"[red]{len(failed)} of {len(outcomes)} checks failed: {', '.join(failed)}[/red]")
        return EXIT_FAILED
    console.print(f"[green]all {len(outcomes)} checks passed[/green]")
    return EXIT_OK


def _report(console: Console, outcome: Outcome) -> Outcome:
    mark = "[green]PASS[/green]" if outcome.ok else "[red]FAIL[/red]"
    # Markup off for the text itself: URLs and error messages may hold square brackets.
    console.print(f"{mark} [bold]{outcome.check}[/bold]: ", end="")
    console.print(outcome.said, markup=False)
    if outcome.redo:
        console.print("     redo: ", end="")
        console.print(outcome.redo, markup=False)
    return outcome
