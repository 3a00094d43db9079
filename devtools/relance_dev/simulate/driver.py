"""Drives days through the real handlers on the embedded AWS, and reads back what AWS received.

A day is: the scheduled event reaches ``DailyRunFunction`` (twice when a duplicate is simulated), then the
work queue is drained into ``DispatchFunction`` as SQS would deliver it (batches of up to 10 records,
partial batch failures redelivered, then the dead-letter queue). What went out is then read from the
embedded SES, SNS and S3, never from the handlers' own account of it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from relance import runtime
from relance.ledger import Ledger
from relance.settings import Settings
from relance.store import Store

DISPATCH = "DispatchFunction"
DAILY_RUN = "DailyRunFunction"


def scheduler_event(day: dt.date) -> dict[str, Any]:
    """The payload the 08:00 Europe/Paris schedule delivers (08:00 Paris expressed in UTC)."""
    from zoneinfo import ZoneInfo

    moment = dt.datetime.combine(day, dt.time(8, 0), tzinfo=ZoneInfo("Europe/Paris")).astimezone(dt.UTC)
    return {"version": "0", "id": f"sim-{day.isoformat()}", "detail-type": "Scheduled Event",
            "source": "aws.scheduler", "account": "123456789012",
            "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "eu-west-3",
            "resources": ["arn:aws:scheduler:eu-west-3:123456789012:schedule/default/relance-daily"],
            "detail": {}}


@dataclass(frozen=True)
class Delivery:
    """One thing AWS received for a customer: an email, an SMS, a task or a letter."""

    channel: str
    customer: str
    invoices: tuple[str, ...]
    step: str
    to: str
    subject: str
    content: bytes = b""           # raw .eml for email, the PDF for letters
    attachments: tuple[tuple[str, bytes], ...] = ()
    body: str = ""


@dataclass
class SeasonDriver:
    """Runs days on an embedded AWS (``relance_dev.embedded.EmbeddedAws``) through the deployed handlers."""

    aws: Any
    _ses_seen: int = 0
    _sms_seen: set[str] = field(default_factory=set)
    _topic_seen: dict[str, int] = field(default_factory=dict)
    _letters_seen: set[str] = field(default_factory=set)
    sms_index: dict[str, tuple[str, str, tuple[str, ...]]] = field(default_factory=dict)
    """SNS message id -> (customer, step, invoices), filled by the caller from the history it reads anyway;
    an SMS missing from it is looked up with a table scan (slow, fine for a few SMS)."""
    _settled: dict[str, int] = field(default_factory=dict)
    dispatched: set[str] = field(default_factory=set)
    """Customers whose work message reached the dispatcher (since the caller last cleared it)."""
    invocation_errors: list[str] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return Settings.from_env(self.aws.function_env(DISPATCH))

    def store(self) -> Store:
        return runtime.store(self.settings)

    def ledger(self) -> Ledger:
        return runtime.ledger(self.settings)

    # ---- running -----------------------------------------------------------------------------------
    def run_day(self, day: dt.date, *, duplicate: bool = False) -> None:
        event = scheduler_event(day)
        self.aws.invoke(DAILY_RUN, event)
        if duplicate:
            self.aws.invoke(DAILY_RUN, event)
        self.drain()

    def drain(self, max_rounds: int = 1000) -> int:
        """Deliver the work queue to dispatch until it is empty. Returns the number of records handled."""
        sqs = runtime.client("sqs")
        queue_url = self.aws.resources["WorkQueue"]
        handled = 0
        for _ in range(max_rounds):
            resp = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=30,
                                       AttributeNames=["All"])
            messages = resp.get("Messages", [])
            if not messages:
                return handled
            for m in messages:
                with contextlib.suppress(ValueError, TypeError, KeyError):
                    self.dispatched.add(str(json.loads(m["Body"])["customer"]))
            event = {"Records": [_sqs_record(m, queue_url) for m in messages]}
            try:
                result = self.aws.invoke(DISPATCH, event) or {}
                failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            except Exception as exc:  # the invocation died: Lambda returns the whole batch to the queue
                self.invocation_errors.append(repr(exc))
                failed = {m["MessageId"] for m in messages}
            for m in messages:
                if m["MessageId"] in failed:
                    # As SQS would after the visibility timeout: make it visible again for a retry.
                    sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"],
                                                  VisibilityTimeout=0)
            done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages) if m["MessageId"] not in failed]
            if done:   # the event source mapping deletes a batch's successes in one call
                sqs.delete_message_batch(QueueUrl=queue_url, Entries=done)
            handled += len(messages)
        raise RuntimeError("the work queue did not drain")

    # ---- reading what AWS received -------------------------------------------------------------------
    def new_deliveries(self, day: dt.date | None = None) -> list[Delivery]:
        """Everything SES, SNS and the letters bucket received since the last call.

        With ``day``, only that day's folder of the letters bucket is listed (letters are keyed by run date),
        so a long season does not list every letter ever sent each day.
        """
        return [*self._emails(), *self._sms(), *self._tasks(), *self._letters(day)]

    def new_messages(self, day: dt.date | None = None) -> list[Delivery]:
        """Like :meth:`new_deliveries` without the SMS: read those with :meth:`new_sms` once
        :attr:`sms_index` knows the day's SMS (SNS keeps only the number and the text)."""
        return [*self._emails(), *self._tasks(), *self._letters(day)]

    def new_sms(self) -> list[Delivery]:
        return list(self._sms())

    # ---- escalations (Step Functions runs its executions in background threads) ---------------------
    def settle(self, moving: Iterable[str] = (), *, timeout: float = 60.0, quiet: float = 0.1) -> int:
        """Wait until every running escalation execution is parked on a task token with its Lambda done.

        Returns how many executions were new or moving today (0: no escalation did anything).

        New executions are read until parked; an execution named in ``moving`` (a case whose approval was
        just decided or expired) must first move past where it was parked, then park again or finish.
        Executions parked the day before and not in ``moving`` are not read again. A season is then
        deterministic: whatever the machines do for a day is in the table and in SES before it is read.
        """
        import time

        arn = self.settings.state_machine_arn
        if not arn:
            return 0
        sfn = runtime.client("stepfunctions")
        prefix = arn.replace(":stateMachine:", ":execution:") + ":"
        baseline = {prefix + name[:80]: self._settled.get(prefix + name[:80], 0) for name in moving}
        running = [e["executionArn"] for e in _paginate(sfn, "list_executions", "executions",
                                                          stateMachineArn=arn, statusFilter="RUNNING")]
        watch = sorted({a for a in running if a not in self._settled} | set(baseline))
        active = len(watch)
        deadline = time.monotonic() + timeout
        while watch:
            moving_now = []
            for execution in watch:
                events = _paginate(sfn, "get_execution_history", "events", executionArn=execution)
                done = sfn.describe_execution(executionArn=execution)["status"] != "RUNNING"
                moved = len(events) > baseline.get(execution, -1)
                stable = self._settled.get(execution) == len(events)
                if not done and not (moved and _parked(events) and stable):
                    moving_now.append(execution)
                self._settled[execution] = len(events)
            watch = moving_now
            if not watch or time.monotonic() > deadline:
                break
            time.sleep(quiet)
        return active

    def _emails(self) -> Iterator[Delivery]:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        sent = ses_backends[DEFAULT_ACCOUNT_ID][self.aws.region].sent_messages
        fresh, self._ses_seen = sent[self._ses_seen:], len(sent)
        for message in fresh:
            raw = getattr(message, "raw_data", None)
            if raw is None:
                continue
            mime = email.message_from_string(raw)
            attachments = tuple((part.get_filename() or "attachment.pdf", _bytes(part.get_payload(decode=True)))
                                for part in mime.walk() if part.get_content_type() == "application/pdf")
            from relance.keys import from_key_part  # the ids are percent-encoded in the headers

            yield Delivery("email", from_key_part(mime.get("X-Relance-Customer", "")),
                           tuple(from_key_part(i) for i in mime.get("X-Relance-Invoices", "").split(",") if i),
                           mime.get("X-Relance-Step", ""), _address(mime), _subject(mime),
                           raw.encode("utf-8"), attachments, _text_body(mime))

    def _sms(self) -> Iterator[Delivery]:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sns.models import sns_backends

        backend = sns_backends[DEFAULT_ACCOUNT_ID][self.aws.region]
        new = [(mid, sms) for mid, sms in list(backend.sms_messages.items()) if mid not in self._sms_seen]
        found = self._sent_events_for([mid for mid, _ in new if mid not in self.sms_index])
        for message_id, (phone, text) in new:
            self._sms_seen.add(message_id)
            customer, step, invoices = self.sms_index.get(message_id) or found.get(message_id) or ("", "", ())
            yield Delivery("sms", customer, invoices, step, phone, "", body=text)

    def _tasks(self) -> Iterator[Delivery]:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sns.models import sns_backends

        backend = sns_backends[DEFAULT_ACCOUNT_ID][self.aws.region]
        topic_arn = self.settings.need("task_topic_arn")
        notifications = backend.topics[topic_arn].sent_notifications
        seen = self._topic_seen.get(topic_arn, 0)
        self._topic_seen[topic_arn] = len(notifications)
        for _id, message, subject, attributes, _group in notifications[seen:]:
            attrs = {k: v.get("Value") or v.get("StringValue") for k, v in (attributes or {}).items()}
            yield Delivery("task", attrs.get("customer", ""), tuple(json.loads(attrs.get("invoices") or "[]")),
                           attrs.get("step", ""), topic_arn, subject or "", body=message)

    def _letters(self, day: dt.date | None = None) -> Iterator[Delivery]:
        s3 = runtime.client("s3")
        bucket = self.settings.letters_bucket
        prefix = f"letters/{day.isoformat()}/" if day else "letters/"
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if key in self._letters_seen:
                    continue
                self._letters_seen.add(key)
                got = s3.get_object(Bucket=bucket, Key=key)
                meta = got.get("Metadata", {})
                yield Delivery("letter", meta.get("customer", ""), tuple(meta.get("invoices", "").split(",")),
                               meta.get("step", ""), key, "", got["Body"].read())

    def _sent_events_for(self, message_ids: list[str]) -> dict[str, tuple[str, str, tuple[str, ...]]]:
        """The history events the dispatcher wrote for these SMS (SNS keeps only number and text): one
        filtered table scan per 100 SMS (the filter's ``IN`` limit), not one per SMS."""
        client = runtime.client("dynamodb")
        paginator = client.get_paginator("scan")
        found: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        for start in range(0, len(message_ids), 100):
            chunk = message_ids[start:start + 100]
            values = {f":m{i}": {"S": mid} for i, mid in enumerate(chunk)}
            for page in paginator.paginate(
                    TableName=self.settings.table_name,
                    FilterExpression=f"#k = :sent AND details.message_id IN ({', '.join(values)})",
                    ExpressionAttributeNames={"#k": "kind"},
                    ExpressionAttributeValues={":sent": {"S": "sent"}, **values}):
                for item in page["Items"]:
                    details = item["details"]["M"]
                    message_id = details["message_id"]["S"]
                    if message_id in found:
                        continue
                    invoices = tuple(v["S"] for v in details.get("invoices", {}).get("L", []))
                    invoice = item["pk"]["S"].removeprefix("INV#")
                    record = self.store().get_invoice(invoice)
                    found[message_id] = (record.customer_id if record else "", details["step"]["S"],
                                         invoices or (invoice,))
        return found


