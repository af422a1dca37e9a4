"""The wiring checks catch each kind of mistake: they run on a deliberately broken copy of the config."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from . import wiring
from .paths import TERRAFORM_DIR
from .wiring import SettingsSpec, TerraformConfig

Breaker = Callable[[Path], None]


def broken_copy(tmp_path: Path, breaker: Breaker) -> TerraformConfig:
    copy = tmp_path / "terraform"
    shutil.copytree(TERRAFORM_DIR, copy, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    breaker(copy)
    return wiring.parse_config(copy)


def add_file(text: str) -> Breaker:
    def breaker(directory: Path) -> None:
        (directory / "broken.tf").write_text(text, encoding="utf-8")

    return breaker


def replace(file_name: str, old: str, new: str) -> Breaker:
    def breaker(directory: Path) -> None:
        path = directory / file_name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {file_name}: update this test with the config"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return breaker


PUBLIC_STATUS = add_file(
    """
resource "google_cloud_run_v2_service_iam_member" "status_public" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.function["status"].name
  role     = "roles/run.invoker"
  member   = "allUsers"
}
"""
)

PROJECT_WIDE_SECRET_ACCESS = add_file(
    """
resource "google_project_iam_member" "status_reads_all_secrets" {
  project = var.project_id
  role    = "roles/secretmanager.secretAccessor"
  member  = google_service_account.status.member
}
"""
)

PLAINTEXT_SECRET_ENV = replace(
    "locals.tf",
    "status_env_candidates = {",
    'status_env_candidates = {\n    STATUS_UPDATE_SECRET = "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ="',
)

SECRET_VERSION_IN_STATE = add_file(
    """
resource "google_secret_manager_secret_version" "medusa_worker_secret" {
  secret      = google_secret_manager_secret.setting["MEDUSA_WORKER_SECRET"].id
  secret_data = var.medusa_worker_secret
}

variable "medusa_worker_secret" {
  type      = string
  sensitive = true
}
"""
)


def test_public_status_function_is_caught(tmp_path: Path) -> None:
    config = broken_copy(tmp_path, PUBLIC_STATUS)
    assert any("status_public" in problem for problem in wiring.check_public_access(config))
    private = wiring.check_private_functions(config)
    assert any("'roles/run.invoker allUsers'" in problem for problem in private)


def test_project_wide_secret_accessor_is_caught(tmp_path: Path) -> None:
    config = broken_copy(tmp_path, PROJECT_WIDE_SECRET_ACCESS)
    problems = wiring.check_secret_access(config)
    assert any("status_reads_all_secrets" in problem for problem in problems)


def test_plaintext_secret_env_var_is_caught(
    tmp_path: Path, settings_specs: Mapping[str, SettingsSpec]
) -> None:
    config = broken_copy(tmp_path, PLAINTEXT_SECRET_ENV)
    problems = wiring.check_env_matches_settings(config, settings_specs)
    assert any("secret setting STATUS_UPDATE_SECRET is a plain environment variable" in p for p in problems)
    assert any("whsec_" in problem for problem in wiring.check_no_secret_values(config))


def test_secret_version_with_a_value_is_caught(tmp_path: Path) -> None:
    config = broken_copy(tmp_path, SECRET_VERSION_IN_STATE)
    problems = wiring.check_no_secret_values(config)
    assert any("google_secret_manager_secret_version.medusa_worker_secret" in problem for problem in problems)
    assert any("variable medusa_worker_secret" in problem for problem in problems)


def test_grant_on_a_secret_the_component_does_not_read_is_caught(tmp_path: Path) -> None:
    config = broken_copy(
        tmp_path,
        replace(
            "secrets.tf", "toset(values(local.status_secret_env))", "toset(values(local.webhook_secret_env))"
        ),
    )
    problems = wiring.check_secret_access(config)
    assert any(
        "service account status may read" in problem and "ORDER_WEBHOOK_SECRET" in problem
        for problem in problems
    )
    assert any(
        "service account status reads ['MEDUSA_STATUS_SECRET', 'STATUS_UPDATE_SECRET']" in problem
        for problem in problems
    )


def test_missing_setting_is_caught(tmp_path: Path, settings_specs: Mapping[str, SettingsSpec]) -> None:
    config = broken_copy(
        tmp_path,
        replace("locals.tf", '    STATUS_UPDATE_USE_ID_TOKEN = "true"\n', ""),
    )
    problems = wiring.check_env_matches_settings(config, settings_specs)
    assert any(
        "setting STATUS_UPDATE_USE_ID_TOKEN is read by the code but not configured" in p for p in problems
    )
    assert any("STATUS_UPDATE_USE_ID_TOKEN must be true" in p for p in wiring.check_worker_settings(config))


def test_setting_the_code_does_not_read_is_caught(
    tmp_path: Path, settings_specs: Mapping[str, SettingsSpec]
) -> None:
    config = broken_copy(
        tmp_path,
        replace(
            "locals.tf", "status_env_candidates = {", 'status_env_candidates = {\n    ZEEBE_ADDRESS = "x:1"'
        ),
    )
    problems = wiring.check_env_matches_settings(config, settings_specs)
    assert any("ZEEBE_ADDRESS is configured but the code does not read it" in problem for problem in problems)


def test_unknown_entry_point_is_caught(tmp_path: Path) -> None:
    functions = tmp_path / "functions"
    for name in ("order_webhook", "status_update"):
        (functions / name).mkdir(parents=True)
        (functions / name / "main.py").write_text(f"def {name}(request):\n    return ''\n", encoding="utf-8")
    config = broken_copy(
        tmp_path,
        replace("functions.tf", 'entry_point = "status_update"', 'entry_point = "status"'),
    )
    assert wiring.check_entry_points(wiring.parse_config(TERRAFORM_DIR), functions) == []
    problems = wiring.check_entry_points(config, functions)
    missing = functions / "status" / "main.py"
    assert problems == [
        'google_cloudfunctions2_function.function["status"]: '
        f"entry point 'status' but {missing} does not exist"
    ]


def test_entry_point_missing_from_main_is_caught(tmp_path: Path) -> None:
    functions = tmp_path / "functions"
    for name in ("order_webhook", "status_update"):
        (functions / name).mkdir(parents=True)
        (functions / name / "main.py").write_text("def handler(request):\n    return ''\n", encoding="utf-8")
    problems = wiring.check_entry_points(wiring.parse_config(TERRAFORM_DIR), functions)
    assert len(problems) == 2
    assert all("defines no function" in problem for problem in problems)


@pytest.mark.parametrize(
    ("breaker", "expected"),
    [
        (
            replace(
                "scheduler.tf", "jobs/${google_cloud_run_v2_job.worker[0].name}:run", "jobs/other-job:run"
            ),
            "is not the jobs:run endpoint of a job here",
        ),
        (
            add_file(
                """
