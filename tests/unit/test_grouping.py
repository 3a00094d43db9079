"""Routing by the case (relance.policy.grouping) and the case balance the conditions see."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from relance.ledger import customer_context
from relance.models import Customer
from relance.policy import load_policy
from relance.policy.grouping import route_case
from relance.policy.state import CustomerContext
from relance.store import InvoiceRecord

TODAY = dt.date(2026, 6, 5)


def _record(iid: str, balance: str, **state: object) -> InvoiceRecord:
    raw = {"id": iid, "customer": "C1", "issued": "2026-03-17", "due": "2026-04-16", "amount": balance}
    return InvoiceRecord(iid, "C1", raw, balance=Decimal(balance), **state)  # type: ignore[arg-type]


def test_a_case_of_4051_98_goes_to_the_commissaire_de_justice_whatever_else_is_owed() -> None:
    policy = load_policy(Path(__file__).resolve().parents[2] / "policies" / "standard.yaml", check_templates=False)
    step = policy.escalation_step()
    assert step is not None
    everything = CustomerContext(kind="b2b", case_balance=Decimal("7051.98"), overdue_invoices=2)
    assert step.route_for(everything, Decimal("4051.98")) == "collection_agency"
    assert route_case(step, everything, [Decimal("4051.98")]) == "commissaire_de_justice"
    assert route_case(step, everything, [Decimal("4051.98"), Decimal("1000.00")]) == "collection_agency"


def test_disputed_and_paused_invoices_are_outside_the_case_balance() -> None:
    customer = Customer(id="C1", name="Boulangerie", kind="b2b", email="a@b.example")
    records = [_record("A1", "4051.98"), _record("A2", "3000.00", disputed=True),
               _record("A3", "100.00", manual_pause=True), _record("A4", "50.00", to_decide="approval expired"),
               _record("A5", "70.00", promise_until=TODAY)]
    ctx = customer_context(customer, records, TODAY)
    assert ctx.case_balance == Decimal("4051.98") and ctx.overdue_invoices == 1


def test_one_message_per_day_groups_at_the_most_advanced_step_and_keeps_cases_apart() -> None:
    import dataclasses

    from relance.policy.engine import DueStep
    from relance.policy.grouping import group_due

    policy = load_policy(Path(__file__).resolve().parents[2] / "policies" / "standard.yaml", check_templates=False)
    steps = {s.id: s for s in policy.steps}
    due = [("G1", DueStep(steps["call"], TODAY, None)), ("G2", DueStep(steps["firm"], TODAY, None)),
           ("G3", DueStep(steps["call"], TODAY, None)), ("G4", DueStep(steps["handoff"], TODAY, "x"))]
    assert policy.one_message_per_day
    groups = group_due(policy, due)
    assert [(g.step.id, [i for i, _ in g.members], g.mixed) for g in groups] == [
        ("firm", ["G2", "G1", "G3"], True), ("handoff", ["G4"], False)]
    assert [d.step.id for _, d in groups[0].members] == ["firm", "call", "call"]   # each ladder its own step
    separate = dataclasses.replace(policy, one_message_per_day=False)
    assert [(g.step.id, [i for i, _ in g.members]) for g in group_due(separate, due)] == [
        ("call", ["G1", "G3"]), ("firm", ["G2"]), ("handoff", ["G4"])]
