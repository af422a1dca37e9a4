"""`python -m deploy --tfvars terraform/terraform.tfvars [--tag TAG] [--yes]` (what `make deploy` runs)."""

from deploy.cli import main

raise SystemExit(main())
