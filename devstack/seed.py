"""Seeds a fresh Medusa with what a store order needs, over the Admin API. Safe to run again: it looks up
each object by a stable name and creates only what is missing.

An order needs: a region (EUR, Germany, payment provider pp_system_default) with a tax region; a publishable
key linked to the default sales channel; a stock location linked to that channel and to the manual
fulfillment provider, with a shipping fulfillment set whose service zone covers Germany; a flat shipping
option enabled in the store; a product in the default shipping profile whose variant manages inventory and
has stock at the location. No admin credential is made for the workflow's parts: they call only the
plugin's signed routes.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from devstack.admin import AdminApi

COUNTRY = "de"
CURRENCY = "eur"
NAME = "Fulfillment demo"
PRODUCT_HANDLE = "fulfillment-demo-tee"
VARIANT_SKU = "FULFILLMENT-DEMO-TEE"
STOCK = 1_000_000
SHIPPING_PRICE = 5
PRODUCT_PRICE = 25


@dataclass(frozen=True)
class SeedResult:
    region_id: str
    sales_channel_id: str
    publishable_key: str
    stock_location_id: str
    shipping_option_id: str
    variant_id: str

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2))
        os.chmod(path, 0o600)

    @classmethod
    def load(cls, path: Path) -> SeedResult:
        """Keys the file holds beyond these fields are ignored."""
        known = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in json.loads(path.read_text()).items() if key in known})


def seed(medusa_url: str, admin_token: str, saved: Path) -> SeedResult:
    with AdminApi(medusa_url, token=admin_token) as api:
        sales_channel_id = _default_sales_channel(api)
        region_id = _region(api)
        _tax_region(api)
        publishable_key = _publishable_key(api, sales_channel_id)
        location = _stock_location(api, sales_channel_id)
        service_zone_id = _service_zone(api, location)
        profile_id = _default_shipping_profile(api)
        shipping_option_id = _shipping_option(api, service_zone_id, profile_id)
        variant_id = _product(api, profile_id, sales_channel_id)
        _stock(api, location["id"])
    result = SeedResult(
        region_id=region_id,
        sales_channel_id=sales_channel_id,
        publishable_key=publishable_key,
        stock_location_id=location["id"],
        shipping_option_id=shipping_option_id,
        variant_id=variant_id,
    )
    result.save(saved)
    return result


def _first(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    return items[0] if items else None


def _default_sales_channel(api: AdminApi) -> str:
    channels = api.get("/admin/sales-channels", name="Default Sales Channel")["sales_channels"]
    if not channels:
        channels = api.get("/admin/sales-channels", limit=1)["sales_channels"]
    return str(channels[0]["id"])


def _region(api: AdminApi) -> str:
    regions = api.get("/admin/regions", limit=100, fields="id,name,*countries")["regions"]
    for region in regions:
        if any(country["iso_2"] == COUNTRY for country in region.get("countries") or []):
            return str(region["id"])
    created = api.post(
        "/admin/regions",
        {
            "name": NAME,
            "currency_code": CURRENCY,
            "countries": [COUNTRY],
            "payment_providers": ["pp_system_default"],
        },
    )
    return str(created["region"]["id"])


def _tax_region(api: AdminApi) -> None:
    if api.get("/admin/tax-regions", country_code=COUNTRY)["tax_regions"]:
        return
    providers = api.get("/admin/tax-providers")["tax_providers"]
    api.post(
        "/admin/tax-regions",
        {"country_code": COUNTRY, "provider_id": providers[0]["id"] if providers else "tp_system"},
    )


def _publishable_key(api: AdminApi, sales_channel_id: str) -> str:
    keys = api.get("/admin/api-keys", type="publishable", limit=100, fields="id,title,token,revoked_at")
    key = next(
        (k for k in keys["api_keys"] if k["title"] == NAME and not k.get("revoked_at")),
        None,
    )
    if key is None:
        key = api.post("/admin/api-keys", {"title": NAME, "type": "publishable"})["api_key"]
    linked = api.get(f"/admin/api-keys/{key['id']}", fields="id,*sales_channels")["api_key"]
    if all(channel["id"] != sales_channel_id for channel in linked.get("sales_channels") or []):
        api.post(f"/admin/api-keys/{key['id']}/sales-channels", {"add": [sales_channel_id]})
    return str(key["token"])


_LOCATION_FIELDS = (
    "id,name,*sales_channels,*fulfillment_providers,*fulfillment_sets,*fulfillment_sets.service_zones"
)


def _stock_location(api: AdminApi, sales_channel_id: str) -> dict[str, Any]:
    found = _first(api.get("/admin/stock-locations", name=NAME, fields=_LOCATION_FIELDS)["stock_locations"])
    if found is None:
        created = api.post(
            "/admin/stock-locations",
            {
                "name": NAME,
                "address": {"address_1": "Lagerstrasse 1", "city": "Berlin", "country_code": COUNTRY},
            },
        )
        found = api.get(f"/admin/stock-locations/{created['stock_location']['id']}", fields=_LOCATION_FIELDS)[
            "stock_location"
        ]
    location_id = found["id"]
    if all(c["id"] != sales_channel_id for c in found.get("sales_channels") or []):
        api.post(f"/admin/stock-locations/{location_id}/sales-channels", {"add": [sales_channel_id]})
    if all(p["id"] != "manual_manual" for p in found.get("fulfillment_providers") or []):
        api.post(f"/admin/stock-locations/{location_id}/fulfillment-providers", {"add": ["manual_manual"]})
    if not found.get("fulfillment_sets"):
        api.post(f"/admin/stock-locations/{location_id}/fulfillment-sets", {"name": NAME, "type": "shipping"})
        found = api.get(f"/admin/stock-locations/{location_id}", fields=_LOCATION_FIELDS)["stock_location"]
    return found


def _service_zone(api: AdminApi, location: dict[str, Any]) -> str:
    fulfillment_set = location["fulfillment_sets"][0]
    zones = fulfillment_set.get("service_zones") or []
    if zones:
        return str(zones[0]["id"])
    updated = api.post(
        f"/admin/fulfillment-sets/{fulfillment_set['id']}/service-zones",
        {"name": NAME, "geo_zones": [{"type": "country", "country_code": COUNTRY}]},
    )
    return str(updated["fulfillment_set"]["service_zones"][0]["id"])


def _default_shipping_profile(api: AdminApi) -> str:
    profiles = api.get("/admin/shipping-profiles", type="default")["shipping_profiles"]
    if not profiles:
        profiles = [
            api.post("/admin/shipping-profiles", {"name": NAME, "type": "default"})["shipping_profile"]
        ]
    return str(profiles[0]["id"])


def _shipping_option(api: AdminApi, service_zone_id: str, profile_id: str) -> str:
    options = api.get("/admin/shipping-options", service_zone_id=service_zone_id)["shipping_options"]
    existing = next((o for o in options if o["name"] == NAME), None)
    if existing is not None:
        return str(existing["id"])
    created = api.post(
        "/admin/shipping-options",
        {
            "name": NAME,
            "price_type": "flat",
            "service_zone_id": service_zone_id,
            "shipping_profile_id": profile_id,
            "provider_id": "manual_manual",
            "type": {"label": "Standard", "description": "Delivered in 2-3 days", "code": "standard"},
            "prices": [{"currency_code": CURRENCY, "amount": SHIPPING_PRICE}],
            "rules": [
                {"attribute": "enabled_in_store", "value": "true", "operator": "eq"},
                {"attribute": "is_return", "value": "false", "operator": "eq"},
            ],
        },
    )
    return str(created["shipping_option"]["id"])


def _product(api: AdminApi, profile_id: str, sales_channel_id: str) -> str:
    """The demo product's one variant (the product is created on the first seed)."""
    products = api.get("/admin/products", handle=PRODUCT_HANDLE, fields="id,*variants")["products"]
    product = _first(products)
    if product is None:
        product = api.post(
            "/admin/products",
            {
                "title": "Fulfillment demo T-shirt",
                "handle": PRODUCT_HANDLE,
                "status": "published",
                "shipping_profile_id": profile_id,
                "sales_channels": [{"id": sales_channel_id}],
                "options": [{"title": "Size", "values": ["One size"]}],
                "variants": [
                    {
                        "title": "One size",
                        "sku": VARIANT_SKU,
                        "manage_inventory": True,
                        "options": {"Size": "One size"},
                        "prices": [{"currency_code": CURRENCY, "amount": PRODUCT_PRICE}],
                    }
                ],
            },
        )["product"]
    return str(product["variants"][0]["id"])


def _stock(api: AdminApi, location_id: str) -> None:
    items = api.get("/admin/inventory-items", sku=VARIANT_SKU, fields="id,*location_levels")[
        "inventory_items"
    ]
    item = items[0]
    if all(level["location_id"] != location_id for level in item.get("location_levels") or []):
        api.post(
            f"/admin/inventory-items/{item['id']}/location-levels",
            {"location_id": location_id, "stocked_quantity": STOCK},
        )
