"""AWS calls of one customer message inside DispatchFunction: one invoice, and three invoices grouped.

Two customers reached by email only; the first has one invoice, the second three invoices due the same
day, so their courtesy emails go out on different days as one message each. Each day runs through the real
handlers (scheduled event -> DailyRunFunction -> queue -> DispatchFunction) on the embedded AWS, and the
calls made inside DispatchFunction are counted (the event source mapping's SQS calls are not).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bench.hooks import CallCounter, counting

SINGLE_DAY = dt.date(2026, 4, 9)       # courtesy of the one invoice due 2026-04-16 (due-7d)
GROUP_DAY = dt.date(2026, 4, 16)       # courtesy of the three invoices due 2026-04-23 (the first is paid by then)


def bench_dispatch_calls() -> dict[str, Any]:
    from relance_dev.embedded import embedded_aws
    from relance_dev.simulate.driver import SeasonDriver

    counter = CallCounter(label="setup")
    out: dict[str, Any] = {}
    with embedded_aws() as aws, contextlib.redirect_stdout(io.StringIO()), counting(counter):
        driver = SeasonDriver(aws)
        ledger = driver.ledger()
        for cid, name in (("SOLO", "Client Seul SARL"), ("TRIO", "Client Trois SARL")):
            ledger.upsert_customer({"id": cid, "name": name, "kind": "b2b", "language": "fr",
                                    "email": f"compta@{cid.lower()}.example"})
        ledger.create_invoice({"id": "S-1", "customer": "SOLO", "issued": "2026-03-17", "due": "2026-04-16",
                               "amount": "640.00"}, dt.date(2026, 4, 1))
        for n in range(3):
            ledger.create_invoice({"id": f"T-{n}", "customer": "TRIO", "issued": "2026-03-24",
                                   "due": "2026-04-23", "amount": f"{180 + 100 * n}.00"}, dt.date(2026, 4, 1))
        original: Callable[..., Any] = aws.invoke

        def invoke(logical_id: str, event: Any, *, context: Any = None) -> Any:
            with counter.phase(f"handler:{logical_id}"):
                return original(logical_id, event, context=context)

        aws.invoke = invoke
        try:
            for key, day, invoices in (("one_invoice", SINGLE_DAY, 1), ("three_invoices", GROUP_DAY, 3)):
                if key == "three_invoices":
                    ledger.record_payment("S-1", Decimal("640.00"), day - dt.timedelta(days=1), reference="bench")
                counter.reset()
                driver.run_day(day)
                sent = [d for d in driver.new_deliveries() if d.channel == "email"]
                ops = counter.by_operation("handler:DispatchFunction")
                out[key] = {"calls": sum(ops.values()), "by_operation": ops, "emails": len(sent),
                            "invoices": invoices, "grouped": bool(sent) and len(sent[0].invoices) == invoices}
        finally:
            aws.invoke = original
    return out
