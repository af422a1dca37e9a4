"""The shop's business policy: how long to wait for a payment and what to do when stock is missing.

The process model names the defaults in its task headers (`payment_recheck_interval`, `payment_max_wait`,
`stock_policy`); a shop that wants other values without redeploying the model sets the worker's settings,
which take precedence. Durations are ISO 8601 (`PT15M`, `P3D`), as in the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Final

from pydantic import TypeAdapter, ValidationError

from worker_job.job_context import JobContext, MissingJobVariable

DEFAULT_RECHECK_INTERVAL: Final = timedelta(minutes=15)
DEFAULT_MAX_WAIT: Final = timedelta(days=3)
_DURATION: Final = TypeAdapter(timedelta)


class StockPolicy(StrEnum):
    HOLD = "hold"  # the order stays open for staff; no failure mail
    CANCEL = "cancel"  # the order is canceled in Medusa and the customer told


DEFAULT_STOCK_POLICY: Final = StockPolicy.HOLD


@dataclass(frozen=True)
class BusinessPolicy:
    """Overrides from the worker's settings; None: the model's task header (or the default) applies."""

    payment_recheck_interval: timedelta | None = None
    payment_max_wait: timedelta | None = None
    stock_policy: StockPolicy | None = None

    def recheck_interval(self, ctx: JobContext) -> timedelta:
        return self.payment_recheck_interval or _header_duration(
            ctx, "payment_recheck_interval", DEFAULT_RECHECK_INTERVAL
        )

    def max_wait(self, ctx: JobContext) -> timedelta:
        return self.payment_max_wait or _header_duration(ctx, "payment_max_wait", DEFAULT_MAX_WAIT)

    def stock(self, ctx: JobContext) -> StockPolicy:
        if self.stock_policy is not None:
            return self.stock_policy
        raw = ctx.header("stock_policy", DEFAULT_STOCK_POLICY.value)
        try:
            return StockPolicy(raw)
        except ValueError:
            raise MissingJobVariable(
                f"task header stock_policy must be hold or cancel, got {raw!r}"
            ) from None


def _header_duration(ctx: JobContext, name: str, default: timedelta) -> timedelta:
    raw = ctx.headers.get(name)
    if not raw:
        return default
    try:
        duration = _DURATION.validate_python(raw)
    except ValidationError:
        raise MissingJobVariable(f"task header {name} must be an ISO 8601 duration, got {raw!r}") from None
    if duration <= timedelta(0):
        raise MissingJobVariable(f"task header {name} must be positive, got {raw!r}")
    return duration


def iso_duration(duration: timedelta) -> str:
    """An ISO 8601 duration a Zeebe timer accepts (whole seconds, at least one)."""
    return f"PT{max(1, int(duration.total_seconds()))}S"
