# Secret containers only. No google_secret_manager_secret_version here: a version's value would be
# stored in the Terraform state in plain text. The shop adds versions with gcloud and copies the plugin's
# secrets into the plugin's options (README, "Secrets").
resource "google_secret_manager_secret" "setting" {
  for_each = local.secret_ids

  project   = var.project_id
  secret_id = each.value

  labels = {
    setting = lower(each.key)
  }

  replication {
    auto {}
  }

  depends_on = [google_project_service.required]
}

# Per-secret read access that matches what each component reads, nothing project-wide. The plugin tells
# its callers apart by their secrets, so the worker alone reads MEDUSA_WORKER_SECRET and the status
# function alone MEDUSA_STATUS_SECRET; each component has its own Camunda client, so each reads its own
# client secret and no other.
resource "google_secret_manager_secret_iam_member" "webhook" {
  for_each = toset(values(local.webhook_secret_env))

  project   = var.project_id
  secret_id = google_secret_manager_secret.setting[each.value].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.webhook.member
}

resource "google_secret_manager_secret_iam_member" "status" {
  for_each = toset(values(local.status_secret_env))

  project   = var.project_id
  secret_id = google_secret_manager_secret.setting[each.value].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.status.member
}

resource "google_secret_manager_secret_iam_member" "worker" {
  for_each = toset(values(local.worker_secret_env))

  project   = var.project_id
  secret_id = google_secret_manager_secret.setting[each.value].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.worker.member
}

resource "google_secret_manager_secret_iam_member" "incident_checker" {
  for_each = toset(values(local.incident_checker_secret_env))

  project   = var.project_id
  secret_id = google_secret_manager_secret.setting[each.value].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.incident_checker.member
}
