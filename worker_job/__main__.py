"""`python -m worker_job`: runs the order-fulfillment workers until SIGTERM or the maximum runtime."""

from worker_job.app import main

raise SystemExit(main())
