"""The shop's side of a test deployment: the example tfvars filled in, and the environment a CI run of
`python -m deploy` would have."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Final

REPO: Final = Path(__file__).resolve().parents[2]
EXAMPLE: Final = REPO / "terraform" / "terraform.tfvars.example"
PROJECT: Final = "acme-shop-prod"
# Each <placeholder> of terraform.tfvars.example and what a shop fills in.
SHOP_IDS: Final = {
    "<your-project-id>": PROJECT,
    "<your-medusa-host>": "api.acme-shop.example",
    "<your-cluster-id>": "0a1b2c3d-4e5f-6789-abcd-ef0123456789",
    "<webhook-client-id>": "acme-webhook",
    "<worker-client-id>": "acme-worker",
    "<incident-checker-client-id>": "acme-incidents",
    "<channel-id>": "1234567890",
}
TAG: Final = "0123456789ab"
CLIENT_SECRETS: Final = {
    "WEBHOOK_CAMUNDA_CLIENT_SECRET": "webhook-client-secret-value",
    "WORKER_CAMUNDA_CLIENT_SECRET": "worker-client-secret-value",
    "INCIDENT_CHECKER_CAMUNDA_CLIENT_SECRET": "incidents-client-secret-value",
}
WEBHOOK_URL: Final = "https://fulfillment-order-webhook-abc123-ew.a.run.app"
OUTPUTS: Final = {
    "order_webhook_url": WEBHOOK_URL,
    "medusa_plugin_secrets": {
        "webhookSecret": "fulfillment-order-webhook-secret",
        "workerSecret": "fulfillment-medusa-worker-secret",
        "statusSecret": "fulfillment-medusa-status-secret",
    },
}


def filled_example(ids: Mapping[str, str] = SHOP_IDS) -> str:
    text = EXAMPLE.read_text(encoding="utf-8")
    for placeholder, value in ids.items():
        text = text.replace(placeholder, value)
    return text


def clean_environment(**settings: str) -> dict[str, str]:
    """This machine's environment without any Camunda or deploy setting, plus the given ones."""
    prefixes = ("ZEEBE_", "CAMUNDA_", "DEPLOY_", *CLIENT_SECRETS)
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    return {**env, "PYTHONPATH": str(REPO), **settings}


def run_deploy(tfvars: Path, env: Mapping[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deploy", f"--tfvars={tfvars}", *arguments],
        cwd=REPO,
        env={**env, "COLUMNS": "200"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )
