"""relance: the core of the dunning product (domain, policy engine, French law, rendering, AWS adapters).

The package knows nothing of Lambda; the handlers in ``functions/`` are thin wrappers around it.
"""

__version__ = "0.1.0"
