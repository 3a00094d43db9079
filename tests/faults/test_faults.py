"""Fault injection through the real handlers on the embedded AWS: crashes, duplicates, races, throttling,
refusals and the dead-letter queue. What went out is read from what SES, SNS and S3 received."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest
from faults_support import (
    DUE,
    Season,
    assert_at_most_once,
    atomic_dynamodb_calls,
    history_kinds,
    refuse_calls,
    seed,
    throttle_responses,
)

from relance import runtime
from relance.dispatch import MAX_SEND_FAILURES
from relance.settings import Settings
from relance_dev import faults
from relance_dev.embedded import EmbeddedAws
from relance_dev.simulate.driver import DISPATCH, SeasonDriver, _sqs_record

BOTH = ("A1", "A2")
D = dt.date


# ---------------------------------------------------------------------------- crashes
@pytest.mark.parametrize("point", ["after_claim", "after_send", "after_record"])
def test_a_crash_at_any_point_never_sends_a_step_twice(season: Season, point: str) -> None:
    # Given the "due" step of A1 and A2 on 2026-04-16; When dispatch dies at `point` that day
    season.days(D(2026, 4, 8), D(2026, 4, 24),
                before=lambda day: faults.arm(point) if day == DUE else None)
    sends = season.sends()
    assert_at_most_once(season)
    due_sends = [s for s in sends if s[1] == "due"]
    flags = season.flags()
    kinds = history_kinds(season.driver, "A1")
    if point == "after_claim":
        # Nothing went out; the claim outlives the crash: never sent later, flagged once the next day.
        assert due_sends == []
        assert [day for day, _ in flags] == ["2026-04-17"] and kinds.count("flagged") == 1
    elif point == "after_send":
        assert due_sends == [("2026-04-16", "due", "email", BOTH)]
        assert [day for day, _ in flags] == ["2026-04-17"] and kinds.count("flagged") == 1
    else:
        # The record was written before the crash: the redelivery finds it, nothing to flag.
        assert due_sends == [("2026-04-16", "due", "email", BOTH)]
        assert flags == [] and "flagged" not in kinds
    # Then the ladder carries on.
    assert ("2026-04-23", "call", "email", BOTH) in sends and ("2026-04-23", "call", "task", BOTH) in sends
    assert season.driver.invocation_errors          # the crash reached the Lambda runtime


# ---------------------------------------------------------------------------- SQS delivery
def _message(customer: str, day: dt.date) -> str:
    return json.dumps({"customer": customer, "run_date": day.isoformat()})


def _deliver(aws: EmbeddedAws, *bodies: str) -> dict[str, Any]:
    """One Lambda invocation with these bodies as SQS records (distinct message ids)."""
    queue = aws.resources["WorkQueue"]
    records = [_sqs_record({"MessageId": f"m-{i}", "ReceiptHandle": f"r-{i}", "Body": body}, queue)
               for i, body in enumerate(bodies)]
    result: dict[str, Any] = aws.invoke(DISPATCH, {"Records": records})
    return result


def test_the_same_message_delivered_twice_sends_once(season: Season, embedded: EmbeddedAws) -> None:
    # In one batch (SQS at-least-once), then again in a later batch, then through the queue twice.
    assert _deliver(embedded, _message("C1", D(2026, 4, 9)), _message("C1", D(2026, 4, 9))) == {
        "batchItemFailures": []}
    _deliver(embedded, _message("C1", D(2026, 4, 9)))
    sqs = runtime.client("sqs")
    for _ in range(2):
        sqs.send_message(QueueUrl=embedded.resources["WorkQueue"], MessageBody=_message("C1", D(2026, 4, 9)))
    season.driver.drain()
    season.collect(D(2026, 4, 9))
    assert season.sends() == [("2026-04-09", "courtesy", "email", BOTH)]


def test_two_days_delivered_out_of_order(season: Season, embedded: EmbeddedAws) -> None:
    # The 04-16 message arrives before the 04-09 one (the 04-09 run was held up in a retry).
    _deliver(embedded, _message("C1", D(2026, 4, 16)))
    season.collect(D(2026, 4, 16))
    _deliver(embedded, _message("C1", D(2026, 4, 9)))
    season.collect(D(2026, 4, 9))
    # The ladder resumes one step at a time: courtesy goes out on 04-16; the late 04-09 message changes nothing.
    assert season.sends() == [("2026-04-16", "courtesy", "email", BOTH)]
    season.days(D(2026, 4, 17), D(2026, 4, 24))
    assert_at_most_once(season)
    sends = season.sends()
    assert [s[1] for s in sends] == ["courtesy", "due"]
    assert sends[1][0] >= "2026-04-21"                          # min_gap_days (5) after the late courtesy


def test_two_dispatchers_on_the_same_customer_at_once(season: Season, embedded: EmbeddedAws,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in embedded.local_env(DISPATCH).items():
        monkeypatch.setenv(key, value)
    settings = Settings.from_env()
    errors: list[BaseException] = []
    for day in (D(2026, 4, 9), D(2026, 4, 16), D(2026, 4, 23)):
        barrier = threading.Barrier(3)

        def work(day: dt.date = day, barrier: threading.Barrier = barrier) -> None:
            dispatcher = runtime.dispatcher(settings)
            barrier.wait()
            try:
                dispatcher.dispatch_customer("C1", day)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(3)]
        with atomic_dynamodb_calls():
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
        season.collect(day)
    assert not errors, errors
    assert_at_most_once(season)
    # Each invoice got each step once per channel. (Racing dispatchers may split a group: each claims some
    # invoices of the step, so the customer can get two messages that day, never one invoice twice.)
    assert sorted(season.per_invoice_step_channel()) == sorted(
        (i, step, ch) for i in BOTH for step, ch in (("courtesy", "email"), ("due", "email"), ("call", "email"),
                                                     ("call", "task")))
    for invoice in BOTH:
        record = season.driver.store().get_invoice(invoice)
        assert record is not None and [s.step for s in record.sent] == ["courtesy", "due", "call"]


# ---------------------------------------------------------------------------- throttling
def test_transient_ses_throttling_is_retried_with_backoff(season: Season) -> None:
    with throttle_responses("sesv2", "SendEmail", "TooManyRequestsException", 2, json_protocol=False) as inj:
        season.day(D(2026, 4, 9))
    assert inj.injected == 2 and len(inj.attempts) == 3         # two throttled answers, then the send
    gaps = [b - a for a, b in zip(inj.attempts, inj.attempts[1:], strict=False)]
    assert all(gap > 0.0 for gap in gaps)                      # botocore backed off between attempts
    assert season.sends() == [("2026-04-09", "courtesy", "email", BOTH)]
    assert season.driver.invocation_errors == []


def test_transient_dynamodb_throttling_is_retried(season: Season) -> None:
    # The customer's query, then the claim of both invoices and the record (each one transaction) are throttled.
    with throttle_responses("dynamodb", "Query", "ProvisionedThroughputExceededException", 2,
                            json_protocol=True) as reads, \
         throttle_responses("dynamodb", "TransactWriteItems", "ThrottlingException", 2, json_protocol=True) as tx:
        season.day(D(2026, 4, 9))
    assert reads.injected == 2 and tx.injected == 2
    assert season.sends() == [("2026-04-09", "courtesy", "email", BOTH)]
    record = season.driver.store().get_invoice("A1")
    assert record is not None and [s.step for s in record.sent] == ["courtesy"]


def test_persistent_ses_throttling_retries_the_message_then_sends_once(season: Season) -> None:
    # SES keeps throttling beyond botocore's retries: the claim is released, the SQS message comes back.
    with refuse_calls("sesv2", "SendEmail", "TooManyRequestsException", times=2) as inj:
        season.day(D(2026, 4, 9))
    assert inj.injected == 2 and len(season.driver.invocation_errors) == 2
    assert season.sends() == [("2026-04-09", "courtesy", "email", BOTH)]
    assert history_kinds(season.driver, "A1").count("sent") == 1 and "flagged" not in history_kinds(
        season.driver, "A1")


def test_dynamodb_throttling_while_recording_is_retried_by_botocore(season: Season) -> None:
    """The record after a send must not be lost to throttling: botocore retries the transaction."""
    with throttle_responses("dynamodb", "TransactWriteItems", "ThrottlingException", 4, json_protocol=True):
        season.day(D(2026, 4, 16))
    assert season.sends() == [("2026-04-16", "courtesy", "email", BOTH)]
    assert season.driver.invocation_errors == []
    assert all("courtesy" in [s.step for s in season.driver.store().get_invoice(i).sent] for i in BOTH)  # type: ignore[union-attr]


# ---------------------------------------------------------------------------- refusals
def _step_is(step: str) -> Any:
    return lambda params: any(t["Name"] == "step" and t["Value"] == step for t in params.get("EmailTags", []))


def test_ses_refusal_is_retried_then_flagged_after_max_failures(season: Season) -> None:
    with refuse_calls("sesv2", "SendEmail", "MessageRejected", when=_step_is("courtesy")) as inj:
        season.days(D(2026, 4, 9), D(2026, 4, 20))
    assert inj.injected == MAX_SEND_FAILURES                    # 04-09, 04-10, 04-13 (weekend skipped)
    kinds = history_kinds(season.driver, "A1")
    assert kinds.count("send_refused") == MAX_SEND_FAILURES and kinds.count("flagged") == 1
    # One team task per invoice of the refused message (the message listed both).
    assert sorted((day, d.invoices) for day, d in season.flags()) == [("2026-04-13", ("A1",)),
                                                                      ("2026-04-13", ("A2",))]
    assert "refused 3 times" in season.flags()[0][1].body
    # Never sent, never lost: the ladder carries on with the next step.
    assert season.sends() == [("2026-04-20", "due", "email", BOTH)]   # min_gap_days after the flag (04-13)


def test_sns_refusal_of_the_only_channel_is_retried_then_flagged(driver: SeasonDriver) -> None:
    phone_only = {"id": "C2", "name": "Client Téléphone", "kind": "b2c", "phone": "+33698765432"}
    seed(driver, phone_only, invoices=("P1",))
    season = Season(driver)
    with refuse_calls("sns", "Publish", "InvalidParameter", when=lambda p: "PhoneNumber" in p) as inj:
        season.days(D(2026, 4, 9), D(2026, 5, 8))              # firm (email -> none, sms) from 05-04
    assert inj.injected == MAX_SEND_FAILURES
    kinds = history_kinds(driver, "P1")
    assert kinds.count("send_refused") == MAX_SEND_FAILURES and kinds.count("flagged") == 1
    assert not [s for s in season.sends() if s[2] == "sms"]


def test_a_refused_second_channel_is_recorded_not_lost(season: Season) -> None:
    season.days(D(2026, 4, 9), D(2026, 4, 23))
    with refuse_calls("sns", "Publish", "OptedOut", when=lambda p: "PhoneNumber" in p):
        season.day(D(2026, 5, 4))                               # firm: email + sms; the SMS is refused
    assert ("2026-05-04", "firm", "email", BOTH) in season.sends()
    details = [e["details"] for e in season.driver.store().history("A1") if e["kind"] == "send_refused"]
    assert details and details[0]["step"] == "firm" and "OptedOut" in details[0]["reason"]


# ---------------------------------------------------------------------------- dead letters
def _dlq(aws: EmbeddedAws) -> str:
    sqs = runtime.client("sqs")
    policy = sqs.get_queue_attributes(QueueUrl=aws.resources["WorkQueue"],
                                      AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
    arn = json.loads(policy)["deadLetterTargetArn"]
    return str(sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"])


def _redrive(aws: EmbeddedAws) -> int:
    sqs = runtime.client("sqs")
    dlq, moved = _dlq(aws), 0
    while messages := sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", []):
        for m in messages:
            sqs.send_message(QueueUrl=aws.resources["WorkQueue"], MessageBody=m["Body"])
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=m["ReceiptHandle"])
            moved += 1
    return moved


@pytest.mark.parametrize("redrive_before_next_run", [True, False])
def test_a_message_failing_three_receives_goes_to_the_dlq_and_redrive_sends_once(
        season: Season, embedded: EmbeddedAws, redrive_before_next_run: bool) -> None:
    with refuse_calls("sesv2", "SendEmail", "ServiceUnavailable"):
        season.day(D(2026, 4, 9))
    assert season.sends() == [] and len(season.driver.invocation_errors) == 3   # maxReceiveCount: 3
    assert all(not season.driver.store().get_invoice(i).sent for i in BOTH)     # type: ignore[union-attr]
    if not redrive_before_next_run:
        season.day(D(2026, 4, 10))                              # the next run picks the customer up again
    assert _redrive(embedded) == 1
    season.driver.drain()
    season.collect(D(2026, 4, 10))
    season.days(D(2026, 4, 13), D(2026, 4, 14))
    assert_at_most_once(season)
    assert [s[1:] for s in season.sends()] == [("courtesy", "email", BOTH)]
    assert "flagged" not in history_kinds(season.driver, "A1")

