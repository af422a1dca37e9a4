"""One line per engine event on stderr, so stdout stays free for the ready line."""

from __future__ import annotations

import logging
import sys


def configure(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger("localzeebe")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
