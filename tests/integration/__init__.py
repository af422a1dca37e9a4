"""Integration tests: real processes on loopback (local engine, functions-framework, worker)."""
