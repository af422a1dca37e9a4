"""What the deploy asks the operator: values only the shop has, and whether to apply a plan. Each answer may
come from the environment instead (for CI); without a terminal and without it, the deploy stops and names
the variable to set."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from rich.console import Console
from rich.prompt import Confirm, Prompt


class AnswerMissing(Exception):
    """No terminal to ask on and no environment variable holding the answer."""


@dataclass
class Prompter:
    console: Console
    interactive: bool
    assume_yes: bool = False
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    def value(self, env_name: str, question: str) -> str:
        return self._answer(env_name, question, password=False)

    def secret(self, env_name: str, question: str) -> str:
        """Read without echo; never printed."""
        return self._answer(env_name, question, password=True)

    def _answer(self, env_name: str, question: str, *, password: bool) -> str:
        given = self.environ.get(env_name, "").strip()
        if given:
            return given
        if not self.interactive:
            raise AnswerMissing(f"{question}: no terminal to ask on; set {env_name}")
        while True:
            answer = Prompt.ask(
                f"{question} [dim]({env_name})[/dim]", console=self.console, password=password
            )
            if answer.strip():
                return answer.strip()

    def confirm(self, question: str) -> bool:
        if self.assume_yes:
            return True
        if not self.interactive:
            raise AnswerMissing(f"{question}: no terminal to ask on; run with YES=1 (--yes) to apply")
        return Confirm.ask(question, console=self.console, default=False)
