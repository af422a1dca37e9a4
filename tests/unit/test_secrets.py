from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from fulfillment import secrets
from fulfillment.errors import SecretUnavailable

REFERENCE = "projects/shop-prod/secrets/medusa-api-key/versions/3"


class FakeSecretManager:
    def __init__(self, values: dict[str, bytes]) -> None:
        self.values = values
        self.calls: list[str] = []

    def access_secret_version(self, request: dict[str, Any]) -> Any:
        name = request["name"]
        self.calls.append(name)
        if name not in self.values:
            raise PermissionError(f"403 Permission denied on {name}")
        return SimpleNamespace(payload=SimpleNamespace(data=self.values[name]))


@pytest.fixture
def manager(monkeypatch: pytest.MonkeyPatch) -> FakeSecretManager:
    fake = FakeSecretManager({REFERENCE: b"sk_from_secret_manager\n"})
    monkeypatch.setattr(secrets, "_client", lambda: fake)
    secrets._access.cache_clear()
    return fake


def test_plain_values_are_returned_as_is(manager: FakeSecretManager) -> None:
    assert secrets.resolve_secret("sk_plain") == "sk_plain"
    assert secrets.resolve_secret("projects/p/secrets/s") == "projects/p/secrets/s"
    assert manager.calls == []


def test_reference_is_fetched_once_and_trimmed(manager: FakeSecretManager) -> None:
    assert secrets.resolve_secret(REFERENCE) == "sk_from_secret_manager"
    assert secrets.resolve_secret(REFERENCE) == "sk_from_secret_manager"
    assert manager.calls == [REFERENCE]


def test_unreadable_reference_raises_secret_unavailable(manager: FakeSecretManager) -> None:
    with pytest.raises(SecretUnavailable, match="versions/latest"):
        secrets.resolve_secret("projects/p/secrets/missing/versions/latest")


def test_reference_pattern() -> None:
    assert secrets.is_secret_reference("projects/p/secrets/s/versions/latest")
    assert not secrets.is_secret_reference("projects/p/secrets/s/versions/1/extra")
    assert not secrets.is_secret_reference("whsec_abc")
