"""`python -m deploy` (what `make deploy` runs) end to end against stand-ins: a fake gcloud and a fake
terraform on PATH (fakes.py) and the local engine for the process model, deployed by the real deploy step.

What matters for orders: the model is in the engine before the apply that creates and opens the webhook,
the secrets and the image exist before the apply that pins them, and a second run changes nothing."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.stack import local_deploy_settings
from fulfillment.process_model import VersionTag, handled_model
from fulfillment.signatures import check_secret
from fulfillment.workflow import BPMN_PATH
from localzeebe.launcher import LocalEngine
from worker_job.deploy_model import deploy_models

from .fakes import FakeCloud, command
from .support import (
    CLIENT_SECRETS,
    OUTPUTS,
    PROJECT,
    REPO,
    TAG,
    WEBHOOK_URL,
    clean_environment,
    filled_example,
    run_deploy,
)

pytestmark = pytest.mark.integration

GENERATED = {
    "fulfillment-order-webhook-secret",
    "fulfillment-status-update-secret",
    "fulfillment-medusa-worker-secret",
    "fulfillment-medusa-status-secret",
}
ASKED = {
    "fulfillment-webhook-camunda-client-secret": CLIENT_SECRETS["WEBHOOK_CAMUNDA_CLIENT_SECRET"],
    "fulfillment-worker-camunda-client-secret": CLIENT_SECRETS["WORKER_CAMUNDA_CLIENT_SECRET"],
    "fulfillment-incidents-camunda-client-secret": CLIENT_SECRETS["INCIDENT_CHECKER_CAMUNDA_CLIENT_SECRET"],
}
IMAGE = f"europe-west1-docker.pkg.dev/{PROJECT}/fulfillment-worker/worker:{TAG}"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[LocalEngine]:
    with LocalEngine.start(log_path=tmp_path / "engine.log") as launched:
        yield launched


@pytest.fixture
def cloud(tmp_path: Path) -> FakeCloud:
    return FakeCloud.install(tmp_path / "cloud", OUTPUTS)


@pytest.fixture
def tfvars(tmp_path: Path) -> Path:
    path = tmp_path / "terraform.tfvars"
    path.write_text(filled_example())
    return path


def ci_environment(cloud: FakeCloud, engine: LocalEngine | None, **more: str) -> dict[str, str]:
    """A CI run: client secrets from the environment, the model deployed to the local engine (no client)."""
    model_target = (
        {
            "DEPLOY_ZEEBE_ADDRESS": engine.grpc_address,
            "DEPLOY_CAMUNDA_API_URL": engine.http_url,
            "FAKE_ENGINE_API_URL": engine.http_url,
        }
        if engine
        else {"DEPLOY_ZEEBE_ADDRESS": "127.0.0.1:9"}
    )
    local = {
        "DEPLOY_CAMUNDA_CLUSTER_ID": "",
        "DEPLOY_CAMUNDA_CLUSTER_REGION": "",
        "DEPLOY_ZEEBE_CLIENT_ID": "",
    }
    return clean_environment(**cloud.env(), **model_target, **local, **CLIENT_SECRETS, **more)


def deploy(tfvars: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_deploy(tfvars, env, f"--tag={TAG}", "--yes")


def position(calls: list[dict[str, Any]], name: str, **facts: Any) -> int:
    """Index of the first call of `name` (`tool word word`) with the given facts."""
    for index, call in enumerate(calls):
        if command(call).startswith(name) and all(call.get(key) == value for key, value in facts.items()):
            return index
    raise AssertionError(f"no call {name} {facts} in {[command(call) for call in calls]}")


def applies(calls: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [call for call in calls if command(call).startswith("terraform apply") and call["kind"] == kind]


def test_a_first_deploy_runs_in_order_and_a_second_changes_nothing(
    engine: LocalEngine, cloud: FakeCloud, tfvars: Path
) -> None:
    env = ci_environment(cloud, engine)

    first = deploy(tfvars, env)
    calls = cloud.calls()
    second = deploy(tfvars, env)
    again = cloud.calls()[len(calls) :]

    assert first.returncode == 0, first.stdout + first.stderr
    # The foundations come first, then their secret values, then the image; the model before the apply
    # that creates and opens the webhook; the block for Medusa last.
    foundations = position(calls, "terraform apply", kind="foundations")
    first_secret = position(calls, "gcloud secrets versions add")
    build = position(calls, "gcloud builds submit")
    deployment = position(calls, "terraform apply", kind="deployment")
    assert position(calls, "gcloud services enable") < position(calls, "terraform init") < foundations
    assert foundations < first_secret < build < deployment < position(calls, "gcloud run jobs execute")
    applied = calls[deployment]
    assert applied["model_deployed"] is True
    assert set(applied["secret_versions_present"]) == GENERATED | set(ASKED)
    assert applied["images_present"] == [IMAGE]
    assert first.stdout.index("Process model") < first.stdout.index("Deployment (functions")
    assert first.stdout.rindex("Deployed") < first.stdout.index(f"ORDER_WEBHOOK_URL={WEBHOOK_URL}")
    # The image is built as the worker's own build account, from the staging path it may read.
    build_args = calls[build]["argv"]
    assert (
        f"--service-account=projects/{PROJECT}/serviceAccounts/fulfillment-worker-build@{PROJECT}.iam.gserviceaccount.com"
        in build_args
    )
    assert f"--gcs-source-staging-dir=gs://{PROJECT}-fulfillment-sources/worker-builds/source" in build_args
    # Version 1 of each secret: generated signing secrets, the client secrets as given; none printed.
    secrets = cloud.state()["secrets"]
    assert {name: [v["number"] for v in versions] for name, versions in secrets.items()} == {
        name: ["1"] for name in GENERATED | set(ASKED)
    }
    for name in GENERATED:
        check_secret(secrets[name][0]["value"])
    assert {name: secrets[name][0]["value"] for name in ASKED} == ASKED
    for versions in secrets.values():
        assert versions[0]["value"] not in first.stdout + first.stderr
    assert "gcloud secrets versions access 1 --secret=fulfillment-order-webhook-secret" in first.stdout

    assert second.returncode == 0, second.stdout + second.stderr
    assert [
        command(call) for call in again if call["tool"] == "terraform" and command(call) != "terraform plan"
    ] == [
        "terraform init",
        "terraform output",
    ]
    assert [call["changes"] for call in again if command(call) == "terraform plan"] == [False, False]
    assert not [
        call
        for call in again
        if command(call).startswith(("gcloud secrets versions add", "gcloud builds", "gcloud run"))
    ]
    assert "nothing to deploy" in second.stdout  # the deploy step found the model deployed
    block = first.stdout[first.stdout.rindex("Deployed") :]
    assert block == second.stdout[second.stdout.rindex("Deployed") :]


def test_a_model_the_engine_refuses_stops_the_deploy_before_the_webhook_exists(
    engine: LocalEngine, cloud: FakeCloud, tfvars: Path, tmp_path: Path
) -> None:
    current = handled_model().version_tag
    newer = VersionTag.parse(f"{current.numbers[0] + 1}.0.0")
    release = tmp_path / "newer-release"
    release.mkdir()
    text = BPMN_PATH.read_text().replace(f'value="{current}"', f'value="{newer}"')
    (release / BPMN_PATH.name).write_text(text)
    deploy_models(local_deploy_settings(engine.grpc_address, engine.http_url), release)

    run = deploy(tfvars, ci_environment(cloud, engine))

    assert run.returncode == 1
    assert "failed: Process model" in run.stdout
    assert "Camunda holds a newer model" in run.stdout
    assert len(applies(cloud.calls(), "foundations")) == 1
    assert applies(cloud.calls(), "deployment") == []
    assert "ORDER_WEBHOOK_URL" not in run.stdout


def test_a_failed_build_names_its_step_and_the_next_run_goes_on_from_there(
    engine: LocalEngine, cloud: FakeCloud, tfvars: Path
) -> None:
    failed = deploy(tfvars, ci_environment(cloud, engine, FAKE_FAIL="builds"))
    after_failure = len(cloud.calls())
    resumed = deploy(tfvars, ci_environment(cloud, engine))
    calls = cloud.calls()

    assert failed.returncode == 1
    assert "failed: Worker image" in failed.stdout
    assert "PERMISSION_DENIED" in failed.stderr  # the build's own output, streamed above the panel
    assert "IAM propagation" in failed.stdout
    assert applies(calls[:after_failure], "deployment") == []
    assert resumed.returncode == 0, resumed.stdout
    assert not [call for call in calls[after_failure:] if command(call) == "gcloud secrets versions add"]
    assert len(applies(calls, "foundations")) == 1
    assert len(applies(calls, "deployment")) == 1


def test_without_a_terminal_a_missing_client_secret_is_named_and_nothing_is_applied(
    cloud: FakeCloud, tfvars: Path
) -> None:
    env = ci_environment(cloud, None)
    del env["WORKER_CAMUNDA_CLIENT_SECRET"]

    run = deploy(tfvars, env)

    assert run.returncode == 1
    assert "failed: Secret values" in run.stdout
    assert "set WORKER_CAMUNDA_CLIENT_SECRET" in run.stdout
    assert applies(cloud.calls(), "deployment") == []


def test_a_tfvars_file_with_placeholders_left_is_refused_before_anything_runs(
    cloud: FakeCloud, tmp_path: Path
) -> None:
    tfvars = tmp_path / "terraform.tfvars"
    tfvars.write_text(filled_example({"<your-project-id>": PROJECT}))

    run = deploy(tfvars, ci_environment(cloud, None))

    assert run.returncode == 1
    assert "replace the <placeholders> in" in run.stdout
    assert "camunda_client_ids" in run.stdout
    assert cloud.calls() == []


def test_make_deploy_passes_the_tfvars_the_tag_and_yes() -> None:
    dry = subprocess.run(
        ["make", "-n", "deploy", "TFVARS=shop.tfvars", "TAG=abc", "YES=1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert '-m deploy --tfvars "shop.tfvars" --tag "abc" --yes' in dry.stdout
