terraform {
  # 1.5 for strcontains() and check blocks; optional() object attributes need 1.3; terraform_data 1.4.
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source = "hashicorp/google"
      # google_cloud_run_v2_worker_pool arrived in 6.37.0 and can hold 0 instances since 6.47.0. The offline
      # schema check (tools/terraform/provider_schema.py) reads the schema of 6.50.0, the lowest release
      # this admits; 7.0 changed the worker pool's schema, so the next major needs a check of its own.
      version = "~> 6.50"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = {
    app = var.name_prefix
  }
}
