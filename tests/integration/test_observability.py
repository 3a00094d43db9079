"""relance.observability: redacted JSON logs with correlation ids, EMF metrics, on real handler invocations."""

from __future__ import annotations

import json
import logging
import sys
from decimal import Decimal
from typing import Any

import pytest
from aws_lambda_powertools import Metrics

from relance import observability
from relance.observability import REDACTED, count_sends, redact, redact_text
from relance_dev.embedded import EmbeddedAws

EMAIL = "jean.dupont@boulangerie-exemple.fr"
PHONES = ("+33612345678", "+33 6 12 34 56 78", "+33 (0)6 12 34 56 78", "0033 6 12 34 56 78", "06 12 34 56 78",
          "06.12.34.56.78", "06-12-34-56-78", "0612345678", "+442071838750")
IBANS = ("FR7630006000011234567890189", "FR76 3000 6000 0112 3456 7890 189", "DE89370400440532013000")
SECRETS = (EMAIL, *PHONES, *IBANS)


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _invoke(embedded: EmbeddedAws, logical: str, event: dict[str, Any]) -> Any:
    """Invoke a real handler, its Powertools log lines going to this test's (captured) stdout.

    Powertools binds its handler to the sys.stdout of the first Logger() of the process; capsys swaps
    sys.stdout per test, so the stream is pointed at the current one.
    """
    embedded.handler(logical)
    for handler in logging.getLogger("relance").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.stream = sys.stdout  # not setStream(): it flushes the previous, closed, capture
    return embedded.invoke(logical, event)


# ---------------------------------------------------------------------- the patterns
@pytest.mark.parametrize("secret", SECRETS)
def test_each_kind_of_personal_data_is_redacted(secret: str) -> None:
    # Given a sentence naming one kind of personal data; When it is redacted
    text = redact_text(f"relance pour {secret}, merci")
    # Then the data is gone and the rest of the sentence stays
    assert secret not in text and REDACTED in text and text.startswith("relance pour ")


@pytest.mark.parametrize("harmless", [
    "2026-04-16", "2026-04-16T06:00:00Z", "1 800,00 €", "1800.00", "A1", "C1-27de3c40a496b075", "SIREN 123456782",
    "arn:aws:states:eu-west-3:123456789012:stateMachine:relance-escalation", "formal_notice", "DUE#3",
    "351b7231-07d0-47ea-a9e4-cd617e560798", "AGRIFRPP",
])
def test_what_is_not_personal_data_stays_readable(harmless: str) -> None:
    # Given dates, amounts, ids and codes; When redacted; Then they are unchanged
    assert redact_text(harmless) == harmless


def test_redact_walks_nested_structures() -> None:
    # Given personal data in lists, dicts and tuples; When redacted; Then each value is replaced, the rest kept
    value = {"to": [EMAIL], "customer": {"phone": "+33612345678", "n": 3}, "iban": ("FR7630006000011234567890189",)}
    assert redact(value) == {"to": [REDACTED], "customer": {"phone": REDACTED, "n": 3}, "iban": [REDACTED]}


def test_filter_redacts_message_arguments_and_extra_fields(caplog: pytest.LogCaptureFixture) -> None:
    # Given a logger with the redacting filter
    std = logging.getLogger("relance-test-filter")
    std.addFilter(observability.RedactingFilter())
    # When it logs an email as an argument, and a phone and an IBAN as extra fields
    with caplog.at_level(logging.INFO, logger="relance-test-filter"):
        std.info("reminder to %s", EMAIL, extra={"phone": "06 12 34 56 78", "nested": {"iban": IBANS[1]}})
    # Then the message is redacted
    (record,) = caplog.records
    assert record.getMessage() == f"reminder to {REDACTED}"
    # And so are the extra fields, nested ones too
    assert record.__dict__["phone"] == REDACTED and record.__dict__["nested"] == {"iban": REDACTED}