resource "google_project_iam_member" "scheduler_runs_everything" {
  project = var.project_id
  role    = "roles/run.invoker"
  member  = google_service_account.scheduler.member
}
"""
            ),
            "scheduler_runs_everything: the scheduler's account scheduler may only run",
        ),
        (
            replace("scheduler.tf", 'role     = "roles/run.invoker"', 'role     = "roles/run.viewer"'),
            "has no run.invoker",
        ),
    ],
    ids=["uri-to-another-job", "project-wide-invoker", "no-invoker-on-job"],
)
def test_scheduler_miswiring_is_caught(tmp_path: Path, breaker: Breaker, expected: str) -> None:
    assert any(expected in problem for problem in wiring.check_scheduler(broken_copy(tmp_path, breaker)))


def test_webhook_behind_internal_ingress_is_caught(tmp_path: Path) -> None:
    config = broken_copy(
        tmp_path,
        replace(
            "functions.tf",
            'ingress         = "ALLOW_ALL"',
            'ingress         = "ALLOW_INTERNAL_ONLY"',
        ),
    )
    assert any("Medusa calls it from the internet" in problem for problem in wiring.check_ingress(config))


def test_shared_or_default_service_account_is_caught(tmp_path: Path) -> None:
    config = broken_copy(
        tmp_path,
        replace(
            "functions.tf",
            "service_account = google_service_account.status.email",
            'service_account = "123456789-compute@developer.gserviceaccount.com"',
        ),
    )
    problems = wiring.check_service_accounts(config)
    assert any("runs without a service account declared here" in problem for problem in problems)
    assert any("refers to a default service account" in problem for problem in problems)


def test_basic_role_is_caught(tmp_path: Path) -> None:
    config = broken_copy(tmp_path, replace("iam.tf", '"roles/logging.logWriter"', '"roles/editor"'))
    assert any("broad role roles/editor" in problem for problem in wiring.check_service_accounts(config))


def test_worker_calling_another_url_is_caught(tmp_path: Path) -> None:
    config = broken_copy(
        tmp_path,
        replace(
            "locals.tf",
            'google_cloudfunctions2_function.function["status"].service_config[0].uri',
            'google_cloudfunctions2_function.function["webhook"].service_config[0].uri',
        ),
    )
    assert any("STATUS_UPDATE_URL" in problem for problem in wiring.check_worker_settings(config))


def test_project_wide_invoker_is_caught(tmp_path: Path) -> None:
    """roles/run.invoker on the project would let its holder call the private status function."""
    config = broken_copy(
        tmp_path,
        add_file(
            """
