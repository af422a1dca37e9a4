from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from pydantic_settings import BaseSettings

from fulfillment import secrets
from fulfillment.settings import (
    EngineSettings,
    StatusSettings,
    WebhookSettings,
    WorkerSettings,
    load_settings,
)

from .helpers import MEDUSA_URL, new_webhook_secret


@pytest.fixture
def webhook_env(clean_env: pytest.MonkeyPatch, webhook_secret: str) -> pytest.MonkeyPatch:
    clean_env.setenv("ORDER_WEBHOOK_SECRET", webhook_secret)
    return clean_env


@pytest.fixture
def status_env(clean_env: pytest.MonkeyPatch, webhook_secret: str) -> pytest.MonkeyPatch:
    clean_env.setenv("MEDUSA_BACKEND_URL", MEDUSA_URL + "/")
    clean_env.setenv("MEDUSA_STATUS_SECRET", new_webhook_secret())
    clean_env.setenv("STATUS_UPDATE_SECRET", webhook_secret)
    return clean_env


@pytest.fixture
def worker_env(clean_env: pytest.MonkeyPatch, webhook_secret: str) -> pytest.MonkeyPatch:
    clean_env.setenv("MEDUSA_BACKEND_URL", MEDUSA_URL)
    clean_env.setenv("MEDUSA_WORKER_SECRET", new_webhook_secret())
    clean_env.setenv("STATUS_UPDATE_URL", "http://127.0.0.1:8082")
    clean_env.setenv("STATUS_UPDATE_SECRET", webhook_secret)
    return clean_env


def bad_settings_line(cls: type, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        load_settings(cls)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


def test_webhook_settings_with_defaults(webhook_env: pytest.MonkeyPatch, webhook_secret: str) -> None:
    settings = load_settings(WebhookSettings)
    assert settings.zeebe_address == "localhost:26500"
    assert settings.engine_mode == "insecure"
    assert settings.order_message_ttl_seconds == 3600
    assert settings.order_webhook_secrets == [webhook_secret]


def test_several_webhook_secrets_for_rotation(webhook_env: pytest.MonkeyPatch, webhook_secret: str) -> None:
    other = new_webhook_secret()
    webhook_env.setenv("ORDER_WEBHOOK_SECRET", f"{webhook_secret}, {other}")
    assert load_settings(WebhookSettings).order_webhook_secrets == [webhook_secret, other]


def test_the_webhook_has_no_medusa_setting() -> None:
    assert not [name for name in WebhookSettings.model_fields if name.startswith("medusa")]


@pytest.mark.parametrize("cls", [WebhookSettings, StatusSettings, WorkerSettings])
def test_no_part_holds_a_medusa_api_key(cls: type[BaseSettings]) -> None:
    assert "medusa_api_key" not in cls.model_fields


def test_a_leftover_medusa_api_key_is_ignored(status_env: pytest.MonkeyPatch) -> None:
    status_env.setenv("MEDUSA_API_KEY", "sk_left_over")
    assert "sk_left_over" not in repr(load_settings(StatusSettings).model_dump())


@pytest.mark.parametrize(
    ("cls", "env", "missing"),
    [
        (WebhookSettings, "webhook_env", "ORDER_WEBHOOK_SECRET"),
        (StatusSettings, "status_env", "MEDUSA_BACKEND_URL"),
        (StatusSettings, "status_env", "MEDUSA_STATUS_SECRET"),
        (StatusSettings, "status_env", "STATUS_UPDATE_SECRET"),
        (WorkerSettings, "worker_env", "MEDUSA_WORKER_SECRET"),
        (WorkerSettings, "worker_env", "STATUS_UPDATE_URL"),
    ],
)
def test_missing_setting_is_one_line_naming_it(
    request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str], cls: type, env: str, missing: str
) -> None:
    environment: pytest.MonkeyPatch = request.getfixturevalue(env)
    environment.delenv(missing)
    line = bad_settings_line(cls, capsys)
    assert missing in line


def test_empty_setting_counts_as_missing(
    status_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status_env.setenv("MEDUSA_STATUS_SECRET", "")
    assert "MEDUSA_STATUS_SECRET" in bad_settings_line(StatusSettings, capsys)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ZEEBE_ADDRESS", "localhost"),
        ("ORDER_WEBHOOK_SECRET", "not-a-whsec"),
        ("ORDER_WEBHOOK_SECRET", "whsec_AA"),
        ("ORDER_WEBHOOK_SECRET", "whsec_c2hvcnQtc2VjcmV0LXZhbHVlLTIzYnk="),  # 23 bytes
        ("ORDER_MESSAGE_TTL_SECONDS", "soon"),
    ],
)
def test_malformed_setting_is_named_without_its_value(
    webhook_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, value: str
) -> None:
    webhook_env.setenv(name, value)
    line = bad_settings_line(WebhookSettings, capsys)
    assert name in line
    assert value not in line


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MEDUSA_BACKEND_URL", "localhost:9000"),
        ("MEDUSA_TIMEOUT_SECONDS", "-1"),
        ("MEDUSA_STATUS_SECRET", "sk_a_medusa_api_key"),
        ("MEDUSA_STATUS_SECRET", "whsec_c2hvcnQtc2VjcmV0LXZhbHVlLTIzYnk="),
    ],
)
def test_malformed_medusa_setting_is_named_without_its_value(
    status_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, value: str
) -> None:
    status_env.setenv(name, value)
    line = bad_settings_line(StatusSettings, capsys)
    assert name in line
    assert value not in line


