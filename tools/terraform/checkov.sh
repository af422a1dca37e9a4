#!/usr/bin/env bash
# checkov over terraform/ with the committed .checkov.yaml (var-file terraform/ci.tfvars, --skip-download),
# then over worker_job/Dockerfile.
# checkov lives in its own virtual environment: it pulls bc-python-hcl2, which installs the same `hcl2`
# module as python-hcl2 (used by the wiring tests in the project's environment).
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=.venv-checkov
VERSION=3.3.30
STAMP="$VENV/.checkov-$VERSION"
if [ ! -f "$STAMP" ]; then
  echo "installing checkov==$VERSION into $VENV"
  "${PYTHON:-python3}" -m venv --clear "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "checkov==$VERSION"
  touch "$STAMP"
fi
# The Terraform config (directory, var-file and the rest come from .checkov.yaml) ...
"$VENV/bin/checkov" --config-file .checkov.yaml --skip-download
# ... and the worker's Dockerfile (same settings, other directory and framework).
"$VENV/bin/checkov" --config-file .checkov.yaml --skip-download --directory worker_job --framework dockerfile