resource "google_project_iam_member" "webhook_invokes_everything" {
  project = var.project_id
  role    = "roles/run.invoker"
  member  = google_service_account.webhook.member
}
"""
        ),
    )
    problems = wiring.check_private_functions(config)
    assert any("webhook_invokes_everything: a project-wide Cloud Run" in problem for problem in problems)


def test_extra_invoker_named_through_a_local_is_caught(tmp_path: Path) -> None:
    config = broken_copy(
        tmp_path,
        add_file(
            """
resource "google_cloud_run_v2_service_iam_member" "webhook_calls_status" {
  project  = var.project_id
  location = var.region
  name     = local.function_names.status
  role     = "roles/run.invoker"
  member   = google_service_account.webhook.member
}
"""
        ),
    )
    problems = wiring.check_private_functions(config)
    assert any("roles/run.invoker webhook" in problem for problem in problems)


def test_secret_env_reading_another_setting_is_caught(tmp_path: Path) -> None:
    swapped = "google_secret_manager_secret.setting[secret_environment_variables.value].secret_id"
    config = broken_copy(
        tmp_path,
        replace(
            "functions.tf", swapped, 'google_secret_manager_secret.setting["MEDUSA_STATUS_SECRET"].secret_id'
        ),
    )
    problems = wiring.check_secret_references(config)
    # One dynamic block serves both functions: both read the wrong secret.
    for function in ("webhook", "status"):
        wrong = f'function["{function}"]: secret_environment_variables.value reads secret'
        assert any(wrong in problem for problem in problems), problems


def test_unpinned_secret_version_is_caught(tmp_path: Path) -> None:
    config = broken_copy(
        tmp_path, replace("worker.tf", "version = local.secret_versions[env.value]", 'version = "latest"')
    )
    problems = wiring.check_secret_references(config)
    assert problems == [
        "google_cloud_run_v2_job.worker: env.value uses version 'latest'; pin it through secret_versions"
    ]


def test_threads_that_do_not_follow_the_concurrency_are_caught(tmp_path: Path) -> None:
    config = broken_copy(
        tmp_path,
        replace(
            "locals.tf",
            "THREADS                    = tostring(var.status_function.concurrency)",
            'THREADS                    = "1"',
        ),
    )
    problems = wiring.check_threads_match_concurrency(config)
    assert any('google_cloudfunctions2_function.function["status"]: THREADS' in p for p in problems)


@pytest.mark.parametrize(
    ("breaker", "where"),
    [
        (
            replace(
                "locals.tf",
                "    ZEEBE_CLIENT_SECRET  = ",
                '    MEDUSA_API_KEY       = "${var.name_prefix}-medusa-api-key"\n    ZEEBE_CLIENT_SECRET  = ',
            ),
            "locals.tf:",
        ),
        (add_file('variable "medusa_admin_token" {\n  default = "sk_0123456789abcdef"\n}\n'), "broken.tf:"),
        (
            replace(
                "README.md",
                "## Troubleshooting",
                "## Troubleshooting\n\nSet MEDUSA_API_KEY to the shop's key.\n",
            ),
            "README.md:",
        ),
    ],
    ids=["secret-in-config", "key-literal", "key-in-guide"],
)
def test_a_medusa_admin_key_brought_back_is_caught(tmp_path: Path, breaker: Breaker, where: str) -> None:
    problems = wiring.check_no_medusa_admin_key(broken_copy(tmp_path, breaker))
    assert problems
    assert all(problem.startswith(where) for problem in problems), problems


def test_a_plugin_secret_shared_by_two_components_is_caught(tmp_path: Path) -> None:
    """Granted and wired consistently, so the per-component checks pass; the status function could still
    sign cancels as the worker."""
    config = broken_copy(
        tmp_path,
        replace(
            "locals.tf",
            'MEDUSA_STATUS_SECRET = "MEDUSA_STATUS_SECRET"\n  }',
            'MEDUSA_STATUS_SECRET = "MEDUSA_STATUS_SECRET"\n'
            '    MEDUSA_WORKER_SECRET = "MEDUSA_WORKER_SECRET"\n  }',
        ),
    )
    assert wiring.check_secret_access(config) == []
    assert wiring.check_one_reader_per_party_secret(config) == [
        "MEDUSA_WORKER_SECRET must be readable by worker_job's service account alone, "
        "readers: ['status', 'worker']"
    ]


def test_a_webhook_reading_the_status_secret_is_caught(tmp_path: Path) -> None:
    config = broken_copy(
        tmp_path,
        replace(
            "locals.tf",
            "webhook_secret_env = {",
            'webhook_secret_env = {\n    MEDUSA_STATUS_SECRET = "MEDUSA_STATUS_SECRET"',
        ),
    )
    assert any("MEDUSA_STATUS_SECRET" in p for p in wiring.check_one_reader_per_party_secret(config))
    problems = wiring.check_webhook_has_no_medusa_setting(config)
    assert problems == [
        'google_cloudfunctions2_function.function["webhook"]: '
        "gets MEDUSA_STATUS_SECRET, but the order webhook never calls Medusa"
    ]


def test_a_medusa_url_on_the_webhook_is_caught(tmp_path: Path) -> None:
    config = broken_copy(
        tmp_path,
        replace(
            "locals.tf",
            "webhook_env_candidates = {",
            "webhook_env_candidates = {\n    MEDUSA_BACKEND_URL = var.medusa_backend_url",
        ),
    )
    problems = wiring.check_webhook_has_no_medusa_setting(config)
    assert problems == [
        'google_cloudfunctions2_function.function["webhook"]: '
        "gets MEDUSA_BACKEND_URL, but the order webhook never calls Medusa"
    ]


def test_a_status_function_open_to_the_internet_is_caught(tmp_path: Path) -> None:
    config = broken_copy(
        tmp_path,
        replace(
            "functions.tf",
            'ingress         = "ALLOW_INTERNAL_ONLY"',
            'ingress         = "ALLOW_ALL"',
        ),
    )
    assert wiring.check_ingress(config) == [
        "google_cloudfunctions2_function.function[\"status\"]: ingress 'ALLOW_ALL'; "
        "only the worker calls it: ALLOW_INTERNAL_ONLY"
    ]


def test_a_worker_whose_status_calls_leave_the_vpc_is_caught(tmp_path: Path) -> None:
    """With private-ranges-only egress the run.app URL is reached from outside: the internal-only status
    function would refuse it."""
    config = broken_copy(
        tmp_path, replace("worker.tf", 'egress = "ALL_TRAFFIC"', 'egress = "PRIVATE_RANGES_ONLY"')
    )
    assert wiring.check_worker_vpc_egress(config) == [
        "google_cloud_run_v2_job.worker: vpc_access egress 'PRIVATE_RANGES_ONLY', expected ALL_TRAFFIC"
    ]


def test_a_component_using_another_components_camunda_client_is_caught(tmp_path: Path) -> None:
    config = broken_copy(
        tmp_path,
        replace(
            "locals.tf",
            'ZEEBE_CLIENT_SECRET = "INCIDENT_CHECKER_CAMUNDA_CLIENT_SECRET"',
            'ZEEBE_CLIENT_SECRET = "WORKER_CAMUNDA_CLIENT_SECRET"',
        ),
    )
    assert wiring.check_secret_sources(config) == [
        "google_cloud_run_v2_job.incident_checker: ZEEBE_CLIENT_SECRET reads secret "
        "WORKER_CAMUNDA_CLIENT_SECRET, expected INCIDENT_CHECKER_CAMUNDA_CLIENT_SECRET"
    ]
    readers = wiring.check_one_reader_per_party_secret(config)
    assert any(p.startswith("WORKER_CAMUNDA_CLIENT_SECRET must be readable by worker_job's") for p in readers)


def test_a_checker_running_as_the_worker_is_caught(tmp_path: Path) -> None:
    config = broken_copy(
        tmp_path,
        replace(
            "incident_checker.tf",
            "service_account = google_service_account.incident_checker.email",
            "service_account = google_service_account.worker.email",
        ),
    )
    problems = wiring.check_service_accounts(config)
    # Whichever is seen first, the checker and the worker (job and pool) may not share an account.
    assert problems
    assert all("shares service account worker" in problem for problem in problems), problems
    assert any("incident_checker" in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("breaker", "expected"),
    [
        (
            replace(
                "scheduler.tf",
                'resource "google_cloud_scheduler_job" "worker" {\n  count = local.worker_on_job ? 1 : 0\n',
                'resource "google_cloud_scheduler_job" "worker" {\n',
            ),
            "google_cloud_scheduler_job.worker: count None differs from google_cloud_run_v2_job.worker's",
        ),
        (
            replace(
                "scheduler.tf",
                "jobs/${google_cloud_run_v2_job.incident_checker.name}:run",
                "jobs/${google_cloud_run_v2_job.worker[0].name}:run",
            ),
            "google_cloud_run_v2_job.incident_checker: started by 0 schedulers, expected 1",
        ),
        (
            replace("worker.tf", "count = local.worker_on_pool ? 1 : 0", "count = 1"),
            "google_cloud_run_v2_worker_pool.worker: count 1 is not local.worker_on_pool ? 1 : 0",
        ),
    ],
    ids=["trigger-without-its-job", "checker-never-started", "pool-always-on"],
)
def test_worker_runtime_and_trigger_mistakes_are_caught(
    tmp_path: Path, breaker: Breaker, expected: str
) -> None:
    config = broken_copy(tmp_path, breaker)
    problems = wiring.check_scheduler(config) + wiring.check_worker_runtimes(config)
    assert expected in problems, problems