def _paginate(client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        out.extend(page.get(key, []))
    return out


def _parked(events: list[dict[str, Any]]) -> bool:
    """The execution waits for a task token (approval, partner outcome) and the task's Lambda has returned:
    moto records ``TaskSubmitted`` only once the invocation is over (the approval email is then in SES)."""
    for event in reversed(events):
        kind = str(event.get("type", ""))
        if kind == "TaskSubmitted":
            return True
        if kind.endswith("StateEntered") or kind in ("TaskScheduled", "TaskStarted"):
            return False
    return False


def _sqs_record(message: dict[str, Any], queue_url: str) -> dict[str, Any]:
    """An SQS message shaped as the Lambda event source mapping delivers it."""
    name = queue_url.rstrip("/").rsplit("/", 1)[-1]
    return {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"], "attributes": message.get("Attributes", {}),
            "messageAttributes": {}, "md5OfBody": message.get("MD5OfBody", ""), "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:eu-west-3:123456789012:{name}", "awsRegion": "eu-west-3"}


def _bytes(payload: Any) -> bytes:
    return payload if isinstance(payload, bytes) else b""


def _address(mime: Message) -> str:
    from email.utils import parseaddr

    return parseaddr(str(mime.get("To", "")))[1]


def _subject(mime: Message) -> str:
    from email.header import decode_header, make_header

    return str(make_header(decode_header(str(mime.get("Subject", "")))))


def _text_body(mime: Message) -> str:
    for part in mime.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8", "replace")
    return ""
