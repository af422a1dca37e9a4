terraform {
  # 1.5 for strcontains() and check blocks; optional() object attributes need 1.3.
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.30"
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
