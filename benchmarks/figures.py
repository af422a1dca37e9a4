"""Small arithmetic the benchmarks share: percentiles, a phase's steady rate, how figures print."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

# A phase's steady part: the calls answered between the first tenth and the last tenth of its calls. The
# first tenth holds the ramp (orders entering the pipeline, connections opening), the last the drain (the
# last orders' remaining steps with fewer callers left).
STEADY_FROM: Final = 0.1
STEADY_TO: Final = 0.9


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (p99 of a few samples is their maximum)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def floored_percent(share: float) -> str:
    """Floored, so a share printed as 89% has not reached 90%."""
    return f"{math.floor(share * 100)}%"


@dataclass(frozen=True)
class SteadyRate:
    """Calls a phase got answered per second in its steady part, and what that is in orders."""

    calls: int
    seconds: float
    calls_per_order: float
    whole_seconds: float
    # Medusa calls waiting for their answer, on average over the whole phase (Little's law: the calls'
    # summed answer times over the phase's length): how much work the phase kept queued at Medusa.
    in_flight: float

    @property
    def calls_per_s(self) -> float:
        return self.calls / self.seconds

    @property
    def orders_per_s(self) -> float:
        return self.calls_per_s / self.calls_per_order

    @classmethod
    def of(cls, moments: Sequence[tuple[float, float]], calls_per_order: float) -> SteadyRate:
        """From each call's (sent, answered) moments, as the counting proxy saw them."""
        answered = sorted(done for _, done in moments)
        first = math.floor(STEADY_FROM * len(answered))
        last = math.ceil(STEADY_TO * len(answered)) - 1
        if last <= first:
            raise ValueError(f"{len(answered)} calls are too few for a steady part")
        whole = answered[-1] - min(sent for sent, _ in moments)
        in_flight = sum(done - sent for sent, done in moments) / whole
        return cls(last - first, answered[last] - answered[first], calls_per_order, whole, in_flight)
