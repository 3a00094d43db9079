"""Operators' tools: the ``relance invoice|payment|dispute|promise|import`` commands."""