def test_secret_value_never_printed(
    webhook_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    webhook_env.setenv("ORDER_WEBHOOK_SECRET", "whsec_c2VjcmV0LXZhbHVl plain-secret-value")
    line = bad_settings_line(WebhookSettings, capsys)
    assert "ORDER_WEBHOOK_SECRET" in line
    assert "plain-secret-value" not in line
    assert "c2VjcmV0LXZhbHVl" not in line


class FakeSecretManager:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def access_secret_version(self, request: dict[str, Any]) -> Any:
        if request["name"] not in self.values:
            raise PermissionError("403 Permission denied\non the secret")
        return SimpleNamespace(payload=SimpleNamespace(data=self.values[request["name"]].encode()))


@pytest.fixture
def secret_manager(webhook_env: pytest.MonkeyPatch) -> FakeSecretManager:
    fake = FakeSecretManager({})
    webhook_env.setattr(secrets, "_client", lambda: fake)
    secrets._access.cache_clear()
    return fake


def test_secret_manager_reference_resolved(
    webhook_env: pytest.MonkeyPatch, secret_manager: FakeSecretManager, webhook_secret: str
) -> None:
    reference = "projects/p/secrets/order-webhook/versions/1"
    secret_manager.values[reference] = webhook_secret
    webhook_env.setenv("ORDER_WEBHOOK_SECRET", reference)
    assert load_settings(WebhookSettings).order_webhook_secrets == [webhook_secret]


def test_unreadable_secret_reference_is_named(
    status_env: pytest.MonkeyPatch, secret_manager: FakeSecretManager, capsys: pytest.CaptureFixture[str]
) -> None:
    status_env.setenv("MEDUSA_STATUS_SECRET", "projects/p/secrets/medusa-status/versions/latest")
    line = bad_settings_line(StatusSettings, capsys)
    assert "MEDUSA_STATUS_SECRET" in line
    assert "Permission denied" in line


def test_the_medusa_secrets_may_be_secret_manager_references(
    worker_env: pytest.MonkeyPatch, secret_manager: FakeSecretManager
) -> None:
    newest, older = new_webhook_secret(), new_webhook_secret()
    reference = "projects/p/secrets/medusa-worker/versions/3"
    secret_manager.values[reference] = f"{newest} {older}"
    worker_env.setenv("MEDUSA_WORKER_SECRET", reference)
    assert load_settings(WorkerSettings).medusa_signing_secret == newest


def test_engine_modes(clean_env: pytest.MonkeyPatch) -> None:
    assert EngineSettings().engine_mode == "insecure"
    clean_env.setenv("ZEEBE_CLIENT_ID", "client")
    clean_env.setenv("ZEEBE_CLIENT_SECRET", "secret")
    clean_env.setenv("ZEEBE_AUTHORIZATION_SERVER_URL", "https://keycloak.example/token")
    assert EngineSettings().engine_mode == "oauth"
    clean_env.setenv("CAMUNDA_CLUSTER_ID", "cluster")
    assert EngineSettings().engine_mode == "saas"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"ZEEBE_CLIENT_ID": "client"}, "ZEEBE_CLIENT_SECRET"),
        ({"ZEEBE_CLIENT_SECRET": "s"}, "ZEEBE_CLIENT_ID"),
        ({"ZEEBE_CLIENT_ID": "c", "ZEEBE_CLIENT_SECRET": "s"}, "ZEEBE_AUTHORIZATION_SERVER_URL"),
        ({"CAMUNDA_CLUSTER_ID": "cluster"}, "ZEEBE_CLIENT_ID"),
    ],
)
def test_incomplete_engine_credentials_are_named(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str], named: str
) -> None:
    for name, value in env.items():
        clean_env.setenv(name, value)
    assert named in bad_settings_line(EngineSettings, capsys)


def test_status_settings(status_env: pytest.MonkeyPatch, webhook_secret: str) -> None:
    newest = new_webhook_secret()
    status_env.setenv("MEDUSA_STATUS_SECRET", f"{newest}, {new_webhook_secret()}")
    settings = load_settings(StatusSettings)
    assert settings.medusa_backend_url == MEDUSA_URL
    assert settings.status_update_secrets == [webhook_secret]
    assert settings.medusa_signing_secret == newest


def test_worker_settings_defaults_and_signing_secrets(
    worker_env: pytest.MonkeyPatch, webhook_secret: str
) -> None:
    worker_secret = new_webhook_secret()
    worker_env.setenv("STATUS_UPDATE_SECRET", f"{webhook_secret} {new_webhook_secret()}")
    worker_env.setenv("MEDUSA_WORKER_SECRET", f"{worker_secret} {new_webhook_secret()}")
    settings = load_settings(WorkerSettings)
    assert settings.status_update_signing_secret == webhook_secret
    assert settings.medusa_signing_secret == worker_secret
    assert settings.worker_max_jobs == 32
    assert settings.worker_max_runtime_seconds == 0
    assert settings.status_update_use_id_token is False


@pytest.mark.parametrize(
    "removed", ["notification_outbox_dir", "notification_via_medusa", "smtp_host", "smtp_from"]
)
def test_the_worker_has_no_mail_settings(removed: str) -> None:
    assert removed not in WorkerSettings.model_fields


def test_a_short_status_secret_stops_the_status_function_naming_it(
    status_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status_env.setenv("STATUS_UPDATE_SECRET", "whsec_AA")
    line = bad_settings_line(StatusSettings, capsys)
    assert line.startswith("invalid settings: STATUS_UPDATE_SECRET:")
    assert "at least 24 bytes" in line
