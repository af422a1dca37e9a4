# The two HTTP functions (Cloud Run functions, 2nd gen). Each runs as its own service account and gets
# exactly the settings its code reads (locals.tf).
resource "google_cloudfunctions2_function" "webhook" {
  # checkov:skip=CKV_GCP_124:Medusa cannot mint Google ID tokens, so the webhook is public; it verifies Standard Webhooks signatures (ORDER_WEBHOOK_SECRET) before doing anything.
  project     = var.project_id
  name        = local.function_names.webhook
  location    = var.region
  description = "Receives Medusa's signed order.placed webhooks and starts the order-fulfillment process."

  build_config {
    runtime           = "python312"
    entry_point       = "order_webhook"
    service_account   = google_service_account.builder.id
    docker_repository = google_artifact_registry_repository.functions.id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.function_source["webhook"].name
      }
    }
  }

  service_config {
    available_memory                 = var.webhook_function.memory
    timeout_seconds                  = var.webhook_function.timeout_seconds
    min_instance_count               = var.webhook_function.min_instances
    max_instance_count               = var.webhook_function.max_instances
    available_cpu                    = var.webhook_function.cpu
    ingress_settings                 = "ALLOW_ALL"
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.webhook.email
    environment_variables            = local.webhook_env
    max_instance_request_concurrency = var.webhook_function.concurrency

    dynamic "secret_environment_variables" {
      for_each = local.webhook_secret_env
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = google_secret_manager_secret.setting[secret_environment_variables.value].secret_id
        version    = local.secret_versions[secret_environment_variables.value]
      }
    }
  }

  depends_on = [
    google_project_service.required,
    terraform_data.guards,
    google_secret_manager_secret_iam_member.webhook,
    google_project_iam_member.builder_logs,
    google_artifact_registry_repository_iam_member.builder_pushes_function_images,
    google_storage_bucket_iam_member.builder_reads_sources,
  ]
}

resource "google_cloudfunctions2_function" "status" {
  project     = var.project_id
  name        = local.function_names.status
  location    = var.region
  description = "Receives signed workflow status updates from the worker and records them through the plugin's signed status route in Medusa."

  build_config {
    runtime           = "python312"
    entry_point       = "status_update"
    service_account   = google_service_account.builder.id
    docker_repository = google_artifact_registry_repository.functions.id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.function_source["status"].name
      }
    }
  }

  service_config {
    available_memory   = var.status_function.memory
    timeout_seconds    = var.status_function.timeout_seconds
    min_instance_count = var.status_function.min_instances
    max_instance_count = var.status_function.max_instances
    available_cpu      = var.status_function.cpu
    # Private by network and by IAM: only traffic from the project's VPC (the worker's Direct VPC
    # egress, worker.tf) reaches it, only the worker's service account may invoke it, and every request
    # is signed (STATUS_UPDATE_SECRET).
    ingress_settings                 = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.status.email
    environment_variables            = local.status_env
    max_instance_request_concurrency = var.status_function.concurrency

    dynamic "secret_environment_variables" {
      for_each = local.status_secret_env
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = google_secret_manager_secret.setting[secret_environment_variables.value].secret_id
        version    = local.secret_versions[secret_environment_variables.value]
      }
    }
  }

  depends_on = [
    google_project_service.required,
    google_secret_manager_secret_iam_member.status,
    google_project_iam_member.builder_logs,
    google_artifact_registry_repository_iam_member.builder_pushes_function_images,
    google_storage_bucket_iam_member.builder_reads_sources,
  ]
}

# A 2nd gen function is served by a Cloud Run service of the same name; invoking it is run.invoker.
# The webhook is public (see the waiver above); the status function only answers the worker.
resource "google_cloud_run_v2_service_iam_member" "webhook_public" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.webhook.name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

resource "google_cloud_run_v2_service_iam_member" "status_invoker_worker" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.status.name
  role     = "roles/run.invoker"
  member   = google_service_account.worker.member
}
