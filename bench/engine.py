"""Policy engine throughput: ``evaluate`` over synthetic invoices in varied states, one core."""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from decimal import Decimal

from relance.paths import policies_dir
from relance.policy import CustomerContext, InvoiceState, Policy, evaluate, load_policy

TODAY = dt.date(2026, 4, 16)
_AMOUNTS = [Decimal(a) for a in ("5.00", "35.00", "120.00", "480.00", "1250.00", "2400.00", "9800.00")]


def synthetic_states(policy: Policy, n: int, seed: int = 42) -> list[tuple[InvoiceState, CustomerContext]]:
    """``n`` invoices spread over the ladder: due from 120 days ago to 30 days ahead, 0 to all steps sent,
    with paid/written-off, below-minimum, disputed, promised and payment-plan invoices mixed in."""
    rng = random.Random(seed)
    contexts = [CustomerContext(kind=k, segment=s, case_balance=Decimal(b), overdue_invoices=o)
                for k in ("b2b", "b2c", "public") for s in (None, "key") for b, o in (("800", 1), ("7200", 4))]
    steps = [s.id for s in policy.steps]
    states: list[tuple[InvoiceState, CustomerContext]] = []
    for i in range(n):
        due = TODAY + dt.timedelta(days=rng.randint(-120, 30))
        balance = rng.choice(_AMOUNTS)
        n_sent = rng.randint(0, len(steps)) if due < TODAY else rng.randint(0, 1)
        sent, day = [], due - dt.timedelta(days=7)
        for step in steps[:n_sent]:
            if day >= TODAY:
                break
            sent.append((step, day))
            day += dt.timedelta(days=rng.randint(5, 12))
        roll = i % 20
        state = InvoiceState(
            invoice_id=f"I{i:07d}", due=due, balance=Decimal(0) if roll == 0 else balance, sent=tuple(sent),
            status="written_off" if roll == 1 else "open",
            disputed=roll == 2,
            promise_until=TODAY + dt.timedelta(days=rng.randint(-5, 10)) if roll == 3 else None,
            plan_paused_until=TODAY + dt.timedelta(days=rng.randint(0, 20)) if roll == 4 else None,
            manual_pause=roll == 5,
        )
        states.append((state, contexts[i % len(contexts)]))
    return states


def bench_engine(n: int = 100_000, repeats: int = 3) -> dict[str, float]:
    """Evaluations per second (median of ``repeats`` passes; the first pass also fills the date cache)."""
    policy = load_policy(policies_dir() / "standard.yaml")
    states = synthetic_states(policy, n)
    rates: list[float] = []
    due = 0
    for _ in range(repeats):
        started = time.perf_counter()
        due = 0
        for state, ctx in states:
            if evaluate(policy, state, ctx, TODAY).due:
                due += 1
        rates.append(n / (time.perf_counter() - started))
    return {"invoices_per_s": statistics.median(rates), "first_pass_per_s": rates[0],
            "invoices": n, "due_today": due}
