"""Reads the local engine's inspection HTTP API (see localzeebe): the engine's view of an order's instance."""

from __future__ import annotations

from typing import Any

import httpx


class EngineView:
    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=10)

    def instances_for(self, order_id: str) -> list[dict[str, Any]]:
        """Every process instance whose correlation key is the order id (there must be at most one)."""
        response = self.client.get("/process-instances", params={"correlation_key": order_id})
        response.raise_for_status()
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def instance(self, key: str | int) -> dict[str, Any]:
        response = self.client.get(f"/process-instances/{key}")
        response.raise_for_status()
        detail: dict[str, Any] = response.json()
        return detail

    def close(self) -> None:
        self.client.close()
