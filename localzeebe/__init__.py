"""A local, Zeebe-gateway-compatible BPMN engine for development and tests (never for production)."""

__version__ = "0.1.0"
