"""Domain logic shared by the functions and the worker: settings and secrets, webhook signatures, the
client of the Medusa plugin's signed routes, the engine connection, and the order and workflow-status models.

Modules: settings, secrets, signatures, medusa, engine, orders, workflow, intake (start a process for an
order exactly once), status_writer (write a status into an order's metadata), http (the functions' shared
request checks and JSON answers), logs (structured JSON logs).
"""
