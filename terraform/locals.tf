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

  smtp_enabled = var.smtp_host != ""

  webhook_env_candidates = {
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
    # Cloud Run's file system is in memory and per task: the outbox is a debugging aid, SMTP delivers.
    NOTIFICATION_OUTBOX_DIR = "/tmp/outbox"
    SMTP_HOST               = var.smtp_host
    SMTP_PORT               = local.smtp_enabled ? tostring(var.smtp_port) : ""
    SMTP_FROM               = var.smtp_from
    SMTP_USERNAME           = var.smtp_username
  }
  worker_env = { for name, value in local.worker_env_candidates : name => value if value != "" }

  # Secret settings: environment variable name => Secret Manager secret id. Only references travel
  # through Terraform; the values are added with gcloud (README).
  secret_ids_candidates = {
    ORDER_WEBHOOK_SECRET = "${var.name_prefix}-order-webhook-secret"
    STATUS_UPDATE_SECRET = "${var.name_prefix}-status-update-secret"
    MEDUSA_API_KEY       = "${var.name_prefix}-medusa-api-key"
    ZEEBE_CLIENT_SECRET  = "${var.name_prefix}-zeebe-client-secret"
    SMTP_PASSWORD        = "${var.name_prefix}-smtp-password"
  }
  secret_ids = {
    for name, secret_id in local.secret_ids_candidates : name => secret_id
    if name != "SMTP_PASSWORD" || var.smtp_username != ""
  }
  secret_versions = { for name in keys(local.secret_ids) : name => lookup(var.secret_versions, name, "1") }

  webhook_secret_env = ["ORDER_WEBHOOK_SECRET", "MEDUSA_API_KEY", "ZEEBE_CLIENT_SECRET"]
  status_secret_env  = ["STATUS_UPDATE_SECRET", "MEDUSA_API_KEY"]

  worker_secret_env_candidates = ["STATUS_UPDATE_SECRET", "MEDUSA_API_KEY", "ZEEBE_CLIENT_SECRET", "SMTP_PASSWORD"]
  worker_secret_env            = [for name in local.worker_secret_env_candidates : name if contains(keys(local.secret_ids), name)]

  worker_image = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.worker.repository_id}/worker${startswith(var.worker_image_tag, "sha256:") ? "@" : ":"}${var.worker_image_tag}"
}
