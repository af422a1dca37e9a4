# The Zeebe workers run in one of two ways, chosen by var.worker_runtime (README, "Worker: Cloud Run job
# or worker pool"):
#
# - "job" (default): a Cloud Run job that Cloud Scheduler (scheduler.tf) starts every
#   worker_start_interval_minutes. Each execution long-polls until WORKER_MAX_RUNTIME_SECONDS (task
#   timeout minus worker_shutdown_margin_seconds), then stops activating jobs, finishes the ones it holds
#   and exits 0 before the task timeout. Executions overlap by design. With the defaults (a start every 30
#   minutes, 65 minutes of polling, a task timeout of 70 minutes):
#     - at any moment the executions started 0-30 and 30-60 minutes ago are polling: 2 workers, 3 during
#       the 5 minutes after each start;
#     - a start that never happens (the scheduler's retries all failed) leaves the execution started 30
#       minutes before it polling until 35 minutes after the missed start, 5 minutes past the next start:
#       one missed start leaves no gap (guards.tf requires polling time > 2 x the interval);
#     - the worker keeps polling while the engine is unreachable (it does not exit), so an engine outage
#       ends no execution early.
# - "worker_pool": a Cloud Run worker pool with worker_pool_instances always-on instances, no scheduler,
#   no task timeout (WORKER_MAX_RUNTIME_SECONDS = 0: the worker runs until Cloud Run stops it).
#
# Both reach the private status function through Direct VPC egress (all traffic through the VPC, so the
# status function's internal ingress accepts it; Cloud NAT takes Camunda and Medusa traffic out).
resource "google_cloud_run_v2_job" "worker" {
  count = local.worker_on_job ? 1 : 0

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

      vpc_access {
        egress = "ALL_TRAFFIC"
        network_interfaces {
          network    = var.vpc_network
          subnetwork = var.vpc_subnetwork
        }
      }

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
          for_each = local.worker_secret_env
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
    google_secret_manager_secret_iam_member.worker,
    terraform_data.guards,
  ]
}

resource "google_cloud_run_v2_worker_pool" "worker" {
  count = local.worker_on_pool ? 1 : 0

  project             = var.project_id
  name                = local.worker_pool_name
  location            = var.region
  deletion_protection = false

  scaling {
    scaling_mode          = "MANUAL"
    manual_instance_count = var.worker_pool_instances
  }

  template {
    service_account = google_service_account.worker.email

    vpc_access {
      egress = "ALL_TRAFFIC"
      network_interfaces {
        network    = var.vpc_network
        subnetwork = var.vpc_subnetwork
      }
    }

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
        for_each = local.worker_secret_env
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

  depends_on = [
    google_project_service.required,
    google_secret_manager_secret_iam_member.worker,
    terraform_data.guards,
  ]
}
