"""Adapters: implementations of the core's ports (``aws/``: boto3)."""
