"""Medusa order ids, the one thing every part knows of an order (kept apart from the order models in
fulfillment/orders.py, which the status function never needs at its cold start)."""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import Field

# Medusa order ids are `order_` followed by a ULID; only letters and digits are accepted so an id can be
# placed into a URL path without escaping.
ORDER_ID_PATTERN: Final = r"^order_[A-Za-z0-9]+$"
ORDER_ID_MAX_LENGTH: Final = 64
_ORDER_ID_RE: Final = re.compile(ORDER_ID_PATTERN)

OrderId = Annotated[str, Field(pattern=ORDER_ID_PATTERN, max_length=ORDER_ID_MAX_LENGTH)]


def is_order_id(value: object) -> bool:
    """True when `value` looks like a Medusa order id (and is safe to put into a URL path)."""
    return (
        isinstance(value, str)
        and len(value) <= ORDER_ID_MAX_LENGTH
        and _ORDER_ID_RE.fullmatch(value) is not None
    )
