# The incident checker: `python -m worker_job.check_incidents` from the worker image, run every 5 minutes
# as a Cloud Run job (scheduler.tf). It asks Camunda's API for open incidents, whoever raised them (a
# worker out of retries, or the engine itself: an expression or timer that cannot be evaluated), and logs
# one `incident_open` line per open incident and one `incident_check` summary; when Camunda's API cannot be
# reached it logs `incident_check_failed` and exits non-zero. monitoring.tf alerts on each.
#
# It needs no VPC: it calls only Camunda's API, over the internet like any Cloud Run job without VPC egress.
# It has its own service account and its own Camunda client, which may only read (README, "Camunda
# clients"); it reads no Medusa setting and no signing secret.
locals {
  # Every 5 minutes; a check takes seconds. An incident opened just after a check is seen by the next one,
  # at most 5 minutes later, and the alert policy fires on that check's lines: within 10 minutes.
  incident_check_schedule = "*/5 * * * *"
}

resource "google_cloud_run_v2_job" "incident_checker" {
  project             = var.project_id
  name                = local.incident_checker_job_name
  location            = var.region
  deletion_protection = false

  template {
    task_count  = 1
    parallelism = 1

    template {
      service_account = google_service_account.incident_checker.email
      # A check that hangs must not overlap the next one for long.
      timeout = "240s"
      # No retry: the next scheduled check is 5 minutes away, and a failure must reach the alert, not be
      # hidden by a retry that happens to pass.
      max_retries = 0

      containers {
        image   = local.worker_image
        command = ["python"]
        args    = ["-m", "worker_job.check_incidents"]

        resources {
          limits = {
            cpu    = "1"
            memory = "512Mi"
          }
        }

        dynamic "env" {
          for_each = local.incident_checker_env
          content {
            name  = env.key
            value = env.value
          }
        }

        dynamic "env" {
          for_each = local.incident_checker_secret_env
          content {
            name = env.key
            value_source {
              secret_key_ref {
                secret  = google_secret_manager_secret.setting[env.value].secret_id
                version = local.secret_versions[env.value]
              }
            }
          }
        }
      }
    }
  }

  depends_on = [
    google_project_service.required,
    google_secret_manager_secret_iam_member.incident_checker,
    terraform_data.guards,
  ]
}
