"""The seed runs on every start of the stack: on a seeded database it must find everything it made."""

from __future__ import annotations

import pytest

from devstack.seed import NAME, seed
from devstack.stack import Stack

from .support import Driver

pytestmark = pytest.mark.e2e


def test_seeding_again_reuses_every_object_and_makes_no_secret_api_key(stack: Stack, driver: Driver) -> None:
    assert stack.seed is not None

    again = seed(stack.medusa_url, stack.admin_token, stack.run_dir / "seed.json")

    assert again == stack.seed
    assert len(driver.admin.get("/admin/stock-locations", name=NAME)["stock_locations"]) == 1
    secret_keys = driver.admin.get("/admin/api-keys", type="secret", limit=100)["api_keys"]
    # The cloud side signs its calls to the plugin's routes: no admin credential is made for it.
    assert secret_keys == []
