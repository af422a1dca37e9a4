# The Zeebe workers run as a Cloud Run job: each execution long-polls for jobs until shortly before its
# task timeout, then exits cleanly; Cloud Scheduler (scheduler.tf) starts the next one. The always-on
# alternative, a Cloud Run worker pool, is compared in the README.
resource "google_cloud_run_v2_job" "worker" {
  project             = var.project_id
  name                = local.worker_job_name
  location            = var.region
  deletion_protection = false

  template {
    task_count  = var.worker_task_count
    parallelism = min(var.worker_parallelism, var.worker_task_count)

    template {
      service_account = google_service_account.worker.email
      timeout         = "${var.worker_task_timeout_seconds}s"
      max_retries     = var.worker_max_retries

      containers {
        image = local.worker_image

        resources {
          limits = {
            cpu    = var.worker_cpu
            memory = var.worker_memory
          }
        }

        dynamic "env" {
          for_each = local.worker_env
          content {
            name  = env.key
            value = env.value
          }
        }

        dynamic "env" {
          for_each = toset(local.worker_secret_env)
          content {
            name = env.value
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

  lifecycle {
    precondition {
      condition     = var.worker_task_timeout_seconds - var.worker_shutdown_margin_seconds >= 300
      error_message = "worker_task_timeout_seconds minus worker_shutdown_margin_seconds must leave the worker at least 300 s to run."
    }
  }

  depends_on = [
    google_project_service.required,
    google_secret_manager_secret_iam_member.worker,
  ]
}