# ---------------------------------------------------------------------- real handler invocations
def test_daily_run_rejection_log_is_json_and_redacted(embedded: EmbeddedAws, capsys: pytest.CaptureFixture[str],
                                                      caplog: pytest.LogCaptureFixture) -> None:
    # Given a scheduled event carrying an email, a phone and an IBAN
    leaked = f"{EMAIL} {PHONES[1]} {IBANS[1]}"
    event = {"id": "evt-1234", "detail-type": "Scheduled Event", "source": "aws.scheduler", "time": leaked}
    # When the daily run gets it
    with caplog.at_level(logging.INFO):
        result = _invoke(embedded, "DailyRunFunction", event)
    # Then it is rejected
    assert result["status"] == "rejected"
    # And none of the data is in the output
    out = capsys.readouterr().out
    for secret in (EMAIL, PHONES[1], IBANS[1], "0112 3456"):
        assert secret not in out
    # And the log line is JSON, redacted, with the event's id as correlation id
    (line,) = [entry for entry in _json_lines(out) if entry.get("message") == "scheduled event rejected"]
    assert line["level"] == "ERROR" and REDACTED in line["reason"]
    assert line["correlation_id"] == "evt-1234"       # the scheduled event's id
    assert line["service"] == "relance" and line["function_name"]
    # And the captured records are redacted too
    records = [r for r in caplog.records if r.getMessage() == "scheduled event rejected"]
    assert records and all(EMAIL not in str(r.__dict__.get("reason")) for r in records)
    # And the rejection is counted as a metric
    metrics = [entry for entry in _json_lines(out) if "_aws" in entry]
    assert any("RejectedEvents" in entry for entry in metrics)


def test_dispatch_logs_carry_the_sqs_message_id(embedded: EmbeddedAws, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an SQS message carrying an email
    event = {"Records": [{"messageId": "msg-42", "receiptHandle": "r", "body": json.dumps({"to": EMAIL}),
                          "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                          "md5OfBody": "", "eventSource": "aws:sqs", "awsRegion": "eu-west-3",
                          "eventSourceARN": "arn:aws:sqs:eu-west-3:123456789012:q"}]}
    # When the dispatch function gets it
    result = _invoke(embedded, "DispatchFunction", event)
    # Then it is dropped without a retry
    assert result == {"batchItemFailures": []}
    out = capsys.readouterr().out
    # And its log line carries the message id as correlation id
    (line,) = [entry for entry in _json_lines(out) if entry.get("message") == "work message rejected"]
    assert line["sqs_message_id"] == "msg-42" and line["correlation_id"] == "msg-42"
    # And the email is not in the output
    assert EMAIL not in out


def test_handlers_share_one_redacting_logger(embedded: EmbeddedAws) -> None:
    # Given the handlers imported as Lambda would
    for logical in ("DailyRunFunction", "DispatchFunction", "EscalationFunction", "ApprovalFunction"):
        embedded.handler(logical)  # import the module as Lambda would
    # When the relance logger is inspected
    std = logging.getLogger("relance")
    # Then it redacts with its filter and with every handler's formatter
    assert any(isinstance(f, observability.RedactingFilter) for f in std.filters)
    assert all(isinstance(h.formatter, observability.RedactingFormatter) for h in std.handlers)


# ---------------------------------------------------------------------- metrics
def test_sends_are_counted_per_step_and_channel(capsys: pytest.CaptureFixture[str]) -> None:
    # Given four sends, two of them the same step and channel; When they are counted
    counts = count_sends([("firm", "email"), ("firm", "sms"), ("firm", "email"), ("due", "email")],
                         namespace="Relance")
    # Then same step and channel add up
    assert counts[("firm", "email")] == 2
    # And one metric record goes out per pair
    records = [entry for entry in _json_lines(capsys.readouterr().out) if "_aws" in entry]
    assert len(records) == 3
    by_pair = {(r["Step"], r["Channel"]): r["MessagesSent"] for r in records}
    assert by_pair == {("firm", "email"): [2.0], ("firm", "sms"): [1.0], ("due", "email"): [1.0]}
    # And each in the Relance namespace with step and channel dimensions
    for record in records:
        (directive,) = record["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Relance"
        assert {"Step", "Channel"} <= set(directive["Dimensions"][0])


def test_amount_recovered_and_counts(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a metrics object
    metrics = Metrics(namespace="Relance", service="relance")
    # When amounts recovered are added; Then their sum is returned
    assert observability.add_amount_recovered(metrics, ["900.00", Decimal("100.50")]) == Decimal("1000.50")
    # When two counts, one zero, are added and the metrics flushed
    observability.add_count(metrics, "QuarantinedRecords", 2)
    observability.add_count(metrics, "FlaggedClaims", 0)          # nothing to count: no data point
    metrics.flush_metrics()
    # Then one record holds the amount and the non-zero count
    (record,) = [entry for entry in _json_lines(capsys.readouterr().out) if "_aws" in entry]
    assert record["AmountRecovered"] == [1000.5] and record["QuarantinedRecords"] == [2.0]
    # And a zero count has no data point
    assert "FlaggedClaims" not in record
