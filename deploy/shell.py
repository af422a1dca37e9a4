"""Running gcloud, terraform and the repository's own scripts. Secret values only ever travel on stdin,
never as arguments, so no command line (shown, logged, or in `ps`) carries one."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

# Long steps (a Cloud Build, a first apply) take minutes; a hung command still ends.
TIMEOUT_SECONDS: Final = 3600
STDERR_TAIL_LINES: Final = 15


class CommandFailed(Exception):
    def __init__(self, argv: Sequence[str], code: int, stderr: str = "") -> None:
        self.argv = list(argv)
        self.code = code
        self.stderr = stderr
        tail = "\n".join(stderr.strip().splitlines()[-STDERR_TAIL_LINES:])
        super().__init__(
            f"`{' '.join(self.argv[:4])} ...` exited with {code}" + (f":\n{tail}" if tail else "")
        )


@dataclass(frozen=True)
class Shell:
    cwd: Path
    env: Mapping[str, str] = field(default_factory=dict)

    def capture(
        self,
        *argv: str,
        stdin: str | None = None,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        accept: Sequence[int] = (0,),
    ) -> subprocess.CompletedProcess[str]:
        """Runs a command whose output the deploy reads; raises CommandFailed on an exit code not accepted."""
        result = subprocess.run(
            list(argv),
            cwd=cwd or self.cwd,
            env=dict(env if env is not None else self.env),
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=TIMEOUT_SECONDS,
        )
        if result.returncode not in accept:
            raise CommandFailed(argv, result.returncode, result.stderr)
        return result

    def stream(self, *argv: str, cwd: Path | None = None, accept: Sequence[int] = (0,)) -> int:
        """Runs a command whose output the operator watches (plans, builds); returns its exit code."""
        result = subprocess.run(
            list(argv), cwd=cwd or self.cwd, env=dict(self.env), check=False, timeout=TIMEOUT_SECONDS
        )
        if result.returncode not in accept:
            raise CommandFailed(argv, result.returncode)
        return result.returncode
