"""`make deploy`: the first deployment to Google Cloud and every update, in one idempotent command.

The steps and their order are in steps.py; terraform/README.md ("One command: make deploy") says what each
does for the shop. The command line is in cli.py.
"""
