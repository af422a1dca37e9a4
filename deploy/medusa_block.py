"""The block the shop pastes into its Medusa server: the webhook URL, and for each shared secret the command
that prints it from Secret Manager. Never the values themselves: this output lands in terminals and CI logs,
and whoever sets Medusa's environment can read Secret Manager where the value is needed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

PLUGIN_PACKAGE: Final = "medusa-plugin-fulfillment-workflow"
# Plugin option -> the Medusa server's environment variable (named as the cloud setting) holding it.
PLUGIN_SECRET_OPTIONS: Final = {
    "webhookSecret": "ORDER_WEBHOOK_SECRET",
    "workerSecret": "MEDUSA_WORKER_SECRET",
    "statusSecret": "MEDUSA_STATUS_SECRET",
}


def medusa_block(
    webhook_url: str, secret_ids: Mapping[str, str], versions: Mapping[str, str], project_id: str
) -> str:
    """`secret_ids`: Terraform's `medusa_plugin_secrets` output (option -> secret id); `versions`: the
    version pinned per setting."""
    lines = [
        "# 1. The Medusa server's environment (its secret store). Each $(...) prints one secret: run these",
        "#    where you set that environment, not in a CI log.",
        f"ORDER_WEBHOOK_URL={webhook_url}",
    ]
    for option, setting in PLUGIN_SECRET_OPTIONS.items():
        access = (
            f"gcloud secrets versions access {versions[setting]} --secret={secret_ids[option]} "
            f"--project={project_id}"
        )
        lines.append(f'{setting}="$({access})"')
    lines += [
        "",
        "# 2. medusa-config.ts: the plugin, reading those variables (then restart Medusa).",
        "plugins: [",
        "  {",
        f'    resolve: "{PLUGIN_PACKAGE}",',
        "    options: {",
        "      webhookUrl: process.env.ORDER_WEBHOOK_URL,",
    ]
    lines += [f"      {option}: process.env.{setting}," for option, setting in PLUGIN_SECRET_OPTIONS.items()]
    lines += ["    },", "  },", "],"]
    return "\n".join(lines)
