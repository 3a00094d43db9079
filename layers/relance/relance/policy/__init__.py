"""Escalation policies: the YAML language (parse, validate), the engine that evaluates it, the timeline.

Public API::

    load_policy(path) -> Policy                 # PolicyError lists every FILE:LINE: message
    load_policy_text(text, name) -> Policy
    validate_files(paths) -> list[str]
    load_policies(directory) -> dict[str, Policy]
    evaluate(policy, InvoiceState, CustomerContext, today) -> Decision
    timeline(policy, due, amount, kind) -> list[dict]
"""

from relance.policy.engine import Decision, DueStep, evaluate
from relance.policy.model import CalendarSpec, Policy, RouteEntry, Step
from relance.policy.state import CustomerContext, InvoiceState
from relance.policy.timeline import timeline
from relance.policy.validate import (
    load_policies,
    load_policy,
    load_policy_text,
    validate_files,
    validate_text,
)

__all__ = [
    "CalendarSpec",
    "CustomerContext",
    "Decision",
    "DueStep",
    "InvoiceState",
    "Policy",
    "RouteEntry",
    "Step",
    "evaluate",
    "load_policies",
    "load_policy",
    "load_policy_text",
    "timeline",
    "validate_files",
    "validate_text",
]
