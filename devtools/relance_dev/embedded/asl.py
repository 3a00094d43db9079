"""Structural checks of an Amazon States Language definition that cfn-lint does not make.

cfn-lint's E36xx rules check each state against the ASL schema (types, fields, value types) but not
the graph: a ``Next`` naming a state that does not exist, a state nothing leads to, or a state that
neither continues nor ends are only refused by Step Functions at deploy time. These are checked here,
scope by scope (the top level, each ``Parallel`` branch, each ``Map`` item processor).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

_TERMINAL_TYPES = frozenset({"Succeed", "Fail"})


def transition_problems(definition: Mapping[str, Any], where: str = "") -> list[str]:
    """Every broken transition of ``definition`` (empty when the graph is sound).

    Each problem names the path of the state (``States/A/Catch/0/Next``) and what is wrong.
    """
    return list(_scope(definition, where))


def _scope(scope: Mapping[str, Any], prefix: str) -> Iterator[str]:
    states = scope.get("States")
    at = f"{prefix}States" if prefix else "States"
    if not isinstance(states, Mapping) or not states:
        yield f"{at}: no states"
        return
    start = scope.get("StartAt")
    if start not in states:
        yield f"{prefix}StartAt: {start!r} is not a state of this scope"
    edges: dict[str, set[str]] = {name: set() for name in states}
    for name, state in states.items():
        if not isinstance(state, Mapping):
            yield f"{at}/{name}: not an object"
            continue
        path = f"{at}/{name}"
        for target_path, target in _targets(state):
            if target not in states:
                yield f"{path}/{target_path}: {target!r} is not a state of this scope"
            else:
                edges[name].add(target)
        kind = state.get("Type")
        if kind not in _TERMINAL_TYPES and kind != "Choice" and "Next" not in state and state.get("End") is not True:
            yield f"{path}: a {kind} state needs Next or End: true"
        if "Next" in state and state.get("End") is True:
            yield f"{path}: has both Next and End"
        for index, branch in enumerate(state.get("Branches") or []):
            if isinstance(branch, Mapping):
                yield from _scope(branch, f"{path}/Branches/{index}/")
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), Mapping):
                yield from _scope(state[key], f"{path}/{key}/")
    seen: set[str] = set()
    stack: list[str] = [start] if isinstance(start, str) and start in states else []
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack.extend(edges[current] - seen)
    for name in states:
        if start in states and name not in seen:
            yield f"{at}/{name}: unreachable from StartAt {start!r}"


def _targets(state: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(path, state name) of every transition a state makes."""
    if "Next" in state:
        yield "Next", state["Next"]
    if "Default" in state:
        yield "Default", state["Default"]
    for index, choice in enumerate(state.get("Choices") or []):
        if isinstance(choice, Mapping):
            yield f"Choices/{index}/Next", choice.get("Next")
    for index, catch in enumerate(state.get("Catch") or []):
        if isinstance(catch, Mapping):
            yield f"Catch/{index}/Next", catch.get("Next")
