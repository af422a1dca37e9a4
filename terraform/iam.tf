# One service account per component; none of them is the default compute account and none gets a
# basic or admin role. Invoker grants live next to what they grant on (functions.tf, scheduler.tf),
# secret access in secrets.tf.
resource "google_service_account" "webhook" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-webhook"
  display_name = "order_webhook function"
  description  = "Runtime identity of the order_webhook function: reads its secrets, publishes to Zeebe; never calls Medusa."

  depends_on = [google_project_service.required]
}

resource "google_service_account" "status" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-status"
  display_name = "status_update function"
  description  = "Runtime identity of the status_update function: reads its secrets, calls the plugin's status route in Medusa."

  depends_on = [google_project_service.required]
}

resource "google_service_account" "worker" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-worker"
  display_name = "Zeebe worker job"
  description  = "Runtime identity of the worker Cloud Run job: reads its secrets, calls the plugin's view and cancel routes, invokes status_update."

  depends_on = [google_project_service.required]
}

resource "google_service_account" "incident_checker" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-incidents"
  display_name = "Incident checker job"
  description  = "Runtime identity of the incident checker Cloud Run job: reads its Camunda client secret; calls only Camunda's API."

  depends_on = [google_project_service.required]
}

resource "google_service_account" "scheduler" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-scheduler"
  display_name = "Worker job scheduler"
  description  = "Identity Cloud Scheduler uses to start executions of the worker job and the incident checker."

  depends_on = [google_project_service.required]
}

# Cloud Build builds the functions' containers. Without a build service account of its own, new
# projects build with the default compute account, which is too powerful.
resource "google_service_account" "builder" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-builder"
  display_name = "Function builds"
  description  = "Identity Cloud Build uses to build the two functions (the worker image has its own builder)."

  depends_on = [google_project_service.required]
}

resource "google_project_iam_member" "builder_logs" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.builder.member
}

resource "google_artifact_registry_repository_iam_member" "builder_pushes_function_images" {
  project    = var.project_id
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.builder.member
}

resource "google_storage_bucket_iam_member" "builder_reads_sources" {
  bucket = google_storage_bucket.sources.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.builder.member
}

# The worker image is built by Cloud Build as a service account of its own (README, step 4: `gcloud builds
# submit --service-account`), not Cloud Build's default account: it may write build logs, read the build
# sources gcloud stages under worker-builds/ in the sources bucket, and push to the worker repository only.
resource "google_service_account" "worker_builder" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-worker-build"
  display_name = "Worker image builds"
  description  = "Identity Cloud Build uses to build the worker image and push it to the worker repository."

  depends_on = [google_project_service.required]
}

resource "google_project_iam_member" "worker_builder_logs" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.worker_builder.member
}

resource "google_artifact_registry_repository_iam_member" "worker_builder_pushes_worker_images" {
  project    = var.project_id
  location   = google_artifact_registry_repository.worker.location
  repository = google_artifact_registry_repository.worker.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.worker_builder.member
}

resource "google_storage_bucket_iam_member" "worker_builder_reads_sources" {
  bucket = google_storage_bucket.sources.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.worker_builder.member
}

# Data Access audit logs for Secret Manager: every read of a secret value (AccessSecretVersion) and of
# secret metadata is recorded with the identity that made it. Authoritative for this one service: it
# replaces any other audit config of secretmanager.googleapis.com in the project.
resource "google_project_iam_audit_config" "secret_manager" {
  project = var.project_id
  service = "secretmanager.googleapis.com"

  audit_log_config {
    log_type = "ADMIN_READ"
  }

  audit_log_config {
    log_type = "DATA_READ"
  }

  audit_log_config {
    log_type = "DATA_WRITE"
  }
}
