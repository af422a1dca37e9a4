"""A thin Admin API client for the seed, the demo and the tests (the workflow uses fulfillment.medusa)."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx


class AdminApiError(RuntimeError):
    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        request = response.request
        super().__init__(f"{request.method} {request.url.path} -> {response.status_code}: {response.text}")


class AdminApi:
    """Medusa's Admin API as the admin user: authenticated with the user's JWT (`token`)."""

    def __init__(self, base_url: str, *, token: str | None = None) -> None:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(base_url=base_url, headers=headers, timeout=30)

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self._check(self.client.get(path, params=params))

    def post(self, path: str, body: dict[str, Any] | None = None, **params: Any) -> dict[str, Any]:
        return self._check(self.client.post(path, json=body or {}, params=params))

    def delete(self, path: str) -> dict[str, Any]:
        return self._check(self.client.delete(path))

    @staticmethod
    def _check(response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            raise AdminApiError(response)
        result: dict[str, Any] = response.json()
        return result

    def order(
        self, order_id: str, fields: str = "id,display_id,status,payment_status,metadata"
    ) -> dict[str, Any]:
        order: dict[str, Any] = self.get(f"/admin/orders/{order_id}", fields=fields)["order"]
        return order

    def order_metadata(self, order_id: str) -> dict[str, Any]:
        metadata: dict[str, Any] = self.order(order_id, fields="id,metadata").get("metadata") or {}
        return metadata

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> AdminApi:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
