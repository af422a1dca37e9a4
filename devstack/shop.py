"""Places orders the way a storefront does, through Medusa's Store API (used by the demo and the tests)."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

ADDRESS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "address_1": "Unter den Linden 1",
    "city": "Berlin",
    "postal_code": "10117",
    "country_code": "de",
}


class CheckoutError(RuntimeError):
    pass


@dataclass(frozen=True)
class PlacedOrder:
    id: str
    display_id: int
    email: str
    total: float
    cart_id: str


class Shop:
    def __init__(self, medusa_url: str, publishable_key: str, region_id: str, timeout: float = 30) -> None:
        self.region_id = region_id
        self.client = httpx.Client(
            base_url=medusa_url, headers={"x-publishable-api-key": publishable_key}, timeout=timeout
        )

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, **params: Any
    ) -> dict[str, Any]:
        response = self.client.request(method, path, json=body, params=params or None)
        if response.status_code >= 400:
            raise CheckoutError(f"{method} {path} -> {response.status_code}: {response.text}")
        result: dict[str, Any] = response.json()
        return result

    def place_order(self, variant_id: str, quantity: int = 1, email: str = "ada@example.com") -> PlacedOrder:
        """Cart, line item, customer details, shipping, payment with the system provider, completion."""
        cart_id = self.create_cart(variant_id, quantity, email)
        self.choose_shipping(cart_id)
        self.authorize_payment(cart_id)
        return self.complete(cart_id)

    def create_cart(self, variant_id: str, quantity: int, email: str) -> str:
        cart = self._call("POST", "/store/carts", {"region_id": self.region_id})["cart"]
        cart_id = str(cart["id"])
        self._call(
            "POST", f"/store/carts/{cart_id}/line-items", {"variant_id": variant_id, "quantity": quantity}
        )
        self._call(
            "POST",
            f"/store/carts/{cart_id}",
            {"email": email, "shipping_address": ADDRESS, "billing_address": ADDRESS},
        )
        return cart_id

    def choose_shipping(self, cart_id: str) -> None:
        options = self._call("GET", "/store/shipping-options", cart_id=cart_id)["shipping_options"]
        if not options:
            raise CheckoutError(f"no shipping option is offered for cart {cart_id}")
        self._call("POST", f"/store/carts/{cart_id}/shipping-methods", {"option_id": options[0]["id"]})

    def authorize_payment(self, cart_id: str) -> None:
        collection = self._call("POST", "/store/payment-collections", {"cart_id": cart_id})[
            "payment_collection"
        ]
        self._call(
            "POST",
            f"/store/payment-collections/{collection['id']}/payment-sessions",
            {"provider_id": "pp_system_default"},
        )

    def complete(self, cart_id: str) -> PlacedOrder:
        result = self._call("POST", f"/store/carts/{cart_id}/complete")
        if result.get("type") != "order":
            raise CheckoutError(f"cart {cart_id} did not complete: {result.get('error') or result}")
        order = result["order"]
        return PlacedOrder(
            id=str(order["id"]),
            display_id=int(order["display_id"]),
            email=str(order["email"]),
            total=float(order["total"]),
            cart_id=cart_id,
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Shop:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
