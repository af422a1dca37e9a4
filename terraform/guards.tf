# Rules that tie several variables together. They live here, on a resource of Terraform's built-in
# provider, so that `terraform plan` stops before creating anything, and so the offline tests can run them
# without the Google provider (tests/terraform/test_variable_validation.py plans variables.tf + guards.tf).
resource "terraform_data" "guards" {
  lifecycle {
    precondition {
      condition     = (var.camunda_cluster_id != "" && var.camunda_cluster_region != "") != (var.zeebe_address != "")
      error_message = "Set either camunda_cluster_id and camunda_cluster_region (Camunda SaaS) or zeebe_address (self-managed), not both."
    }
    precondition {
      condition     = var.zeebe_address == "" || var.zeebe_authorization_server_url != ""
      error_message = "A self-managed zeebe_address needs zeebe_authorization_server_url (OAuth)."
    }
    # An alert policy without a channel only opens incidents in the console, where nobody looks at night.
    precondition {
      condition     = length(var.alert_notification_channels) > 0 || var.alerts_without_notification
      error_message = "Set alert_notification_channels, or alerts_without_notification = true to keep alerts in the console on purpose."
    }
    # Gap-free job executions (worker.tf): an execution polls for task timeout - margin seconds; more than
    # two start intervals means one missed start is covered by the execution started before it.
    precondition {
      condition     = var.worker_runtime != "job" || var.worker_task_timeout_seconds - var.worker_shutdown_margin_seconds > 2 * 60 * var.worker_start_interval_minutes
      error_message = "worker_task_timeout_seconds - worker_shutdown_margin_seconds must exceed twice worker_start_interval_minutes, so that one missed start leaves a worker polling."
    }
    # After WORKER_MAX_RUNTIME_SECONDS the worker activates nothing new; a job it holds runs at most its job
    # timeout, and an open long poll ends within the poll timeout: both must fit in the margin, or Cloud Run
    # kills the task with jobs activated, which then wait out their timeout and run twice.
    precondition {
      condition     = var.worker_shutdown_margin_seconds >= coalesce(var.worker_tuning.job_timeout_seconds, 120) + coalesce(var.worker_tuning.poll_timeout_seconds, 5)
      error_message = "worker_shutdown_margin_seconds must be at least the job timeout plus the poll timeout (worker_tuning; defaults 120 s and 5 s)."
    }
    # The worker refuses to start otherwise (worker_job/config.py): the job that waits the settle interval
    # makes its Medusa calls within the same job timeout.
    precondition {
      condition     = coalesce(var.worker_tuning.settle_seconds, 3) <= coalesce(var.worker_tuning.job_timeout_seconds, 120) / 10
      error_message = "worker_tuning.settle_seconds must be at most a tenth of the job timeout (worker_tuning.job_timeout_seconds, default 120 s; settle default 3 s)."
    }
    precondition {
      condition     = var.stalled_order_lookback_minutes >= 2 * var.stalled_order_minutes
      error_message = "stalled_order_lookback_minutes must be at least twice stalled_order_minutes."
    }
  }
}
