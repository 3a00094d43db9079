"""Helpers of the fault-injection tests (no tests here): seeding, running days, AWS error injection."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from relance import runtime
from relance_dev.simulate.driver import Delivery, SeasonDriver

DUE = dt.date(2026, 4, 16)          # a Thursday; the standard ladder: courtesy 04-09, due 04-16, call 04-23...
CUSTOMER = {"id": "C1", "name": "Boulangerie Exemple SARL", "kind": "b2b", "email": "compta@boulangerie.example",
            "phone": "+33612345678", "address": "4 rue des Lilas, 69003 Lyon"}
POLICY_STEPS = ("courtesy", "due", "call", "firm", "formal_notice", "final_notice", "handoff")


def seed(driver: SeasonDriver, customer: dict[str, Any] | None = None, invoices: tuple[str, ...] = ("A1", "A2"),
         due: dt.date = DUE, amount: str = "1800.00") -> None:
    ledger = driver.ledger()
    data = customer or CUSTOMER
    ledger.upsert_customer(data)
    for invoice in invoices:
        ledger.create_invoice({"id": invoice, "customer": data["id"], "issued": "2026-03-17",
                               "due": due.isoformat(), "amount": amount}, dt.date(2026, 3, 30))


@dataclass
class Season:
    """Runs days and keeps every delivery with its day."""

    driver: SeasonDriver
    got: list[tuple[dt.date, Delivery]] = field(default_factory=list)

    def day(self, day: dt.date, *, duplicate: bool = False, before: Callable[[dt.date], None] | None = None) -> None:
        if before:
            before(day)
        self.driver.run_day(day, duplicate=duplicate)
        self.collect(day)

    def collect(self, day: dt.date) -> list[Delivery]:
        fresh = self.driver.new_deliveries()
        self.got += [(day, d) for d in fresh]
        return fresh

    def days(self, first: dt.date, last: dt.date, **kwargs: Any) -> None:
        day = first
        while day <= last:
            self.day(day, **kwargs)
            day += dt.timedelta(days=1)

    def sends(self) -> list[tuple[str, str, str, tuple[str, ...]]]:
        """(day, step, channel, invoices) of every customer-facing delivery (team notices excluded)."""
        return sorted((day.isoformat(), d.step, d.channel, tuple(sorted(d.invoices))) for day, d in self.got
                      if d.step in POLICY_STEPS)

    def per_invoice_step_channel(self) -> Counter[tuple[str, str, str]]:
        return Counter((invoice, d.step, d.channel) for _, d in self.got if d.step in POLICY_STEPS
                       for invoice in d.invoices)

    def flags(self) -> list[tuple[str, Delivery]]:
        return [(day.isoformat(), d) for day, d in self.got if d.step == "flagged_claim"]


def assert_at_most_once(season: Season) -> None:
    twice = {k: n for k, n in season.per_invoice_step_channel().items() if n > 1}
    assert not twice, f"sent more than once: {twice}"


def history_kinds(driver: SeasonDriver, invoice: str) -> list[str]:
    return [str(e["kind"]) for e in driver.store().history(invoice)]


# ---------------------------------------------------------------------------- AWS error injection
def aws_error(code: str, operation: str, message: str = "injected", status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


@dataclass
class Injector:
    """Counts the calls an injection saw and when (to check the backoff)."""

    remaining: int
    attempts: list[float] = field(default_factory=list)
    injected: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> bool:
        with self.lock:
            self.attempts.append(time.monotonic())
            if self.remaining > 0:
                self.remaining -= 1
                self.injected += 1
                return True
            return False


@contextlib.contextmanager
def refuse_calls(service: str, operation: str, code: str, times: int = 10**6,
                 when: Callable[[dict[str, Any]], bool] = lambda params: True) -> Iterator[Injector]:
    """``before-parameter-build`` hook on the runtime's cached client: the call raises ClientError ``code``.

    ``when`` sees the API parameters. Raised before botocore's retry handler, so it is *not* retried by
    botocore: this is the provider's final answer (a refusal, or throttling that outlasted the retries).
    """
    client = runtime.client(service)
    injector = Injector(times)
    event = f"before-parameter-build.{client.meta.service_model.service_id.hyphenize()}.{operation}"

    def hook(params: dict[str, Any], **_: Any) -> None:
        if when(params) and injector.take():
            raise aws_error(code, operation)

    client.meta.events.register(event, hook, unique_id=f"inject-{event}")
    try:
        yield injector
    finally:
        client.meta.events.unregister(event, unique_id=f"inject-{event}")


@contextlib.contextmanager
def throttle_responses(service: str, operation: str, code: str, times: int, *, json_protocol: bool) -> Iterator[
        Injector]:
    """AWS answers the HTTP request with a throttling error ``times`` times (moto does not see it).

    botocore parses it as a real AWS answer, so its retry handler (adaptive mode, backoff) applies.
    """
    client = runtime.client(service)
    injector = Injector(times)
    event = f"before-send.{client.meta.service_model.service_id.hyphenize()}.{operation}"

    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.__call__

    def answer(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        # moto answers every request from its before-send handler: throttle in its place, before it applies it.
        if event_name != event or not injector.take():
            return original(self, event_name, request, **kwargs)
        if json_protocol:
            body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected"})
            headers = {"x-amzn-ErrorType": code, "Content-Type": "application/x-amz-json-1.0"}
        else:
            body = json.dumps({"message": "injected"})
            headers = {"x-amzn-ErrorType": code, "Content-Type": "application/json"}
        return AWSResponse(request.url, 429 if code == "TooManyRequestsException" else 400, headers,
                           _Raw(body.encode()))

    BotocoreStubber.__call__ = answer  # type: ignore[method-assign]
    try:
        yield injector
    finally:
        BotocoreStubber.__call__ = original  # type: ignore[method-assign]


class _Raw:
    """What botocore reads the body of an AWSResponse from."""

    def __init__(self, data: bytes) -> None:
        self._io = io.BytesIO(data)

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._io.read()

    def read(self, *args: Any) -> bytes:
        return self._io.read(*args)


@contextlib.contextmanager
def atomic_dynamodb_calls() -> Iterator[None]:
    """Make each DynamoDB call atomic in moto, as DynamoDB guarantees (a conditional put is check-and-write).

    moto checks a condition and then writes in plain Python with no lock: two threads can both pass the check.
    Serializing moto's handling of each DynamoDB request restores the real semantics; the dispatchers still
    interleave freely between their calls.
    """
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.__call__
    lock = threading.Lock()

    def call(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        if not event_name.startswith("before-send.dynamodb."):
            return original(self, event_name, request, **kwargs)
        with lock:
            return original(self, event_name, request, **kwargs)

    BotocoreStubber.__call__ = call  # type: ignore[method-assign]
    try:
        yield
    finally:
        BotocoreStubber.__call__ = original  # type: ignore[method-assign]
