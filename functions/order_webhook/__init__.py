"""Cloud Function `order_webhook`; the entry point is in main.py.

This marker keeps the two `main` modules apart for type checking; the deployed zip does not need it.
"""
