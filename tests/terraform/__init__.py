"""Offline checks of the Terraform config (wiring between the config and the code)."""
