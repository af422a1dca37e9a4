# The settings each component reads (WebhookSettings and StatusSettings in fulfillment/settings.py,
# WorkerJobSettings in worker_job/config.py), split into plain environment variables and Secret Manager
# references. tests/terraform checks these maps against the settings classes, so keep them literal: one
# key per setting. Empty optional values are dropped below so the code's defaults apply.
locals {
  function_names = {
    webhook = "${var.name_prefix}-order-webhook"
    status  = "${var.name_prefix}-status-update"
  }
  worker_job_name = "${var.name_prefix}-worker"

  # The webhook makes no call to Medusa (the plugin signs the data the process needs into the event), so it
  # gets no Medusa setting at all.
  webhook_env_candidates = {
    ZEEBE_ADDRESS                  = var.zeebe_address
    ZEEBE_CLIENT_ID                = var.zeebe_client_id
    ZEEBE_AUTHORIZATION_SERVER_URL = var.zeebe_authorization_server_url
    ZEEBE_TOKEN_AUDIENCE           = var.zeebe_token_audience
    CAMUNDA_CLUSTER_ID             = var.camunda_cluster_id
    CAMUNDA_CLUSTER_REGION         = var.camunda_cluster_region
    ZEEBE_REQUEST_TIMEOUT_SECONDS  = tostring(var.zeebe_request_timeout_seconds)
    ORDER_MESSAGE_TTL_SECONDS      = tostring(var.order_message_ttl_seconds)
    HTTP_BODY_DEADLINE_SECONDS     = tostring(var.http_body_deadline_seconds)
    # functions-framework's server runs this many threads: one per request Cloud Run sends at once.
    THREADS = tostring(var.webhook_function.concurrency)
  }
  webhook_env = { for name, value in local.webhook_env_candidates : name => value if value != "" }

  status_env_candidates = {
    MEDUSA_BACKEND_URL         = var.medusa_backend_url
    MEDUSA_TIMEOUT_SECONDS     = tostring(var.medusa_timeout_seconds)
    MEDUSA_MAX_ATTEMPTS        = tostring(var.medusa_max_attempts)
    HTTP_BODY_DEADLINE_SECONDS = tostring(var.http_body_deadline_seconds)
    THREADS                    = tostring(var.status_function.concurrency)
  }
  status_env = { for name, value in local.status_env_candidates : name => value if value != "" }

  worker_env_candidates = {
    MEDUSA_BACKEND_URL             = var.medusa_backend_url
    MEDUSA_TIMEOUT_SECONDS         = tostring(var.medusa_timeout_seconds)
    MEDUSA_MAX_ATTEMPTS            = tostring(var.medusa_max_attempts)
    ZEEBE_ADDRESS                  = var.zeebe_address
    ZEEBE_CLIENT_ID                = var.zeebe_client_id
    ZEEBE_AUTHORIZATION_SERVER_URL = var.zeebe_authorization_server_url
    ZEEBE_TOKEN_AUDIENCE           = var.zeebe_token_audience
    CAMUNDA_CLUSTER_ID             = var.camunda_cluster_id
    CAMUNDA_CLUSTER_REGION         = var.camunda_cluster_region
    ZEEBE_REQUEST_TIMEOUT_SECONDS  = tostring(var.zeebe_request_timeout_seconds)
    STATUS_UPDATE_URL              = google_cloudfunctions2_function.status.service_config[0].uri
    # The status function is private: the worker sends a Google ID token with its signed request.
    STATUS_UPDATE_USE_ID_TOKEN = "true"
    # Stop a little before Cloud Run's task timeout so running jobs finish and the task exits 0.
    WORKER_MAX_RUNTIME_SECONDS = tostring(var.worker_task_timeout_seconds - var.worker_shutdown_margin_seconds)
    WORKER_MAX_JOBS            = tostring(var.worker_max_jobs)
    # Tuning knobs left null keep the code's defaults (dropped below).
    WORKER_RETRY_BACKOFF_SECONDS     = var.worker_tuning.retry_backoff_seconds == null ? "" : tostring(var.worker_tuning.retry_backoff_seconds)
    WORKER_MAX_RETRY_BACKOFF_SECONDS = var.worker_tuning.max_retry_backoff_seconds == null ? "" : tostring(var.worker_tuning.max_retry_backoff_seconds)
    WORKER_JOB_TIMEOUT_SECONDS       = var.worker_tuning.job_timeout_seconds == null ? "" : tostring(var.worker_tuning.job_timeout_seconds)
    WORKER_HEALTH_INTERVAL_SECONDS   = var.worker_tuning.health_interval_seconds == null ? "" : tostring(var.worker_tuning.health_interval_seconds)
    WORKER_UNHEALTHY_EXIT_SECONDS    = var.worker_tuning.unhealthy_exit_seconds == null ? "" : tostring(var.worker_tuning.unhealthy_exit_seconds)
    WORKER_POLL_TIMEOUT_SECONDS      = var.worker_tuning.poll_timeout_seconds == null ? "" : tostring(var.worker_tuning.poll_timeout_seconds)
    WORKER_NAME                      = var.worker_tuning.name == null ? "" : var.worker_tuning.name
    WORKER_OUTAGE_WINDOW_SECONDS     = var.worker_tuning.outage_window_seconds == null ? "" : tostring(var.worker_tuning.outage_window_seconds)
    PAYMENT_RECHECK_INTERVAL         = var.business_policy.payment_recheck_interval == null ? "" : var.business_policy.payment_recheck_interval
    PAYMENT_MAX_WAIT                 = var.business_policy.payment_max_wait == null ? "" : var.business_policy.payment_max_wait
    STOCK_POLICY                     = var.business_policy.stock_policy == null ? "" : var.business_policy.stock_policy
  }
  worker_env = { for name, value in local.worker_env_candidates : name => value if value != "" }

  # Secret settings: environment variable name => Secret Manager secret id. Only references travel
  # through Terraform; the shop adds the values with gcloud (README, "Secrets"). Each plugin-route secret
  # (MEDUSA_*_SECRET) and ORDER_WEBHOOK_SECRET is read by one component only: the plugin tells its callers
  # apart by the secret they sign with.
  secret_ids = {
    ORDER_WEBHOOK_SECRET = "${var.name_prefix}-order-webhook-secret"
    STATUS_UPDATE_SECRET = "${var.name_prefix}-status-update-secret"
    MEDUSA_WORKER_SECRET = "${var.name_prefix}-medusa-worker-secret"
    MEDUSA_STATUS_SECRET = "${var.name_prefix}-medusa-status-secret"
    ZEEBE_CLIENT_SECRET  = "${var.name_prefix}-zeebe-client-secret"
  }
  secret_versions = { for name in keys(local.secret_ids) : name => lookup(var.secret_versions, name, "1") }

  webhook_secret_env = ["ORDER_WEBHOOK_SECRET", "ZEEBE_CLIENT_SECRET"]
  status_secret_env  = ["STATUS_UPDATE_SECRET", "MEDUSA_STATUS_SECRET"]
  worker_secret_env  = ["STATUS_UPDATE_SECRET", "MEDUSA_WORKER_SECRET", "ZEEBE_CLIENT_SECRET"]

  # The plugin option in the shop's medusa-config.ts that must hold the same value as each secret.
  medusa_plugin_options = {
    webhookSecret = "ORDER_WEBHOOK_SECRET"
    workerSecret  = "MEDUSA_WORKER_SECRET"
    statusSecret  = "MEDUSA_STATUS_SECRET"
  }

  worker_image = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.worker.repository_id}/worker${startswith(var.worker_image_tag, "sha256:") ? "@" : ":"}${var.worker_image_tag}"
}
