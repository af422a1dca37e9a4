"""Opt-in back-pressure: a share of commands is answered RESOURCE_EXHAUSTED, as a Zeebe partition does when
its command rate limiter is full, so clients can be tested against it.

Zeebe never limits the commands that free resources (RequestLimiter's white list: job COMPLETE and FAIL,
process instance CANCEL, deployments); neither does this. The refusals are spread evenly and
deterministically (share 0.25: every fourth limited command), so a test sees the same sequence every run.
"""

from __future__ import annotations

import math


class BackPressure:
    def __init__(self, share: float) -> None:
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"the back-pressure share must be between 0 and 1, got {share}")
        self.share = share
        self._commands = 0

    def refuses_next(self) -> bool:
        """Counts one limited command; True when it is to be refused."""
        if self.share == 0:
            return False
        self._commands += 1
        return math.floor(self._commands * self.share) > math.floor((self._commands - 1) * self.share)
