"""The process models in `bpmn/` and the version each one carries.

A model names its version in a `zeebe:versionTag` extension element on the process (Camunda 8.6+; the
engine stores it with the deployed definition, and Camunda's REST API shows it as `versionTag`):

    <bpmn:process id="order-fulfillment" isExecutable="true">
      <bpmn:extensionElements><zeebe:versionTag value="1.0.0" /></bpmn:extensionElements>

Zeebe treats the tag as free text and versions a process by deployment order only. The project gives it
an order: dotted numbers (`1.4.0`), compared number by number, raised with every change of the model. The
deploy step (worker_job/deploy_model.py) refuses to make an older model the latest, and a worker checks at
start that the version of the model it was built with is deployed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import total_ordering
from pathlib import Path
from typing import Final, Self

from fulfillment.errors import ModelError
from fulfillment.workflow import BPMN_PATH, PROCESS_ID

BPMN_DIR: Final = BPMN_PATH.parent
_BPMN: Final = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_ZEEBE: Final = "http://camunda.org/schema/zeebe/1.0"
_VERSION: Final = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9}){0,5}")


@total_ordering
@dataclass(frozen=True)
class VersionTag:
    """A model version: dotted numbers, ordered number by number (1.10.0 is newer than 1.9.3)."""

    text: str
    numbers: tuple[int, ...] = field(compare=False)

    @classmethod
    def parse(cls, text: str) -> Self:
        if not _VERSION.fullmatch(text):
            raise ValueError(f"version tag {text!r} is not dotted numbers such as 1.4.0")
        return cls(text, tuple(int(part) for part in text.split(".")))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, VersionTag):
            return NotImplemented
        return self.numbers < other.numbers

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VersionTag) and self.numbers == other.numbers

    def __hash__(self) -> int:
        return hash(self.numbers)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class ProcessModel:
    """One executable process of a BPMN file, with its version."""

    path: Path
    process_id: str
    version_tag: VersionTag


def read_model(path: Path) -> list[ProcessModel]:
    """The executable processes of one BPMN file; each must carry a valid version tag."""
    try:
        root = ET.parse(path).getroot()  # noqa: S314 - the repository's own model, not untrusted input
    except (OSError, ET.ParseError) as error:
        raise ModelError(f"{path}: cannot read the model: {error}") from None
    models = []
    for process in root.iter(f"{{{_BPMN}}}process"):
        if process.get("isExecutable", "false").lower() != "true":
            continue
        process_id = process.get("id") or ""
        tag = process.find(f"{{{_BPMN}}}extensionElements/{{{_ZEEBE}}}versionTag")
        if tag is None or not tag.get("value"):
            raise ModelError(f"{path}: process {process_id!r} has no <zeebe:versionTag value=...>")
        try:
            version = VersionTag.parse(tag.get("value", ""))
        except ValueError as error:
            raise ModelError(f"{path}: process {process_id!r}: {error}") from None
        models.append(ProcessModel(path, process_id, version))
    if not models:
        raise ModelError(f"{path}: no executable process")
    return models


def read_models(directory: Path = BPMN_DIR) -> list[ProcessModel]:
    """Every executable process of the `*.bpmn` files in `directory`, in file name order."""
    files = sorted(directory.glob("*.bpmn"))
    if not files:
        raise ModelError(f"{directory}: no .bpmn file")
    return [model for path in files for model in read_model(path)]


def handled_model(path: Path = BPMN_PATH, process_id: str = PROCESS_ID) -> ProcessModel:
    """The model the worker handles: the order-fulfillment process of the model it was built with."""
    for model in read_model(path):
        if model.process_id == process_id:
            return model
    raise ModelError(f"{path}: no executable process {process_id!r}")
