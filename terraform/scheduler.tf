# Cloud Scheduler starts the worker job (when worker_runtime = "job") and the incident checker through the
# Cloud Run Admin API (jobs:run), authenticated with an OAuth token of its own service account, which may
# run these two jobs and nothing else.
#
# Retries cover a trigger that failed (the Run API answered 5xx or timed out): up to 5 more attempts with
# backoff 15 s, 30 s, 60 s, 120 s, 240 s, all within max_retry_duration. A trigger that still fails leaves
# the worker covered by the execution started one interval earlier (worker.tf states the arithmetic).
locals {
  scheduler_retry = {
    retry_count          = 5
    min_backoff_duration = "15s"
    max_backoff_duration = "240s"
    max_retry_duration   = "600s"
  }
  # `*/N` in the minute field, or once an hour for 60.
  worker_schedule = var.worker_start_interval_minutes == 60 ? "0 * * * *" : "*/${var.worker_start_interval_minutes} * * * *"
}

resource "google_cloud_run_v2_job_iam_member" "scheduler_runs_worker" {
  count = local.worker_on_job ? 1 : 0

  project  = var.project_id
  location = google_cloud_run_v2_job.worker[0].location
  name     = google_cloud_run_v2_job.worker[0].name
  role     = "roles/run.invoker"
  member   = google_service_account.scheduler.member
}

resource "google_cloud_scheduler_job" "worker" {
  count = local.worker_on_job ? 1 : 0

  project          = var.project_id
  region           = var.region
  name             = "${local.worker_job_name}-trigger"
  description      = "Starts an execution of the Zeebe worker job; executions overlap so a worker is always polling."
  schedule         = local.worker_schedule
  time_zone        = "Etc/UTC"
  attempt_deadline = "60s"

  retry_config {
    retry_count          = local.scheduler_retry.retry_count
    min_backoff_duration = local.scheduler_retry.min_backoff_duration
    max_backoff_duration = local.scheduler_retry.max_backoff_duration
    max_retry_duration   = local.scheduler_retry.max_retry_duration
  }

  http_target {
    http_method = "POST"
    uri         = "https://run.googleapis.com/v2/projects/${var.project_id}/locations/${var.region}/jobs/${google_cloud_run_v2_job.worker[0].name}:run"

    oauth_token {
      service_account_email = google_service_account.scheduler.email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }

  depends_on = [
    google_project_service.required,
    google_cloud_run_v2_job_iam_member.scheduler_runs_worker,
  ]
}

resource "google_cloud_run_v2_job_iam_member" "scheduler_runs_incident_checker" {
  project  = var.project_id
  location = google_cloud_run_v2_job.incident_checker.location
  name     = google_cloud_run_v2_job.incident_checker.name
  role     = "roles/run.invoker"
  member   = google_service_account.scheduler.member
}

resource "google_cloud_scheduler_job" "incident_checker" {
  project          = var.project_id
  region           = var.region
  name             = "${local.incident_checker_job_name}-trigger"
  description      = "Starts the incident checker: open incidents in Camunda are logged and alerted on."
  schedule         = local.incident_check_schedule
  time_zone        = "Etc/UTC"
  attempt_deadline = "60s"

  # A missed check is made up by the next one 5 minutes later; retries only within that interval.
  retry_config {
    retry_count          = 2
    min_backoff_duration = "15s"
    max_backoff_duration = "60s"
    max_retry_duration   = "180s"
  }

  http_target {
    http_method = "POST"
    uri         = "https://run.googleapis.com/v2/projects/${var.project_id}/locations/${var.region}/jobs/${google_cloud_run_v2_job.incident_checker.name}:run"

    oauth_token {
      service_account_email = google_service_account.scheduler.email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }

  depends_on = [
    google_project_service.required,
    google_cloud_run_v2_job_iam_member.scheduler_runs_incident_checker,
  ]
}
