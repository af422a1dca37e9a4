# The two HTTP functions (Cloud Run functions, 2nd gen), made from one map. Each runs as its own service
# account and gets exactly the settings its code reads (locals.tf).
locals {
  functions = {
    webhook = {
      name        = local.function_names.webhook
      description = "Receives Medusa's signed order.placed webhooks and starts the order-fulfillment process."
      entry_point = "order_webhook"
      sizing      = var.webhook_function
      # Medusa calls it from the internet (see the waiver on the resource below).
      ingress         = "ALLOW_ALL"
      service_account = google_service_account.webhook.email
      env             = local.webhook_env
      secret_env      = local.webhook_secret_env
    }
    status = {
      name        = local.function_names.status
      description = "Receives signed workflow status updates from the worker and records them through the plugin's signed status route in Medusa."
      entry_point = "status_update"
      sizing      = var.status_function
      # Private by network and by IAM: only traffic from the project's VPC (the worker's Direct VPC
      # egress, worker.tf) reaches it, only the worker's service account may invoke it, and every request
      # is signed (STATUS_UPDATE_SECRET).
      ingress         = "ALLOW_INTERNAL_ONLY"
      service_account = google_service_account.status.email
      env             = local.status_env
      secret_env      = local.status_secret_env
    }
  }
}

resource "google_cloudfunctions2_function" "function" {
  # checkov:skip=CKV_GCP_124:Only the order webhook takes ALLOW_ALL ingress: Medusa cannot mint Google ID tokens, so it is public and verifies Standard Webhooks signatures (ORDER_WEBHOOK_SECRET) before doing anything. The status function is ALLOW_INTERNAL_ONLY, which tests/terraform (check_ingress) holds it to.
  for_each = local.functions

  project     = var.project_id
  name        = each.value.name
  location    = var.region
  description = each.value.description

  build_config {
    runtime           = "python312"
    entry_point       = each.value.entry_point
    service_account   = google_service_account.builder.id
    docker_repository = google_artifact_registry_repository.functions.id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.function_source[each.key].name
      }
    }
  }

  service_config {
    available_memory                 = each.value.sizing.memory
    timeout_seconds                  = each.value.sizing.timeout_seconds
    min_instance_count               = each.value.sizing.min_instances
    max_instance_count               = each.value.sizing.max_instances
    available_cpu                    = each.value.sizing.cpu
    ingress_settings                 = each.value.ingress
    all_traffic_on_latest_revision   = true
    service_account_email            = each.value.service_account
    environment_variables            = each.value.env
    max_instance_request_concurrency = each.value.sizing.concurrency

    dynamic "secret_environment_variables" {
      for_each = each.value.secret_env
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = google_secret_manager_secret.setting[secret_environment_variables.value].secret_id
        version    = local.secret_versions[secret_environment_variables.value]
      }
    }
  }

  # Each function's own secret grants are in place before it starts; the guards stop a plan of
  # inconsistent variables before anything is built.
  depends_on = [
    google_project_service.required,
    terraform_data.guards,
    terraform_data.function_sizing,
    google_secret_manager_secret_iam_member.webhook,
    google_secret_manager_secret_iam_member.status,
    google_project_iam_member.builder_logs,
    google_artifact_registry_repository_iam_member.builder_pushes_function_images,
    google_storage_bucket_iam_member.builder_reads_sources,
  ]
}

# The functions were two resources before they came from the map: state moves, nothing is rebuilt.
moved {
  from = google_cloudfunctions2_function.webhook
  to   = google_cloudfunctions2_function.function["webhook"]
}

moved {
  from = google_cloudfunctions2_function.status
  to   = google_cloudfunctions2_function.function["status"]
}

# A 2nd gen function is served by a Cloud Run service of the same name; invoking it is run.invoker.
# The webhook is public (see the waiver above); the status function only answers the worker.
resource "google_cloud_run_v2_service_iam_member" "webhook_public" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.function["webhook"].name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

resource "google_cloud_run_v2_service_iam_member" "status_invoker_worker" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.function["status"].name
  role     = "roles/run.invoker"
  member   = google_service_account.worker.member
}
