# Where deployable artifacts live: the function source zips and the container images.
locals {
  source_bucket_name = var.source_bucket_name != "" ? var.source_bucket_name : "${var.project_id}-${var.name_prefix}-sources"
  function_zip_dir   = startswith(var.function_zip_dir, "/") ? var.function_zip_dir : "${path.module}/${var.function_zip_dir}"
  function_zips = {
    webhook = "${local.function_zip_dir}/order_webhook.zip"
    status  = "${local.function_zip_dir}/status_update.zip"
  }
}

resource "google_storage_bucket" "sources" {
  # checkov:skip=CKV_GCP_62:Access logs of a bucket that only Terraform and Cloud Build read add cost, not insight; Cloud Audit Logs record admin access.
  project                     = var.project_id
  name                        = local.source_bucket_name
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  # Old zips are only needed for a rollback shortly after a deploy.
  lifecycle_rule {
    condition {
      num_newer_versions = 5
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  dynamic "encryption" {
    for_each = var.kms_key_name == "" ? [] : [var.kms_key_name]
    content {
      default_kms_key_name = encryption.value
    }
  }

  depends_on = [google_project_service.required]
}

# The object name carries the zip's hash, so a code change is a new object and redeploys the function.
resource "google_storage_bucket_object" "function_source" {
  for_each = local.function_zips

  bucket       = google_storage_bucket.sources.name
  name         = "functions/${trimsuffix(basename(each.value), ".zip")}-${filemd5(each.value)}.zip"
  source       = each.value
  content_type = "application/zip"
}

resource "google_artifact_registry_repository" "worker" {
  project       = var.project_id
  location      = var.region
  repository_id = "${var.name_prefix}-worker"
  description   = "Container images of the Zeebe worker job."
  format        = "DOCKER"
  kms_key_name  = var.kms_key_name == "" ? null : var.kms_key_name

  docker_config {
    immutable_tags = true
  }

  depends_on = [google_project_service.required]
}

resource "google_artifact_registry_repository" "functions" {
  project       = var.project_id
  location      = var.region
  repository_id = "${var.name_prefix}-functions"
  description   = "Images Cloud Build makes from the function sources."
  format        = "DOCKER"
  kms_key_name  = var.kms_key_name == "" ? null : var.kms_key_name

  depends_on = [google_project_service.required]
}
