output "order_webhook_url" {
  description = "URL of the order_webhook function: set it as ORDER_WEBHOOK_URL in the Medusa backend's environment."
  value       = google_cloudfunctions2_function.function["webhook"].service_config[0].uri
}

output "status_update_url" {
  description = "URL of the private status_update function (the worker's STATUS_UPDATE_URL and ID token audience)."
  value       = google_cloudfunctions2_function.function["status"].service_config[0].uri
}

output "worker_job_name" {
  description = "Name of the worker Cloud Run job (gcloud run jobs execute NAME --region REGION starts one by hand); null when worker_runtime = worker_pool."
  value       = local.worker_on_job ? google_cloud_run_v2_job.worker[0].name : null
}

output "worker_pool_name" {
  description = "Name of the worker pool (gcloud run worker-pools describe NAME --region REGION); null when worker_runtime = job."
  value       = local.worker_on_pool ? google_cloud_run_v2_worker_pool.worker[0].name : null
}

output "incident_checker_job_name" {
  description = "Name of the incident checker Cloud Run job (gcloud run jobs execute NAME --region REGION runs a check by hand)."
  value       = google_cloud_run_v2_job.incident_checker.name
}

output "worker_builder_service_account" {
  description = "Service account to build the worker image with: gcloud builds submit --service-account projects/PROJECT/serviceAccounts/EMAIL (README, step 4)."
  value       = google_service_account.worker_builder.email
}

output "worker_build_staging_dir" {
  description = "Where gcloud builds submit stages the worker's build sources (--gcs-source-staging-dir): the only bucket path the worker builder may read."
  value       = "gs://${google_storage_bucket.sources.name}/worker-builds/source"
}

output "worker_image_repository" {
  description = "Artifact Registry path to push the worker image to (as PATH/worker:TAG)."
  value       = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.worker.repository_id}"
}

output "secret_ids" {
  description = "Secret Manager secret id per setting; add versions with gcloud secrets versions add (README)."
  value       = { for name, secret in google_secret_manager_secret.setting : name => secret.secret_id }
}

output "medusa_plugin_secrets" {
  description = "Secret Manager secret id per option of the Medusa plugin: the option must hold the same value as the secret (README, step 6). Ids only, never values."
  value       = { for option, setting in local.medusa_plugin_options : option => google_secret_manager_secret.setting[setting].secret_id }
}

output "service_accounts" {
  description = "Service account email per component."
  value = {
    webhook          = google_service_account.webhook.email
    status           = google_service_account.status.email
    worker           = google_service_account.worker.email
    incident_checker = google_service_account.incident_checker.email
    scheduler        = google_service_account.scheduler.email
    builder          = google_service_account.builder.email
    worker_builder   = google_service_account.worker_builder.email
  }
}
