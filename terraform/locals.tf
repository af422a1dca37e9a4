# The settings each component reads (WebhookSettings and StatusSettings in fulfillment/settings.py,
# WorkerJobSettings in worker_job/config.py, the incident checker's settings in worker_job/check_incidents),
# split into plain environment variables and Secret Manager references. tests/terraform checks these maps against the settings classes, so keep them literal: one
# key per setting. Empty optional values are dropped below so the code's defaults apply.
locals {
  function_names = {
    webhook = "${var.name_prefix}-order-webhook"
    status  = "${var.name_prefix}-status-update"
  }
  # worker.tf: the workers run as a Cloud Run job or as a worker pool.
  worker_on_job             = var.worker_runtime == "job"
  worker_on_pool            = var.worker_runtime == "worker_pool"
  worker_job_name           = "${var.name_prefix}-worker"
  worker_pool_name          = "${var.name_prefix}-worker"
  incident_checker_job_name = "${var.name_prefix}-incidents"

  # The webhook makes no call to Medusa (the plugin signs the data the process needs into the event), so it
  # gets no Medusa setting at all.
  webhook_env_candidates = {
    ZEEBE_ADDRESS                  = var.zeebe_address
    ZEEBE_CLIENT_ID                = var.camunda_client_ids.webhook
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
    ZEEBE_CLIENT_ID                = var.camunda_client_ids.worker
    ZEEBE_AUTHORIZATION_SERVER_URL = var.zeebe_authorization_server_url
    ZEEBE_TOKEN_AUDIENCE           = var.zeebe_token_audience
    CAMUNDA_CLUSTER_ID             = var.camunda_cluster_id
    CAMUNDA_CLUSTER_REGION         = var.camunda_cluster_region
    ZEEBE_REQUEST_TIMEOUT_SECONDS  = tostring(var.zeebe_request_timeout_seconds)
    # At start the worker checks through Camunda's REST API that its model version is deployed.
    CAMUNDA_API_URL             = var.camunda_api_url
    CAMUNDA_API_AUDIENCE        = var.camunda_api_audience
    CAMUNDA_API_TIMEOUT_SECONDS = tostring(var.camunda_api_timeout_seconds)
    CAMUNDA_API_MAX_ATTEMPTS    = tostring(var.camunda_api_max_attempts)
    STATUS_UPDATE_URL           = google_cloudfunctions2_function.function["status"].service_config[0].uri
    # The status function is private: the worker sends a Google ID token with its signed request.
    STATUS_UPDATE_USE_ID_TOKEN = "true"
    # On the job: stop activating a margin before Cloud Run's task timeout so running jobs finish and the
    # task exits 0 (worker.tf). In a worker pool there is no timeout: 0 runs until Cloud Run stops it.
    WORKER_MAX_RUNTIME_SECONDS = local.worker_on_job ? tostring(var.worker_task_timeout_seconds - var.worker_shutdown_margin_seconds) : "0"
    WORKER_MAX_JOBS            = tostring(var.worker_max_jobs)
    # Capacity bounds (docs/capacity.md): calls to Medusa per second per worker process (token bucket)
    # and under way at once, and the heartbeat the "no worker polling" alert watches.
    MEDUSA_CALLS_PER_SECOND    = tostring(var.medusa_calls_per_second)
    MEDUSA_MAX_CALLS_IN_FLIGHT = tostring(var.medusa_max_calls_in_flight)
    WORKER_HEARTBEAT_SECONDS   = tostring(var.worker_heartbeat_seconds)
    # Tuning knobs left null keep the code's defaults (dropped below).
    WORKER_RETRY_BACKOFF_SECONDS     = var.worker_tuning.retry_backoff_seconds == null ? "" : tostring(var.worker_tuning.retry_backoff_seconds)
    WORKER_MAX_RETRY_BACKOFF_SECONDS = var.worker_tuning.max_retry_backoff_seconds == null ? "" : tostring(var.worker_tuning.max_retry_backoff_seconds)
    WORKER_JOB_TIMEOUT_SECONDS       = var.worker_tuning.job_timeout_seconds == null ? "" : tostring(var.worker_tuning.job_timeout_seconds)
    WORKER_UNHEALTHY_EXIT_SECONDS    = var.worker_tuning.unhealthy_exit_seconds == null ? "" : tostring(var.worker_tuning.unhealthy_exit_seconds)
    WORKER_POLL_TIMEOUT_SECONDS      = var.worker_tuning.poll_timeout_seconds == null ? "" : tostring(var.worker_tuning.poll_timeout_seconds)
    WORKER_NAME                      = var.worker_tuning.name == null ? "" : var.worker_tuning.name
    WORKER_OUTAGE_WINDOW_SECONDS     = var.worker_tuning.outage_window_seconds == null ? "" : tostring(var.worker_tuning.outage_window_seconds)
    WORKER_SETTLE_SECONDS            = var.worker_tuning.settle_seconds == null ? "" : tostring(var.worker_tuning.settle_seconds)
    PAYMENT_RECHECK_INTERVAL         = var.business_policy.payment_recheck_interval == null ? "" : var.business_policy.payment_recheck_interval
    PAYMENT_MAX_WAIT                 = var.business_policy.payment_max_wait == null ? "" : var.business_policy.payment_max_wait
    STOCK_POLICY                     = var.business_policy.stock_policy == null ? "" : var.business_policy.stock_policy
  }
  worker_env = { for name, value in local.worker_env_candidates : name => value if value != "" }

  # Secrets: key => Secret Manager secret id. Only references travel through Terraform; the shop adds the
  # values with gcloud (README, "Secrets"). Each plugin-route secret (MEDUSA_*_SECRET) and
  # ORDER_WEBHOOK_SECRET is read by one component only: the plugin tells its callers apart by the secret
  # they sign with. Each component has its own Camunda client (README, "Camunda clients"), so each has its
  # own client secret, which its code reads as ZEEBE_CLIENT_SECRET.
  secret_ids = {
    ORDER_WEBHOOK_SECRET                   = "${var.name_prefix}-order-webhook-secret"
    STATUS_UPDATE_SECRET                   = "${var.name_prefix}-status-update-secret"
    MEDUSA_WORKER_SECRET                   = "${var.name_prefix}-medusa-worker-secret"
    MEDUSA_STATUS_SECRET                   = "${var.name_prefix}-medusa-status-secret"
    WEBHOOK_CAMUNDA_CLIENT_SECRET          = "${var.name_prefix}-webhook-camunda-client-secret"
    WORKER_CAMUNDA_CLIENT_SECRET           = "${var.name_prefix}-worker-camunda-client-secret"
    INCIDENT_CHECKER_CAMUNDA_CLIENT_SECRET = "${var.name_prefix}-incidents-camunda-client-secret"
  }
  secret_versions = { for name in keys(local.secret_ids) : name => lookup(var.secret_versions, name, "1") }

  # Per component: environment variable => the secret (a key of secret_ids) it is read from.
  webhook_secret_env = {
    ORDER_WEBHOOK_SECRET = "ORDER_WEBHOOK_SECRET"
    ZEEBE_CLIENT_SECRET  = "WEBHOOK_CAMUNDA_CLIENT_SECRET"
  }
  status_secret_env = {
    STATUS_UPDATE_SECRET = "STATUS_UPDATE_SECRET"
    MEDUSA_STATUS_SECRET = "MEDUSA_STATUS_SECRET"
  }
  worker_secret_env = {
    STATUS_UPDATE_SECRET = "STATUS_UPDATE_SECRET"
    MEDUSA_WORKER_SECRET = "MEDUSA_WORKER_SECRET"
    ZEEBE_CLIENT_SECRET  = "WORKER_CAMUNDA_CLIENT_SECRET"
  }
  incident_checker_secret_env = {
    ZEEBE_CLIENT_SECRET = "INCIDENT_CHECKER_CAMUNDA_CLIENT_SECRET"
  }

  # The incident checker reads open incidents through Camunda's REST API with its own client (OAuth: the
  # token endpoint of a self-managed Camunda, or Camunda SaaS's from the cluster id and region).
  incident_checker_env_candidates = {
    CAMUNDA_API_URL                = var.camunda_api_url
    CAMUNDA_API_AUDIENCE           = var.camunda_api_audience
    CAMUNDA_API_TIMEOUT_SECONDS    = tostring(var.camunda_api_timeout_seconds)
    CAMUNDA_API_MAX_ATTEMPTS       = tostring(var.camunda_api_max_attempts)
    ZEEBE_TOKEN_AUDIENCE           = var.zeebe_token_audience
    ZEEBE_CLIENT_ID                = var.camunda_client_ids.incident_checker
    ZEEBE_AUTHORIZATION_SERVER_URL = var.zeebe_authorization_server_url
    CAMUNDA_CLUSTER_ID             = var.camunda_cluster_id
    CAMUNDA_CLUSTER_REGION         = var.camunda_cluster_region
  }
  incident_checker_env = { for name, value in local.incident_checker_env_candidates : name => value if value != "" }

  # The plugin option in the shop's medusa-config.ts that must hold the same value as each secret.
  medusa_plugin_options = {
    webhookSecret = "ORDER_WEBHOOK_SECRET"
    workerSecret  = "MEDUSA_WORKER_SECRET"
    statusSecret  = "MEDUSA_STATUS_SECRET"
  }

  worker_image = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.worker.repository_id}/worker${startswith(var.worker_image_tag, "sha256:") ? "@" : ":"}${var.worker_image_tag}"
}
