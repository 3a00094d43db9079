"""Fault injection points for the simulator and the fault tests.

Production never arms a fault: ``maybe_fail`` is a dictionary lookup that does nothing unless a test or a
simulated season armed that point. This lets whole seasons prove what happens when dispatch dies between
a send and its record.
"""

from __future__ import annotations

from collections import Counter

_armed: Counter[str] = Counter()


class InjectedCrash(RuntimeError):
    """Raised at an armed point: stands for a Lambda that died there."""


def arm(point: str, times: int = 1) -> None:
    _armed[point] += times


def disarm_all() -> None:
    _armed.clear()


def maybe_fail(point: str) -> None:
    if _armed[point] > 0:
        _armed[point] -= 1
        raise InjectedCrash(f"injected crash at {point}")
