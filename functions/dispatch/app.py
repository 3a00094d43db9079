"""SQS consumer: one message per customer and day; sends what is due, exactly once (partial batch failures)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as ModelError

from relance import observability, wiring
from relance.dispatch import DispatchReport
from relance.errors import ValidationError, first_problem
from relance.settings import Settings

logger, tracer, metrics = observability.powertools()
processor = BatchProcessor(event_type=EventType.SQS)


class WorkMessage(BaseModel):
    """The body the daily run puts on the queue: one customer, the run's date (Europe/Paris)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    customer: str = Field(min_length=1, max_length=256)
    run_date: dt.date = Field(strict=True)


def parse_body(record: SQSRecord) -> tuple[str, dt.date]:
    """The work message of ``record``, or a ValidationError naming the message and the field.

    Read with the pydantic model directly: Powertools' ``parse`` would import every event model at cold start
    (about 50 ms) for one JSON body.
    """
    try:
        body = WorkMessage.model_validate_json(record.body)
    except (ModelError, ValueError, TypeError) as exc:
        raise ValidationError(f"malformed work message ({first_problem(exc, 'body')})",
                              f"SQS message {record.message_id}") from None
    return body.customer, body.run_date


@tracer.capture_method(capture_response=False, capture_error=False)
def handle_record(record: SQSRecord) -> None:
    observability.correlate(logger, sqs_message_id=record.message_id)
    try:
        customer, run_date = parse_body(record)
    except ValidationError as exc:
        # Retrying cannot fix it: log it (the message stays in the DLQ history) and do not fail the batch.
        logger.error("work message rejected", extra={"reason": str(exc)})
        metrics.add_metric(name="RejectedMessages", unit=MetricUnit.Count, value=1)
        return
    settings = Settings.from_env()
    report = wiring.dispatcher(settings).dispatch_customer(customer, run_date)
    _count(report)


def _count(report: DispatchReport) -> None:
    for sent in report.sent:
        for channel in sent["channels"]:
            logger.info("sent", extra={"step": sent["step"], "channel": channel,
                                       "invoices": len(sent["invoices"])})
    observability.count_sends((sent["step"], channel) for sent in report.sent for channel in sent["channels"])
    for q in report.quarantined:
        logger.warning("quarantined", extra={"record_kind": q["kind"], "record_id": q["id"],
                                             "reason": q["reason"]})
    for failure in report.failures:
        logger.error("send failed", extra={"step": failure["step"], "invoice": failure["invoice"],
                                           "reasons": failure["reasons"]})
    observability.add_count(metrics, "QuarantinedRecords", len(report.quarantined))
    observability.add_count(metrics, "FlaggedClaims", len(report.flagged))
    observability.add_count(metrics, "SendFailures", len(report.failures))
    observability.add_count(metrics, "EscalationsStarted", len(report.escalations))
    for alert in report.rate_alerts:   # once per semester and rate (issue 15): RateMissingAlarm
        logger.warning("rate missing", extra=alert)
    observability.add_count(metrics, "RateMissing", len(report.rate_alerts))


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=handle_record, processor=processor,
                                    context=context)
