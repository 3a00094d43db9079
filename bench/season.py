"""A small simulated season through the real handlers on the embedded AWS, with every AWS call counted.

Customers and invoices are created through :class:`relance.ledger.Ledger` (as the API/CSV import will),
days are driven by :class:`relance_dev.simulate.driver.SeasonDriver` (scheduled event -> DailyRunFunction ->
work queue -> DispatchFunction), and what AWS received is read back from the embedded SES/SNS/S3.
Calls are attributed to phases: ``import`` (creating the book), ``events`` (payments, disputes...),
``handler:<Function>`` (inside a Lambda invocation), ``esm`` (the SQS receive/delete the Lambda event
source mapping does for dispatch) and ``observe`` (the benchmark reading moto back: not counted).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bench.hooks import CallCounter, counting

SEASON_START = dt.date(2026, 3, 30)
# A Lambda invocation also writes START, END and REPORT lines (about this many bytes) to CloudWatch Logs.
PLATFORM_LOG_BYTES_PER_INVOKE = 320


class ByteSink(io.TextIOBase):
    """A stdout stand-in that only counts what the handlers log (CloudWatch Logs ingestion)."""

    def __init__(self) -> None:
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode("utf-8"))
        return len(text)

    def writable(self) -> bool:
        return True


@dataclass
class SeasonResult:
    """What the season measured (all counts over the whole season)."""

    days: int
    invoices: int
    customers: int
    customer_messages: int = 0
    deliveries: Counter[str] = field(default_factory=Counter)
    letter_steps: Counter[str] = field(default_factory=Counter)
    invoices_messaged: int = 0
    calls: dict[str, dict[str, int]] = field(default_factory=dict)
    handler_calls: int = 0
    units: dict[str, dict[str, float]] = field(default_factory=dict)
    esm_calls: int = 0
    import_calls: int = 0
    event_calls: int = 0
    invocations: Counter[str] = field(default_factory=Counter)
    durations_s: dict[str, float] = field(default_factory=dict)
    memory_mb: dict[str, int] = field(default_factory=dict)
    log_bytes: int = 0
    email_bytes_total: int = 0
    email_attachment_bytes_total: int = 0
    sms_segments_total: int = 0
    letter_bytes_total: int = 0
    table_item_bytes: int = 0
    table_items: int = 0
    errors: list[str] = field(default_factory=list)
    workarounds: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    phase_s: Counter[str] = field(default_factory=Counter)   # wall-clock: import, events, days, observe

    def as_dict(self) -> dict[str, Any]:
        return {
            "days": self.days, "invoices": self.invoices, "customers": self.customers,
            "customer_messages": self.customer_messages, "deliveries": dict(self.deliveries),
            "letter_steps": dict(self.letter_steps),
            "invoices_messaged": self.invoices_messaged, "handler_calls": self.handler_calls,
            "esm_calls": self.esm_calls, "import_calls": self.import_calls, "event_calls": self.event_calls,
            "calls_by_phase": self.calls, "ddb_units_by_phase": self.units, "invocations": dict(self.invocations),
            "durations_s": {k: round(v, 3) for k, v in self.durations_s.items()},
            "memory_mb": self.memory_mb, "log_bytes": self.log_bytes,
            "email_bytes_total": self.email_bytes_total,
            "email_attachment_bytes_total": self.email_attachment_bytes_total,
            "sms_segments_total": self.sms_segments_total, "letter_bytes_total": self.letter_bytes_total,
            "table_items": self.table_items, "table_item_bytes": self.table_item_bytes,
            "errors": len(self.errors), "first_errors": self.errors[:5],
            "workarounds": self.workarounds, "wall_s": round(self.wall_s, 2),
            "phase_s": {k: round(v, 2) for k, v in self.phase_s.items()},
        }


def book(invoices: int, seed: int = 7, due_spread: int = 5) -> tuple[
        list[dict[str, Any]], list[dict[str, Any]], list[tuple[dt.date, str, dict[str, Any]]]]:
    """Customers, invoices and dated events of the season (deterministic for ``seed``).

    Invoices fall due 10 to ``10 + due_spread - 1`` days after the season starts (5: the 60-day season
    covers the ladder from the courtesy email to the final notice of every invoice; a longer spread is a
    book whose invoices fall due all along the season). About a third of the invoices are paid along the
    way, one is disputed and one gets a promise to pay.
    """
    rng = random.Random(seed)
    customers: list[dict[str, Any]] = []
    n_customers = max(1, invoices * 2 // 5)
    for i in range(n_customers):
        kind = ("b2b", "b2b", "b2b", "b2c", "public")[i % 5]
        customer: dict[str, Any] = {
            "id": f"C{i:03d}", "name": f"Client Exemple {i:03d} SARL", "kind": kind,
            "email": f"compta{i:03d}@client.example", "address": f"{i + 1} rue des Lilas, 69003 Lyon",
            "language": "en" if i % 7 == 6 else "fr",
        }
        if i % 3 != 2:
            customer["phone"] = f"+336{12345000 + i:08d}"
        if i % 11 == 10:
            customer.pop("email")            # reached by letter only
        customers.append(customer)
    items: list[dict[str, Any]] = []
    events: list[tuple[dt.date, str, dict[str, Any]]] = []
    for j in range(invoices):
        due = SEASON_START + dt.timedelta(days=10 + j % due_spread)
        amount = Decimal(rng.choice(["45.00", "180.00", "640.00", "1250.00", "2400.00", "8900.00"]))
        invoice = {"id": f"F2026-{j:04d}", "customer": customers[j % n_customers]["id"],
                   "issued": (due - dt.timedelta(days=30)).isoformat(), "due": due.isoformat(),
                   "amount": str(amount)}
        items.append(invoice)
        roll = j % 10
        if roll in (0, 3, 6):                     # paid in full at some point of the ladder
            paid_on = due + dt.timedelta(days=rng.choice([-3, 2, 9, 18, 33]))
            events.append((paid_on, "payment", {"invoice": invoice["id"], "amount": amount}))
        elif roll == 8:                           # partial payment
            events.append((due + dt.timedelta(days=12), "payment",
                           {"invoice": invoice["id"], "amount": (amount / 2).quantize(Decimal("0.01"))}))
    if invoices > 4:
        events.append((SEASON_START + dt.timedelta(days=20), "dispute", {"invoice": items[1]["id"]}))
        events.append((SEASON_START + dt.timedelta(days=34), "dispute_resolved", {"invoice": items[1]["id"]}))
        events.append((SEASON_START + dt.timedelta(days=22), "promise",
                       {"invoice": items[4]["id"], "until": SEASON_START + dt.timedelta(days=30)}))
    return customers, items, sorted(events, key=lambda e: e[0])


@contextlib.contextmanager
def _timed_invocations(aws: Any, counter: CallCounter, result: SeasonResult) -> Iterator[None]:
    """Wrap ``aws.invoke`` so the calls inside a handler are attributed to it, and time each invocation."""
    original: Callable[..., Any] = aws.invoke
    totals: dict[str, float] = defaultdict(float)

    def invoke(logical_id: str, event: Any, *, context: Any = None) -> Any:
        started = time.perf_counter()
        with counter.phase(f"handler:{logical_id}"):
            try:
                return original(logical_id, event, context=context)
            finally:
                totals[logical_id] += time.perf_counter() - started
                result.invocations[logical_id] += 1

    aws.invoke = invoke
    try:
        yield
    finally:
        aws.invoke = original
        result.durations_s = {k: totals[k] / result.invocations[k] for k in totals}


def run_season(invoices: int = 30, days: int = 60, due_spread: int = 5, *, fast: bool = False) -> SeasonResult:
    """Run the season on a fresh embedded AWS; return the counts the cost model needs.

    ``fast``: with the simulator's moto speed-ups (:func:`relance_dev.simulate.fastmoto.faster_moto`, as
    ``relance simulate`` runs): the same handlers, template, IAM and answers, without moto's whole-table copy
    before every transaction and its whole-table walk for every Query, which make a long season's time grow
    with the square of the table. The call counts are the same; moto's share of the durations is not.
    """
    from relance_dev.embedded import embedded_aws
    from relance_dev.simulate.driver import SeasonDriver
    from relance_dev.simulate.fastmoto import faster_moto

    customers, items, events = book(invoices, due_spread=due_spread)
    result = SeasonResult(days=days, invoices=len(items), customers=len(customers))
    counter = CallCounter(label="observe")
    sink = ByteSink()
    started = time.perf_counter()
    speedups = faster_moto() if fast else contextlib.nullcontext()
    with speedups, embedded_aws() as aws, contextlib.redirect_stdout(sink), counting(counter):
        driver = SeasonDriver(aws)
        for logical in aws.functions:
            result.memory_mb[logical] = int(aws._function_props[logical].get("MemorySize", 128))
        ledger = driver.ledger()
        result.phase_s["setup"] = time.perf_counter() - started
        mark = time.perf_counter()
        with counter.phase("import"):
            for customer in customers:
                ledger.upsert_customer(customer)
            for invoice in items:
                ledger.create_invoice(invoice, SEASON_START)
        result.phase_s["import"] = time.perf_counter() - mark
        pending = list(events)
        messaged: set[str] = set()
        messages: set[tuple[str, str, str]] = set()
        with _timed_invocations(aws, counter, result):
            for offset in range(days):
                day = SEASON_START + dt.timedelta(days=offset)
                mark = time.perf_counter()
                with counter.phase("events"):
                    while pending and pending[0][0] <= day:
                        _, kind, data = pending.pop(0)
                        _apply(ledger, kind, data, day, result)
                result.phase_s["events"] += time.perf_counter() - mark
                mark = time.perf_counter()
                with counter.phase("esm"):
                    try:
                        driver.run_day(day)
                    except Exception as exc:     # recorded, the season goes on
                        result.errors.append(f"{day}: {type(exc).__name__}: {exc}"[:300])
                result.phase_s["days"] += time.perf_counter() - mark
                mark = time.perf_counter()
                for delivery in driver.new_deliveries(day):
                    result.deliveries[delivery.channel] += 1
                    if delivery.channel == "email":
                        result.email_bytes_total += len(delivery.content)
                        result.email_attachment_bytes_total += sum(len(c) for _, c in delivery.attachments)
                    elif delivery.channel == "sms":
                        from relance.channels.sms import sms_segments

                        result.sms_segments_total += sms_segments(delivery.body)
                    elif delivery.channel == "letter":
                        result.letter_bytes_total += len(delivery.content)
                        result.letter_steps[delivery.step] += 1
                    if delivery.channel in ("email", "sms", "letter"):
                        messages.add((day.isoformat(), delivery.customer, delivery.step))
                        messaged.update(delivery.invoices)
                result.phase_s["observe"] += time.perf_counter() - mark
        result.customer_messages = len(messages)
        result.invoices_messaged = len(messaged & {i["id"] for i in items})
        result.table_items, result.table_item_bytes = _table_size(aws, driver.settings.table_name)
    result.log_bytes = sink.bytes + PLATFORM_LOG_BYTES_PER_INVOKE * sum(result.invocations.values())
    labels = {label for label, _ in counter.calls}
    result.calls = {label: counter.by_operation(label) for label in sorted(labels)}
    for (label, kind), value in counter.units.items():
        result.units.setdefault(label, {})[kind] = round(value, 1)
    result.handler_calls = sum(counter.total(label) for label in labels if label.startswith("handler:"))
    result.esm_calls = counter.total("esm")
    result.import_calls = counter.total("import")
    result.event_calls = counter.total("events")
    result.wall_s = time.perf_counter() - started
    return result


def _apply(ledger: Any, kind: str, data: dict[str, Any], day: dt.date, result: SeasonResult) -> None:
    try:
        if kind == "payment":
            ledger.record_payment(data["invoice"], data["amount"], day)
        elif kind == "dispute":
            ledger.open_dispute(data["invoice"], day, "contested delivery")
        elif kind == "dispute_resolved":
            ledger.resolve_dispute(data["invoice"], day)
        elif kind == "promise":
            ledger.record_promise(data["invoice"], day, data["until"])
    except Exception as exc:              # an event on an invoice already settled: recorded, not fatal
        result.errors.append(f"{day} {kind} {data.get('invoice')}: {exc}"[:300])


def _table_size(aws: Any, table_name: str) -> tuple[int, int]:
    """Items in the table and their size as DynamoDB bills storage (moto's item size + 100 bytes each)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][aws.region].get_table(table_name)
    items = table.all_items()
    return len(items), sum(item.size() + 100 for item in items)
