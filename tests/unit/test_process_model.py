"""Model versions: the version tag read from a BPMN file, and their order."""

from __future__ import annotations

from pathlib import Path

import pytest

from fulfillment.errors import ModelError
from fulfillment.process_model import VersionTag, handled_model, read_model, read_models
from fulfillment.workflow import BPMN_PATH, PROCESS_ID

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="t">
  <bpmn:process id="{process_id}" isExecutable="true">{extensions}
    <bpmn:startEvent id="s" />
  </bpmn:process>
  <bpmn:process id="drawing-only" isExecutable="false" />
</bpmn:definitions>
"""


def model_file(tmp_path: Path, extensions: str, process_id: str = "p", name: str = "p.bpmn") -> Path:
    path = tmp_path / name
    path.write_text(BPMN.format(process_id=process_id, extensions=extensions))
    return path


def tag(value: str) -> str:
    return f'<bpmn:extensionElements><zeebe:versionTag value="{value}" /></bpmn:extensionElements>'


@pytest.mark.parametrize(
    ("older", "newer"),
    [("1.9.3", "1.10.0"), ("1.0.0", "2.0.0"), ("1.0", "1.0.1"), ("2026.11.30", "2026.12.1"), ("9", "10")],
)
def test_versions_are_ordered_number_by_number(older: str, newer: str) -> None:
    assert VersionTag.parse(older) < VersionTag.parse(newer)
    assert VersionTag.parse(newer) > VersionTag.parse(older)
    assert VersionTag.parse(newer) == VersionTag.parse(newer)


@pytest.mark.parametrize("text", ["", "v1", "1.0-rc1", "1..0", " 1.0", "1.0.0.0.0.0.0"])
def test_a_version_tag_must_be_dotted_numbers(text: str) -> None:
    with pytest.raises(ValueError, match="dotted numbers"):
        VersionTag.parse(text)


def test_the_executable_processes_are_read_with_their_tags(tmp_path: Path) -> None:
    [model] = read_model(model_file(tmp_path, tag("1.4.2"), "billing"))

    assert (model.process_id, model.version_tag.text) == ("billing", "1.4.2")


@pytest.mark.parametrize(
    ("extensions", "problem"),
    [
        ("", "has no <zeebe:versionTag"),
        (tag("next"), "not dotted numbers"),
        (tag(""), "has no <zeebe:versionTag"),
    ],
)
def test_a_process_without_a_valid_tag_cannot_be_deployed(
    tmp_path: Path, extensions: str, problem: str
) -> None:
    with pytest.raises(ModelError, match=problem):
        read_model(model_file(tmp_path, extensions))


def test_a_directory_is_read_file_by_file_and_must_hold_a_model(tmp_path: Path) -> None:
    model_file(tmp_path, tag("1.0.0"), "b", "b.bpmn")
    model_file(tmp_path, tag("2.0.0"), "a", "a.bpmn")

    assert [m.process_id for m in read_models(tmp_path)] == ["a", "b"]
    with pytest.raises(ModelError, match=r"no \.bpmn file"):
        read_models(tmp_path / "empty")


def test_the_worker_handles_the_order_fulfillment_model_of_the_repository() -> None:
    model = handled_model()

    assert (model.path, model.process_id) == (BPMN_PATH, PROCESS_ID)
    assert model.version_tag >= VersionTag.parse("1.0.0")
