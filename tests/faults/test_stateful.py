"""Randomized seasons (hypothesis stateful) through the real handlers on moto, with the invariants checked
after every step:

- never two sends of one invoice-step-channel (read from what SES, SNS and S3 received);
- never a send after a recorded full payment;
- every step the engine says is due today was sent or flagged (or is retried / awaits its flag);
- no event lost: every payment, dispute and promise recorded appears in the invoice's history.

The default run is modest (15 seasons); ``make test-slow`` runs 200.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

import pytest
from faults_support import POLICY_STEPS
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from relance import runtime
from relance.errors import RelanceError
from relance.ledger import customer_context, engine_state
from relance.policy import evaluate
from relance_dev import faults
from relance_dev.embedded.shared import SHARED
from relance_dev.simulate.driver import SeasonDriver

START = dt.date(2026, 4, 8)
LAST = dt.date(2026, 6, 30)
CUSTOMERS = {
    "C1": {"id": "C1", "name": "Boulangerie Exemple SARL", "kind": "b2b", "email": "compta@boulangerie.example",
           "phone": "+33612345678", "address": "4 rue des Lilas, 69003 Lyon"},
    "C2": {"id": "C2", "name": "Jean Exemple", "kind": "b2c", "email": "jean@exemple.example",
           "address": "1 place du Marché, 75001 Paris"},
}
INVOICES = {"A1": ("C1", "2026-04-16", "1800.00"), "A2": ("C1", "2026-04-16", "600.00"),
            "B1": ("C2", "2026-04-20", "240.00")}


class Season(RuleBasedStateMachine):
    """One season on an emptied embedded AWS (the tests' shared deployment); rules are what can happen
    between and during daily runs."""

    def __init__(self) -> None:
        super().__init__()
        faults.disarm_all()
        runtime.reset_clients()
        self.aws = SHARED.get()
        self.driver = SeasonDriver(self.aws)
        self.today = START
        self.sends: Counter[tuple[str, str, str]] = Counter()
        self.paid_on: dict[str, dt.date] = {}
        self.sent_after_payment: list[tuple[str, str, dt.date]] = []
        self.expected_events: dict[str, Counter[str]] = defaultdict(Counter)
        self.payments: dict[str, list[str]] = defaultdict(list)
        self.left_behind: list[str] = []

    def teardown(self) -> None:
        faults.disarm_all()
        runtime.reset_clients()

    @initialize()
    def seed(self) -> None:
        ledger = self.driver.ledger()
        for customer in CUSTOMERS.values():
            ledger.upsert_customer(customer)
        for iid, (cid, due, amount) in INVOICES.items():
            ledger.create_invoice({"id": iid, "customer": cid, "issued": "2026-03-17", "due": due,
                                   "amount": amount}, dt.date(2026, 3, 30))
            self.expected_events[iid]["imported"] += 1

    # ---- days --------------------------------------------------------------------------------------
    def _run(self, *, duplicate: bool = False) -> None:
        self.driver.run_day(self.today, duplicate=duplicate)
        for delivery in self.driver.new_deliveries():
            if delivery.step not in POLICY_STEPS:
                continue
            for invoice in delivery.invoices:
                self.sends[(invoice, delivery.step, delivery.channel)] += 1
                if invoice in self.paid_on and self.today >= self.paid_on[invoice]:
                    self.sent_after_payment.append((invoice, delivery.step, self.today))
        self._check_nothing_left_behind(self.today)
        self.today += dt.timedelta(days=1)

    @precondition(lambda self: self.today <= LAST)
    @rule(days=st.integers(1, 3))
    def advance(self, days: int) -> None:
        for _ in range(days):
            if self.today <= LAST:
                self._run()

    @precondition(lambda self: self.today <= LAST)
    @rule()
    def duplicate_run(self) -> None:
        self._run(duplicate=True)

    @precondition(lambda self: self.today <= LAST)
    @rule(point=st.sampled_from(["after_claim", "after_send", "after_record"]))
    def crash(self, point: str) -> None:
        faults.arm(point)
        self._run()
        faults.disarm_all()        # an unused fault must not fire on a later day

    @precondition(lambda self: self.today <= LAST)
    @rule()
    def outage(self) -> None:
        self.today += dt.timedelta(days=1)            # the schedule does not fire

    # ---- what happens to invoices between runs ----------------------------------------------------------
    def _open(self, iid: str) -> bool:
        record = self.driver.store().get_invoice(iid)
        return record is not None and record.status == "open"

    @rule(iid=st.sampled_from(sorted(INVOICES)), full=st.booleans())
    def payment(self, iid: str, full: bool) -> None:
        record = self.driver.store().get_invoice(iid)
        if record is None or record.status != "open":
            return
        amount = record.balance if full else (record.balance / 3).quantize(Decimal("0.01"))
        if amount <= 0:
            return
        updated = self.driver.ledger().record_payment(iid, amount, self.today)
        self.payments[iid].append(str(amount))
        self.expected_events[iid]["payment"] += 1
        if updated.status == "paid":
            self.paid_on[iid] = self.today

    @rule(iid=st.sampled_from(sorted(INVOICES)))
    def dispute(self, iid: str) -> None:
        if self._open(iid):
            self.driver.ledger().open_dispute(iid, self.today, "livraison incomplète")
            self.expected_events[iid]["paused"] += 1

    @rule(iid=st.sampled_from(sorted(INVOICES)))
    def resolve(self, iid: str) -> None:
        if self._open(iid):
            self.driver.ledger().resolve_dispute(iid, self.today)
            self.expected_events[iid]["resumed"] += 1

    @rule(iid=st.sampled_from(sorted(INVOICES)), days=st.integers(0, 20))
    def promise(self, iid: str, days: int) -> None:
        if self._open(iid):
            with contextlib.suppress(RelanceError):
                self.driver.ledger().record_promise(iid, self.today, self.today + dt.timedelta(days=days))
                self.expected_events[iid]["paused"] += 1

    # ---- invariants ------------------------------------------------------------------------------------
    @invariant()
    def never_twice(self) -> None:
        twice = {k: n for k, n in self.sends.items() if n > 1}
        assert not twice, f"sent more than once: {twice}"

    @invariant()
    def never_after_payment(self) -> None:
        assert not self.sent_after_payment, f"sent after a full payment: {self.sent_after_payment}"

    @invariant()
    def nothing_due_is_left_behind(self) -> None:
        assert not self.left_behind, self.left_behind

    def _check_nothing_left_behind(self, day: dt.date) -> None:
        """Right after a run, the engine sees nothing due that day that was neither sent nor flagged."""
        store, ledger = self.driver.store(), self.driver.ledger()
        for cid in CUSTOMERS:
            customer = ledger.customer(cid)
            policy = ledger.policy_for(customer)
            records = [r for iid, (c, _, _) in INVOICES.items() if c == cid
                       if (r := store.get_invoice(iid)) is not None and r.status == "open"]
            ctx = customer_context(customer, records, day)
            for record in records:
                decision = evaluate(policy, engine_state(record, day), ctx, day)
                if not decision.due:
                    continue
                step = decision.due[0].step.id
                claim = _claim(store, record.invoice_id, step)
                awaiting_flag = claim is not None and claim.get("status") == "claimed"
                retried = record.send_failures > 0 and record.next_action is not None and record.next_action > day
                escalation = step == "handoff"     # hands off through the state machine, outside the driver
                if not (awaiting_flag or retried or escalation):
                    self.left_behind.append(f"{record.invoice_id}: step {step} due on {day} was neither sent nor "
                                            f"flagged (next_action {record.next_action}, claim {claim})")

    @invariant()
    def no_event_lost(self) -> None:
        store = self.driver.store()
        for iid, expected in self.expected_events.items():
            history = store.history(iid)
            kinds = Counter(str(e["kind"]) for e in history)
            for kind, count in expected.items():
                assert kinds[kind] >= count, f"{iid}: {count} {kind} recorded, {kinds[kind]} in the history"
            amounts = sorted(str(e["details"]["amount"]) for e in history if e["kind"] == "payment")
            assert amounts == sorted(self.payments[iid]), f"{iid}: payments {self.payments[iid]} vs {amounts}"


def _claim(store: Any, invoice_id: str, step: str) -> dict[str, Any] | None:
    claim = store.get_claim(invoice_id, step)
    return {"status": claim.status, "run_date": claim.run_date, "claimed_at": claim.claimed_at} if claim else None


_COMMON = {"deadline": None, "suppress_health_check": list(HealthCheck), "derandomize": False}

TestSeason = Season.TestCase
TestSeason.settings = settings(max_examples=15, stateful_step_count=12, **_COMMON)  # type: ignore[arg-type]


class LongSeason(Season):
    pass


@pytest.mark.slow
def test_long_randomized_seasons() -> None:
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(LongSeason, settings=settings(max_examples=200, stateful_step_count=30,
                                                            **_COMMON))  # type: ignore[arg-type]
