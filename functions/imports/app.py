"""Imports the CSV and Factur-X files dropped under imports/ of the letters bucket (EventBridge S3 event),
and the bank statements dropped under statements/."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from relance import observability, wiring
from relance.adapters.aws.bank_files import import_statement_object, is_statement
from relance.errors import ValidationError, first_problem
from relance.imports import PARIS, today_paris
from relance.imports.objects import DroppedObject, import_object
from relance.settings import Settings

logger, tracer, metrics = observability.powertools()

__all__ = ["lambda_handler", "today_paris"]


def dropped_object(event: Any) -> DroppedObject:
    """The object named by EventBridge's S3 ``Object Created`` event (Powertools parser model); its day is the
    event's, in Paris (a replayed event imports "as of" the same day). ValidationError names the event.

    The parser is imported here, not with the module: it loads every Powertools event model (about 80 ms),
    which a file drop can wait for once per container but the init phase should not carry.
    """
    from aws_lambda_powertools.utilities.parser import ValidationError as ParserValidationError
    from aws_lambda_powertools.utilities.parser import parse
    from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel

    try:
        created = parse(event=event, model=S3EventNotificationEventBridgeModel)
    except (ParserValidationError, ValueError, TypeError) as exc:
        name = f"event {event.get('id')}" if isinstance(event, dict) and event.get("id") else "event"
        raise ValidationError(f"not an S3 'Object Created' event from EventBridge ({first_problem(exc, 'event')})",
                              name) from None
    return DroppedObject(created.detail.bucket.name, created.detail.object.key,
                         created.time.astimezone(PARIS).date())


@logger.inject_lambda_context(correlation_id_path="id")  # the EventBridge event's id
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = Settings.from_env(require=["letters_bucket"])
    bucket = settings.need("letters_bucket")
    ledger = wiring.ledger(settings)
    files = wiring.files(settings)
    results: list[dict[str, Any]] = []
    try:
        dropped = [dropped_object(event)]
    except ValidationError as exc:
        logger.warning("import event refused", extra={"reason": exc.message})
        metrics.add_metric(name="ImportsRefused", unit=MetricUnit.Count, value=1)
        return {"imports": [{"key": "", "ok": False, "reason": str(exc)}]}
    for obj in dropped:
        try:
            if is_statement(obj.key):
                report = import_statement_object(wiring.client("s3"), ledger, wiring.bank_store(ledger.store), obj,
                                                 bucket, wiring.bank_notify(settings.task_topic_arn))
            else:
                report = import_object(files, ledger, obj, bucket)
        except ValidationError as exc:
            # A refused key: nothing was read, and no report is written next to a key we do not trust.
            logger.warning("import refused", extra={"key": obj.key, "reason": exc.message})
            metrics.add_metric(name="ImportsRefused", unit=MetricUnit.Count, value=1)
            results.append({"key": obj.key, "ok": False, "reason": exc.message})
            continue
        if report is None:
            continue
        errors = len(report.get("errors", []))
        logger.info("imported", extra={"key": obj.key, "ok": report["ok"], "refused_rows": errors})
        metrics.add_metric(name="ImportRowsRefused", unit=MetricUnit.Count, value=errors)
        if "counts" in report:        # a bank statement: entries booked, put to the team, already seen...
            metrics.add_metric(name="BankEntriesUnmatched", unit=MetricUnit.Count,
                               value=report["counts"]["unmatched"] + report["counts"]["failed"])
            results.append({"key": obj.key, "ok": report["ok"], "errors": errors, "counts": report["counts"]})
            continue
        results.append({"key": obj.key, "ok": report["ok"], "errors": errors})
    return {"imports": results}
