"""The policy format as JSON schema (for editors: ``# yaml-language-server: $schema=policy.schema.json``)
and as Markdown, both generated from the condition and action registries so they never drift."""

from __future__ import annotations

import inspect
import json
from typing import Any

from relance.policy.actions import CHANNELS, PARTNERS, actions
from relance.policy.conditions import AMOUNT_SCHEMA, conditions
from relance.policy.model import PENALTIES_AFTER_PRINCIPAL
from relance.policy.registry import summary, yaml_example
from relance.policy.validate import APPROVALS, NAME_RE, STEP_ID_RE, TEMPLATE_RE, step_keys

SCHEMA_ID = "https://relance.example/policy.schema.json"
OFFSET_PATTERN = r"^due([+-]\d{1,4}d)?$"


def policy_schema() -> dict[str, Any]:
    when = {
        "type": "object",
        "description": "Named conditions; with several keys, all must hold.",
        "minProperties": 1,
        "additionalProperties": False,
        "properties": {name: {"description": summary(cls), **cls.schema} for name, cls in conditions},
    }
    route_entry = {
        "type": "object",
        "additionalProperties": False,
        "required": ["partner"],
        "properties": {
            "when": {"$ref": "#/$defs/when"},
            "partner": {"enum": list(PARTNERS)},
        },
    }
    properties: dict[str, Any] = {
        "id": {"type": "string", "pattern": STEP_ID_RE.pattern, "description": "Unique step id."},
        "at": {"type": "string", "pattern": OFFSET_PATTERN,
               "description": "Offset from the due date: due, due+Nd, due-Nd."},
        "action": {"enum": actions.names(), "default": "send", "description": "What the step does."},
        "when": {"$ref": "#/$defs/when"},
        "channels": {"type": "array", "items": {"enum": list(CHANNELS)}, "minItems": 1, "uniqueItems": True},
        "template": {"type": "string", "pattern": TEMPLATE_RE.pattern,
                     "description": "Template name in letter_templates/<lang>/ (default: the step id)."},
        "approval": {"enum": list(APPROVALS), "default": "required"},
        "route": {"type": "array", "items": {"$ref": "#/$defs/route_entry"}, "minItems": 1},
    }
    assert set(properties) == set(step_keys()), "schema and validator disagree on the step keys"
    per_action = []
    for name, action in actions:
        condition: dict[str, Any] = {"properties": {"action": {"const": name}}}
        if name != "send":        # an omitted action means send
            condition["required"] = ["action"]
        common = (*action.allowed, "id", "at", "action", "when")
        forbidden = {key: False for key in step_keys() if key not in common}
        per_action.append({"if": condition,
                           "then": {"required": list(action.required), "properties": forbidden}})
    step = {"type": "object", "additionalProperties": False, "required": ["id", "at"],
            "properties": properties, "allOf": per_action}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "relance escalation policy",
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "steps"],
        "properties": {
            "name": {"type": "string", "pattern": NAME_RE.pattern},
            "description": {"type": "string"},
            "timezone": {"type": "string", "default": "Europe/Paris"},
            "calendar": {
                "type": "object", "additionalProperties": False,
                "properties": {
                    "country": {"type": "string", "default": "FR"},
                    "subdivision": {"type": ["string", "integer"],
                                    "description": "57, 67 or 68 adds the Alsace-Moselle holidays."},
                    "skip_weekends": {"type": "boolean", "default": True},
                    "skip_holidays": {"type": "boolean", "default": True},
                },
            },
            "min_gap_days": {"type": "integer", "minimum": 0, "maximum": 365, "default": 0},
            "min_balance": {**AMOUNT_SCHEMA, "default": "0.00"},
            "penalties_after_principal": {
                "enum": list(PENALTIES_AFTER_PRINCIPAL), "default": "waive",
                "description": "When the principal is paid and late-payment interest or the 40 € indemnity "
                               "remain (C. civ. 1343-1): claim sends one « décompte des pénalités » to business "
                               "and public debtors; waive closes the invoice and records what was waived."},
            "one_message_per_day": {
                "type": "boolean", "default": False,
                "description": "Invoices of one customer due the same day at different steps go out as one "
                               "message at the most advanced step, listing each invoice with its own stage."},
            "debtor_page": {
                "type": "object", "additionalProperties": False,
                "description": "The debtor's page: pause after « déjà payé », furthest promise date.",
                "properties": {
                    "paid_pause_days": {"type": "integer", "minimum": 1, "maximum": 90, "default": 7},
                    "promise_max_days": {"type": "integer", "minimum": 1, "maximum": 90, "default": 30},
                },
            },
            "steps": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/step"}},
        },
        "$defs": {"when": when, "route_entry": route_entry, "step": step},
    }


def schema_json() -> str:
    """The committed ``policies/policy.schema.json`` text."""
    return json.dumps(policy_schema(), indent=2, ensure_ascii=False) + "\n"


def _section(kind: str, registry: Any) -> list[str]:
    lines: list[str] = []
    for name, cls in registry:
        doc = inspect.getdoc(cls) or ""
        text = doc.split("```yaml", 1)[0].strip()
        lines += [f"### `{name}` ({kind})", "", " ".join(text.split()), ""]
        if example := yaml_example(cls):
            lines += ["```yaml", example, "```", ""]
    return lines


def vocabulary_markdown() -> str:
    """The conditions and actions, from their docstrings (the generated part of ``policies/README.md``)."""
    lines = ["## Conditions (`when`)", "",
             "A `when` mapping with several keys holds when all of them hold. "
             "Amounts are quoted decimal strings.",
             ""]
    lines += _section("condition", conditions)
    lines += ["## Actions (`action`)", ""]
    lines += _section("action", actions)
    return "\n".join(lines).rstrip("\n") + "\n"
