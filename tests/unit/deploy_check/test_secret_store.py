"""The secret stores: Secret Manager (with a fake client) and devstack's secrets file."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from google.api_core import exceptions

from deploy_check.secret_store import DevstackSecrets, SecretManagerSecrets, SecretNotReadable

SECRET_IDS = {"ORDER_WEBHOOK_SECRET": "shop-order-webhook-secret", "MEDUSA_WORKER_SECRET": "shop-worker"}


class FakeSecretManager:
    """access_secret_version as SecretManagerServiceClient has it: values or errors by version name."""

    def __init__(self, answers: dict[str, bytes | Exception]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def access_secret_version(self, request: dict[str, str]) -> Any:
        self.asked.append(request["name"])
        answer = self.answers.get(request["name"]) or exceptions.NotFound("no such version")  # type: ignore[no-untyped-call]
        if isinstance(answer, Exception):
            raise answer
        return SimpleNamespace(payload=SimpleNamespace(data=answer))


def store(client: FakeSecretManager, versions: dict[str, str] | None = None) -> SecretManagerSecrets:
    return SecretManagerSecrets(client, "shop-prod", SECRET_IDS, versions or {})


def test_reads_the_pinned_version_and_version_1_where_none_is_pinned() -> None:
    client = FakeSecretManager(
        {
            "projects/shop-prod/secrets/shop-order-webhook-secret/versions/2": b"whsec_abc\n",
            "projects/shop-prod/secrets/shop-worker/versions/1": b"whsec_def",
        }
    )
    secrets = store(client, {"ORDER_WEBHOOK_SECRET": "2"})

    assert secrets.read("ORDER_WEBHOOK_SECRET") == "whsec_abc"
    assert secrets.read("MEDUSA_WORKER_SECRET") == "whsec_def"
    assert secrets.settings == ("ORDER_WEBHOOK_SECRET", "MEDUSA_WORKER_SECRET")
    assert (
        secrets.where("ORDER_WEBHOOK_SECRET") == "Secret Manager secret shop-order-webhook-secret version 2"
    )


@pytest.mark.parametrize(
    ("error", "missing", "words"),
    [
        (exceptions.NotFound, True, "does not exist"),
        (exceptions.FailedPrecondition, True, "disabled or destroyed"),
        (exceptions.PermissionDenied, False, "permission denied"),
        (exceptions.ServiceUnavailable, False, "cannot be read"),
    ],
)
def test_an_unreadable_version_says_whether_it_is_missing_or_forbidden(
    error: type[Exception], missing: bool, words: str
) -> None:
    name = "projects/shop-prod/secrets/shop-worker/versions/3"
    secrets = store(FakeSecretManager({name: error("refused")}), {"MEDUSA_WORKER_SECRET": "3"})

    with pytest.raises(SecretNotReadable) as raised:
        secrets.read("MEDUSA_WORKER_SECRET")

    assert raised.value.missing is missing
    assert words in str(raised.value)
    assert "shop-worker version 3" in str(raised.value)


def test_devstack_secrets_come_from_the_run_directory_file(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"order_webhook": "whsec_a", "medusa_worker": "whsec_b"}))
    secrets = DevstackSecrets(path)

    assert secrets.read("ORDER_WEBHOOK_SECRET") == "whsec_a"
    with pytest.raises(SecretNotReadable, match="'medusa_status' is missing") as raised:
        secrets.read("MEDUSA_STATUS_SECRET")
    assert raised.value.missing


def test_no_devstack_secrets_file_is_a_missing_secret(tmp_path: Path) -> None:
    with pytest.raises(SecretNotReadable) as raised:
        DevstackSecrets(tmp_path / "secrets.json").read("ORDER_WEBHOOK_SECRET")

    assert raised.value.missing
