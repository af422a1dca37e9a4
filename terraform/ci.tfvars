# Example values for the offline checks (checkov evaluates variables from this file). Not a real
# project; no secret values: secrets live in Secret Manager only. Every secret uses version 1, the one a
# first deployment creates (secret_versions is raised only during a rotation). A deployment starts from
# terraform.tfvars.example instead.
project_id             = "example-shop-prod"
region                 = "europe-west1"
name_prefix            = "fulfillment"
medusa_backend_url     = "https://shop-backend.example.com"
camunda_cluster_id     = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
camunda_cluster_region = "bru-2"
camunda_api_url        = "https://bru-2.zeebe.camunda.io/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
camunda_client_ids = {
  webhook          = "example-webhook-client"
  worker           = "example-worker-client"
  incident_checker = "example-incident-checker-client"
}
vpc_network                 = "shop-vpc"
vpc_subnetwork              = "shop-run-europe-west1"
worker_image_tag            = "2026.11.28-1"
alert_notification_channels = ["projects/example-shop-prod/notificationChannels/1234567890"]
