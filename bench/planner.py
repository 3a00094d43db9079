"""The daily run's reads on a big book: the sparse due index against a naive full-table scan.

``n`` invoice state items are written straight into the table the embedded AWS deployed (BatchWriteItem,
shaped as :meth:`relance.store.Store.create_invoice` writes them; ``due_pk``/``due_sk`` only when a next
action exists), then the real DailyRunFunction handler runs for the day and every Query it makes is
counted with botocore hooks (``ScannedCount``). The baseline is what a planner without the index would
read: a Scan of the whole table filtering ``next_action <= run date``.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from bench.hooks import CallCounter, counting

RUN_DATE = dt.date(2026, 4, 16)        # a Thursday, not a holiday
DUE_SHARE = 0.01                        # invoices with an action due on the run date (brief: 1 %)
FUTURE_SHARE = 0.69                     # open invoices whose next action is later (in the index, not due)
INVOICES_PER_CUSTOMER = 4

_ser = TypeSerializer()


@dataclass
class PlannerResult:
    invoices: int
    due_expected: int
    customers_due: int
    load_s: float
    items_read: int
    items_read_not_due: int
    due_reported: int
    messages: int
    queries: int
    send_batches: int
    run_s: float
    query_s: float
    send_s: float
    scan_items_read: int
    scan_calls: int
    scan_s: float

    @property
    def per_due(self) -> float:
        return self.items_read / self.due_expected if self.due_expected else float("nan")

    @property
    def scan_ratio(self) -> float:
        return self.scan_items_read / self.items_read if self.items_read else float("inf")

    @property
    def items_per_s(self) -> float:
        """Due entries read per second of Query time (moto's time included)."""
        return self.items_read / self.query_s if self.query_s else float("inf")

    @property
    def messages_per_s(self) -> float:
        return self.messages / self.send_s if self.send_s else float("inf")

    @property
    def other_per_item_s(self) -> float:
        """Handler time outside the AWS calls, per due entry (our own code: decode, group, serialize)."""
        return max(self.run_s - self.query_s - self.send_s, 0.0) / max(self.items_read, 1)

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out.update(items_read_per_due=round(self.per_due, 4), scan_ratio=round(self.scan_ratio, 1),
                   items_per_s=round(self.items_per_s, 1), messages_per_s=round(self.messages_per_s, 1),
                   other_per_item_us=round(self.other_per_item_s * 1e6, 1))
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}


