# Cloud Scheduler starts a worker execution through the Cloud Run Admin API (jobs:run), authenticated
# with an OAuth token of its own service account, which may run this job and nothing else.
resource "google_cloud_run_v2_job_iam_member" "scheduler_runs_worker" {
  project  = var.project_id
  location = google_cloud_run_v2_job.worker.location
  name     = google_cloud_run_v2_job.worker.name
  role     = "roles/run.invoker"
  member   = google_service_account.scheduler.member
}

resource "google_cloud_scheduler_job" "worker" {
  project          = var.project_id
  region           = var.region
  name             = "${local.worker_job_name}-trigger"
  description      = "Starts an execution of the Zeebe worker job; executions overlap so a worker is always polling."
  schedule         = var.worker_schedule
  time_zone        = var.scheduler_time_zone
  attempt_deadline = "60s"

  retry_config {
    retry_count          = 3
    min_backoff_duration = "10s"
    max_backoff_duration = "120s"
  }

  http_target {
    http_method = "POST"
    uri         = "https://run.googleapis.com/v2/projects/${var.project_id}/locations/${var.region}/jobs/${google_cloud_run_v2_job.worker.name}:run"

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
