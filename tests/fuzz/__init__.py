"""Fuzz tests: generated requests against the served functions."""
