"""Benchmarks of relance: ``python -m bench.run`` (``make bench``) writes bench/results.json and prints it."""
