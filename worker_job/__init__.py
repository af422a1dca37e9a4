"""The long-polling Zeebe workers of the order-fulfillment process (`python -m worker_job`)."""
