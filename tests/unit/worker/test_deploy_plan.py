"""What the model deploy step does with a model, given the latest deployed definition of its process."""

from __future__ import annotations

from pathlib import Path

import pytest

from fulfillment.camunda_api import ProcessDefinition
from fulfillment.process_model import ProcessModel, VersionTag
from worker_job.deploy_model import Action, plan

MODEL = ProcessModel(Path("bpmn/order-fulfillment.bpmn"), "order-fulfillment", VersionTag.parse("1.4.0"))


def deployed(version_tag: str | None, version: int = 7) -> ProcessDefinition:
    return ProcessDefinition(
        process_definition_key="2251799813685250",
        process_definition_id="order-fulfillment",
        version=version,
        version_tag=version_tag,
    )


@pytest.mark.parametrize(
    ("latest", "action", "says"),
    [
        (None, Action.DEPLOY, "no version of the process is deployed yet"),
        (deployed(None), Action.DEPLOY, "has no version tag (it predates them)"),
        (deployed("1.3.9"), Action.DEPLOY, "(version 7) is 1.3.9, older"),
        (deployed("1.4.0"), Action.UNCHANGED, "nothing to deploy"),
        (deployed("1.10.0"), Action.REFUSE, "(version 7) is 1.10.0, newer"),
        (deployed("hotfix-2"), Action.REFUSE, "'hotfix-2', which is not dotted numbers"),
    ],
)
def test_only_a_model_not_older_than_the_latest_is_deployed(
    latest: ProcessDefinition | None, action: Action, says: str
) -> None:
    decided = plan(MODEL, latest)

    assert decided.action is action
    assert says in decided.reason
