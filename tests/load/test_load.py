"""Load: 100,000 stored invoices, 1 % due, planned and dispatched through the real handlers on moto with
bounded memory. Items are seeded with BatchWriteItem straight into the table (no handler, no ledger).

Measured: wall time, items read from DynamoDB (per operation), tracemalloc peak of the planner and of the
dispatch of the due set, and the process's peak RSS. The figures are printed and written to
``$RELANCE_LOAD_FIGURES`` (default: the test's tmp folder) for docs/hardening.md.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from relance import runtime
from relance.store import due_keys
from relance_dev.embedded import EmbeddedAws
from relance_dev.simulate.driver import SeasonDriver, scheduler_event
from relance_dev.simulate.fastmoto import journaled_transactions

pytestmark = pytest.mark.slow

INVOICES = int(os.environ.get("RELANCE_LOAD_INVOICES", "100000"))
PER_CUSTOMER = 10
DUE_SHARE = 0.01
RUN = dt.date(2026, 4, 16)          # courtesy is due for the invoices due 2026-04-23 (due-7d)
NOT_YET = dt.date(2026, 9, 1)


@pytest.fixture
def counted(embedded: EmbeddedAws) -> Iterator[Counter[str]]:
    """Items returned by DynamoDB to anyone in this process, per operation (and Scan calls)."""
    runtime.reset_clients()
    counts: Counter[str] = Counter()

    def after(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        name = model.name
        counts[f"calls:{name}"] += 1
        if name in ("Query", "Scan"):
            counts[f"items:{name}"] += len(parsed.get("Items", []))
        elif name == "GetItem":
            counts["items:GetItem"] += int("Item" in parsed)
        elif name == "BatchGetItem":
            counts["items:BatchGetItem"] += sum(len(v) for v in parsed.get("Responses", {}).values())

    client = runtime.client("dynamodb")
    client.meta.events.register("after-call.dynamodb", after, unique_id="load-count")
    yield counts
    client.meta.events.unregister("after-call.dynamodb", unique_id="load-count")


def _seed(aws: EmbeddedAws, driver: SeasonDriver) -> int:
    store = driver.store()
    client, table = store.client, store.table
    customers = INVOICES // PER_CUSTOMER
    due_customers = max(1, int(customers * DUE_SHARE))
    batch: list[dict[str, Any]] = []

    def put(item: dict[str, Any]) -> None:
        batch.append({"PutRequest": {"Item": item}})
        if len(batch) == 25:
            flush()

    def flush() -> None:
        request = {table: list(batch)}
        batch.clear()
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    for c in range(customers):
        cid = f"C{c:06d}"
        put({"pk": {"S": f"CUST#{cid}"}, "sk": {"S": "PROFILE"}, "type": {"S": "customer"}, "data": {"M": {
            "id": {"S": cid}, "name": {"S": f"Client {c}"}, "kind": {"S": "b2b"}, "language": {"S": "fr"},
            "policy": {"S": "standard"}, "email": {"S": f"compta@c{c}.example"}}}})
        due = c < due_customers
        for i in range(PER_CUSTOMER):
            iid = f"F{c:06d}-{i}"
            next_action = RUN - dt.timedelta(days=7) if due else NOT_YET
            keys = due_keys(cid, iid, next_action, store.shards)
            put({"pk": {"S": f"CUST#{cid}"}, "sk": {"S": f"INV#{iid}"}, "type": {"S": "invoice"},
                 "status": {"S": "open"}, "balance": {"S": "120.00"}, "version": {"N": "1"}, "sent": {"L": []},
                 "payments": {"L": []},
                 "next_action": {"S": next_action.isoformat()}, "due_pk": {"S": keys["due_pk"]},
                 "due_sk": {"S": keys["due_sk"]},
                 "data": {"M": {"id": {"S": iid}, "customer": {"S": cid}, "issued": {"S": "2026-03-24"},
                                "due": {"S": "2026-04-23" if due else "2026-09-08"}, "amount": {"S": "120.00"}}}})
            put({"pk": {"S": f"INV#{iid}"}, "sk": {"S": "OWNER"}, "customer": {"S": cid}})
    if batch:
        flush()
    return due_customers * PER_CUSTOMER


def _measure(action: Any) -> tuple[float, int, Any]:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return time.perf_counter() - started, peak, result


def test_100k_invoices_1_percent_due(embedded: EmbeddedAws, counted: Counter[str],
                                     tmp_path: Path) -> None:
    driver = SeasonDriver(embedded)
    with journaled_transactions():
        started = time.perf_counter()
        due = _seed(embedded, driver)
        seed_seconds = time.perf_counter() - started
        # Warm the handlers up (imports, a Lambda's cold start) so that the figures are those of the work.
        embedded.invoke("DailyRunFunction", scheduler_event(dt.date(2026, 1, 2)))
        runtime.client("sqs").send_message(QueueUrl=embedded.resources["WorkQueue"], MessageBody=json.dumps(
            {"customer": "WARMUP", "run_date": "2026-01-02"}))
        driver.drain()
        counted.clear()

        plan_seconds, plan_peak, plan = _measure(lambda: embedded.invoke("DailyRunFunction", scheduler_event(RUN)))
        plan_reads = dict(counted)
        counted.clear()
        dispatch_seconds, dispatch_peak, handled = _measure(driver.drain)
        dispatch_reads = dict(counted)
        deliveries = driver.new_deliveries()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    assert plan["due_invoices"] == due and plan["customers"] == due // PER_CUSTOMER
    assert handled == due // PER_CUSTOMER and driver.invocation_errors == []
    sent = [d for d in deliveries if d.step == "courtesy"]
    assert len(sent) == due // PER_CUSTOMER                    # one grouped message per customer
    store = driver.store()
    recorded = store.get_invoice_items([f"F{c:06d}-{i}" for c in range(due // PER_CUSTOMER)
                                        for i in range(PER_CUSTOMER)])
    assert len(recorded) == due and all(item["sent"][0]["step"] == "courtesy" for item in recorded.values())
    # The cost follows the due set, never the table: no Scan, and reads bounded by the due invoices.
    assert not plan_reads.get("calls:Scan") and not dispatch_reads.get("calls:Scan")
    assert plan_reads.get("items:Query", 0) <= due + 10
    dispatch_items = sum(v for k, v in dispatch_reads.items() if k.startswith("items:"))
    assert dispatch_items <= 4 * due
    assert plan_peak < 32 * 2**20 and dispatch_peak < 256 * 2**20

    figures = {
        "invoices_stored": INVOICES, "customers": INVOICES // PER_CUSTOMER, "due_invoices": due,
        "due_customers": due // PER_CUSTOMER, "seed_seconds": round(seed_seconds, 1),
        "planner": {"seconds": round(plan_seconds, 2), "tracemalloc_peak_mb": round(plan_peak / 2**20, 1),
                    "reads": plan_reads},
        "dispatch": {"seconds": round(dispatch_seconds, 1), "tracemalloc_peak_mb": round(dispatch_peak / 2**20, 1),
                     "reads": dispatch_reads, "messages_sent": len(sent)},
        "process_peak_rss_mb": round(rss_mb, 0),
    }
    out = Path(os.environ.get("RELANCE_LOAD_FIGURES", tmp_path / "load-figures.json"))
    out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))
