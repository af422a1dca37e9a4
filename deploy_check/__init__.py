"""`make deploy-check`: proves a deployment end to end without placing an order (docs/runbook.md,
"Checking a deployment").

On Google Cloud it reads what a deployment reads (the shop's tfvars and Terraform's outputs); with
`--local` it reads devstack's run directory. Each check is a small function in `checks.py` that proves one
link of the chain and, when it fails, names what is wrong and the step to redo.
"""
