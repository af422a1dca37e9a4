"""The process model passes bpmnlint (recommended + Camunda 8.8 compatibility), and the lint gate works.

The gate is checked against deliberately broken copies: a lint script that never fails would pass the
real file too.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_SCRIPT = REPO / "tools" / "bpmn" / "lint.mjs"
BPMN_FILE = REPO / "bpmn" / "order-fulfillment.bpmn"


def run_lint(*files: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "Node.js is required to lint BPMN (tools/node holds the packages)"
    return subprocess.run(
        [node, str(LINT_SCRIPT), *map(str, files)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_process_model_passes_lint() -> None:
    result = run_lint(BPMN_FILE)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 error(s), 0 warning(s)" in result.stdout


BROKEN_VARIANTS = {
    "missing job type": (
        '<zeebe:taskDefinition type="reserve-inventory" retries="5" />',
        "",
        "camunda-compat/implementation",
    ),
    "dangling flow reference": (
        "<bpmn:outgoing>Flow_ToOrderFulfilled</bpmn:outgoing>",
        "<bpmn:outgoing>Flow_Nowhere</bpmn:outgoing>",
        "unresolved reference <Flow_Nowhere>",
    ),
    "unnamed task": (' name="Notify customer"', "", "label-required"),
    "invalid FEEL": (
        'source="=&#34;out_of_stock&#34;"',
        'source="=&#34;out_of_stock"',
        "camunda-compat/feel",
    ),
    "boundary without target": (
        '<bpmn:sequenceFlow id="Flow_ToStockPolicy" sourceRef="StockMissing" targetRef="StockPolicy" />',
        "",
        "StockMissing",
    ),
}


@pytest.mark.parametrize("variant", sorted(BROKEN_VARIANTS))
def test_lint_rejects_broken_copy(variant: str, tmp_path: Path) -> None:
    original, replacement, expected_report = BROKEN_VARIANTS[variant]
    xml = BPMN_FILE.read_text(encoding="utf-8")
    assert original in xml, f"the fixture no longer matches the model: {original!r}"
    broken = tmp_path / "broken.bpmn"
    broken.write_text(xml.replace(original, replacement, 1), encoding="utf-8")

    result = run_lint(broken)

    assert result.returncode == 1, result.stdout + result.stderr
    assert expected_report in result.stdout


def test_lint_without_files_is_a_usage_error() -> None:
    assert run_lint().returncode == 2