def meta_items(n: int, shards: int, seed: int = 11) -> Iterator[tuple[dict[str, Any], bool, str]]:
    """(state item, due today?, customer) for ``n`` invoices: 1 % due (some overdue by up to 3 days, as after
    an outage), 69 % with a later next action, 30 % settled (paid or written off: no next action)."""
    from relance.adapters.aws.dynamodb import due_keys, state_key

    rng = random.Random(seed)
    n_due = round(n * DUE_SHARE)
    due_ids = set(rng.sample(range(n), n_due))
    customers = max(1, n // INVOICES_PER_CUSTOMER)
    for i in range(n):
        iid, cid = f"F{i:08d}", f"C{rng.randrange(customers):07d}"
        due = RUN_DATE + dt.timedelta(days=rng.randint(-60, 30))
        amount = Decimal(rng.choice(["180.00", "640.00", "1250.00", "2400.00"]))
        item: dict[str, Any] = {
            **state_key(cid, iid), "type": "invoice",
            "data": {"id": iid, "customer": cid, "issued": (due - dt.timedelta(days=30)).isoformat(),
                     "due": due.isoformat(), "amount": str(amount), "currency": "EUR", "status": "open",
                     "balance": str(amount)},
            "status": "open", "balance": str(amount), "sent": [], "payments": [], "version": 1,
        }
        is_due = i in due_ids
        if is_due:
            nxt: dt.date | None = RUN_DATE - dt.timedelta(days=rng.choice([0, 0, 0, 1, 3]))
        elif rng.random() < FUTURE_SHARE / (1 - DUE_SHARE):
            nxt = RUN_DATE + dt.timedelta(days=rng.randint(1, 45))
        else:
            nxt = None
            item["status"] = rng.choice(["paid", "paid", "paid", "written_off"])
            item["balance"] = "0.00" if item["status"] == "paid" else item["balance"]
        if nxt is not None:
            item.update(next_action=nxt.isoformat(), **due_keys(cid, iid, nxt, shards))
        yield item, is_due, cid


def load(client: Any, table: str, n: int, shards: int) -> tuple[int, set[str], float]:
    """Write the book with BatchWriteItem (25 per call, unprocessed items retried)."""
    started = time.perf_counter()
    due = 0
    customers: set[str] = set()
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        request: dict[str, Any] = {table: batch}
        for attempt in range(10):
            unprocessed = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
            if not unprocessed:
                return
            request = unprocessed
            time.sleep(min(0.05 * 2 ** attempt, 1.0))
        raise RuntimeError("BatchWriteItem kept returning unprocessed items")

    for item, is_due, cid in meta_items(n, shards):
        if is_due:
            due += 1
            customers.add(cid)
        batch.append({"PutRequest": {"Item": {k: _ser.serialize(v) for k, v in item.items()}}})
        if len(batch) == 25:
            flush()
            batch = []
    if batch:
        flush()
    return due, customers, time.perf_counter() - started


def bench_planner(n: int) -> PlannerResult:
    """Load ``n`` invoices, run the daily run once, then the naive scan; count what each reads."""
    import contextlib
    import io

    import boto3

    from relance.settings import Settings
    from relance_dev.embedded import embedded_aws
    from relance_dev.simulate.driver import DAILY_RUN, scheduler_event

    with embedded_aws() as aws:
        settings = Settings.from_env(aws.function_env(DAILY_RUN))
        due, customers, load_s = load(aws.client("dynamodb"), settings.table_name, n, settings.due_shards)
        counter = CallCounter(label="warmup")
        with counting(counter), contextlib.redirect_stdout(io.StringIO()):
            # Warm start: import the handler and create its clients on a day with nothing due (a year ago).
            aws.invoke(DAILY_RUN, scheduler_event(RUN_DATE - dt.timedelta(days=365)))
            counter.reset()
            counter.label = "planner"
            started = time.perf_counter()
            reply = aws.invoke(DAILY_RUN, scheduler_event(RUN_DATE)) or {}
            run_s = time.perf_counter() - started
            planner_ops = counter.by_operation("planner")
            read, query_s = counter.query_scanned, counter.seconds["dynamodb.Query"]
            send_s = counter.seconds["sqs.SendMessageBatch"]
            with counter.phase("baseline"):
                ddb = boto3.client("dynamodb", region_name=aws.region)
                started = time.perf_counter()
                for _ in ddb.get_paginator("scan").paginate(
                        TableName=settings.table_name, FilterExpression="next_action <= :d",
                        ExpressionAttributeValues={":d": {"S": RUN_DATE.isoformat()}}):
                    pass
                scan_s = time.perf_counter() - started
        sqs = aws.client("sqs")
        queued = int(sqs.get_queue_attributes(QueueUrl=settings.need("queue_url"),
                                              AttributeNames=["ApproximateNumberOfMessages"])
                     ["Attributes"]["ApproximateNumberOfMessages"])
    due_reported = int(reply.get("due_invoices", -1))
    return PlannerResult(
        invoices=n, due_expected=due, customers_due=len(customers), load_s=load_s, items_read=read,
        items_read_not_due=max(read - due, 0) if due_reported == due else read,
        due_reported=due_reported, messages=queued,
        queries=planner_ops.get("dynamodb.Query", 0), send_batches=planner_ops.get("sqs.SendMessageBatch", 0),
        run_s=run_s, query_s=query_s, send_s=send_s, scan_items_read=counter.scan_scanned,
        scan_calls=counter.by_operation("baseline").get("dynamodb.Scan", 0), scan_s=scan_s)


def max_book(result: PlannerResult, limit_s: float, due_share: float = DUE_SHARE) -> int:
    """The largest book whose daily run fits in ``limit_s`` at the measured throughputs.

    Time per invoice of the book = due_share x (1/items_per_s + our code per item
    + customers per due invoice / messages_per_s). The run's fixed cost (cold start, one Query per shard)
    is taken from the measurement as the remainder of the handler's time.
    """
    per_due = 1 / result.items_per_s + result.other_per_item_s
    if result.customers_due and result.messages_per_s != float("inf"):
        per_due += (result.customers_due / max(result.due_expected, 1)) / result.messages_per_s
    return int(limit_s / (due_share * per_due))
