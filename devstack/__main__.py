"""`python -m devstack up | down | demo` (see devstack/cli.py)."""

from devstack.cli import main

raise SystemExit(main())
