"""Invariants every season's log.jsonl must satisfy (DESIGN.md), shared by the scenario tests."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from itertools import pairwise
from typing import Any

from relance.policy import Policy

# Sent once after the principal is paid, when interest or the 40 € remain (penalties_after_principal: claim):
# outside the ladder's order, and it closes the invoice the day it goes out.
STATEMENT_STEP = "penalty_statement"
TEAM_STEPS = {"flagged_claim", "approval_request", "approval_reminder", "handoff", "partner_submission",
              "escalation_declined", "escalation_suspended", "letters_to_post", "bank_unmatched", "debtor_reply"}


def day(entry: dict[str, Any]) -> dt.date:
    return dt.date.fromisoformat(entry["date"])


def customer_sends(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``sent`` lines of the policy's steps (messages to customers and their call tasks)."""
    return [e for e in lines if e["kind"] == "sent" and e.get("step") not in TEAM_STEPS]


def reminders(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reminders among the customer sends: not the one statement of penalties left once the principal is
    paid late (policy ``penalties_after_principal: claim``), which is what a late payer still owes, not a
    reminder of the principal."""
    return [e for e in customer_sends(lines) if e.get("step") != "penalty_statement"]


def check_nothing_sent_twice(lines: list[dict[str, Any]]) -> None:
    seen: dict[tuple[str, str, str], str] = {}
    for e in customer_sends(lines):
        for invoice in e["invoices"]:
            key = (invoice, e["step"], e["channel"])
            assert key not in seen, f"{key} sent on {seen[key]} and again on {e['date']}"
            seen[key] = e["date"]


def check_nothing_after_settled(lines: list[dict[str, Any]]) -> None:
    settled: dict[str, dt.date] = {}
    for e in lines:
        if e["kind"] in ("stopped", "handed_off"):
            for invoice in e["invoices"]:
                settled.setdefault(invoice, day(e))
    for e in customer_sends(lines):
        for invoice in e["invoices"]:
            if e["step"] == STATEMENT_STEP and invoice in settled:
                # closed the day it goes out (or the day its unconfirmed send is flagged, after a crash)
                assert day(e) <= settled[invoice], f"{invoice}: statement sent on {e['date']}, after it was " \
                                                   f"closed on {settled[invoice]}"
            elif invoice in settled:
                assert day(e) < settled[invoice], f"{invoice}: {e['step']} sent on {e['date']} after it was " \
                                                  f"settled on {settled[invoice]}"


def check_order_and_gaps(lines: list[dict[str, Any]], policy: Policy) -> None:
    order = [s.id for s in policy.steps]
    per_invoice: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
    for e in customer_sends(lines) + [e for e in lines if e["kind"] == "flagged"]:
        if e.get("step") == STATEMENT_STEP:
            continue
        for invoice in e["invoices"]:
            if (day(e), e["step"]) not in per_invoice[invoice]:
                per_invoice[invoice].append((day(e), e["step"]))
    for invoice, steps in per_invoice.items():
        steps.sort(key=lambda s: (s[0], order.index(s[1])))
        indexes = [order.index(s) for _, s in steps]
        assert indexes == sorted(indexes), f"{invoice}: steps out of order {steps}"
        distinct = sorted({(d, s) for d, s in steps})
        for (d1, s1), (d2, s2) in pairwise(distinct):
            if s1 != s2:
                assert (d2 - d1).days >= policy.min_gap_days, f"{invoice}: {s1} {d1} then {s2} {d2}"


def check_all(lines: list[dict[str, Any]], policy: Policy) -> None:
    check_nothing_sent_twice(lines)
    check_nothing_after_settled(lines)
    check_order_and_gaps(lines, policy)
