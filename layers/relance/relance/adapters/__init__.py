"""Adapters: the implementations of the ports of :mod:`relance.ports`.

Where things go:

- a new **port** (something the core needs from outside: a store, a provider) is a small
  ``typing.Protocol`` in ``relance/ports.py``; the core types its arguments with it;
- its **AWS adapter** is a class in ``relance/adapters/aws/`` (``dynamodb.py`` for the table,
  ``services.py`` for SES, SNS, S3, SQS, Step Functions and Secrets Manager, a new module for a new service);
  only this package imports boto3 or botocore, translates their errors (``Refused``, ``ConflictError``) and
  knows the table's keys;
- the **wiring** (which adapter for which port, from the function's settings) is ``relance/wiring.py``, the
  one place a handler gets its collaborators from;
- a new **handler** is ``functions/<name>/app.py``: it parses its event, builds
  what it needs with ``relance.wiring`` and calls the core. A development or test double of a port
  (in memory, fault injection) lives outside the layer and wraps or replaces an adapter.
"""
