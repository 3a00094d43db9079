"""Scheduled every morning (08:00 Europe/Paris): enqueue one message per customer with something due."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from relance import observability, wiring
from relance.adapters.aws.letter_batch import post_batches
from relance.errors import RelanceError
from relance.escalation.sweep import sweep
from relance.planner import plan, run_date_from_event
from relance.settings import Settings

logger, tracer, metrics = observability.powertools()


@logger.inject_lambda_context(correlation_id_path="id")  # the scheduled event's id
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        run_date = run_date_from_event(event)
    except RelanceError as exc:
        # A malformed event must not run some other day: refuse it loudly, do not retry.
        logger.error("scheduled event rejected", extra={"reason": str(exc)})
        metrics.add_metric(name="RejectedEvents", unit=MetricUnit.Count, value=1)
        return {"status": "rejected", "reason": str(exc)}
    settings = Settings.from_env()
    result = plan(wiring.store(settings), wiring.queue(settings), run_date)
    metrics.add_metric(name="DueInvoices", unit=MetricUnit.Count, value=result.due_invoices)
    metrics.add_metric(name="CustomersQueued", unit=MetricUnit.Count, value=result.messages)
    swept = sweep(run_date, due=result.approvals)   # the plan's read of the due index found them
    metrics.add_metric(name="ApprovalsExpired", unit=MetricUnit.Count, value=len(swept.expired))
    metrics.add_metric(name="DailyRunCompleted", unit=MetricUnit.Count, value=1)
    logger.info("approvals swept", extra=swept.as_dict())
    try:   # the previous days' registered letters, one batch per day, to the team
        batches = post_batches(wiring.client("s3"), wiring.client("sns"), settings.need("letters_bucket"),
                               settings.need("task_topic_arn"), run_date)
        metrics.add_metric(name="LetterBatches", unit=MetricUnit.Count, value=len(batches))
    except Exception:  # the letters wait for tomorrow's run; the reminders of today must still go out
        logger.exception("letter batch failed")
    logger.info("daily run planned", extra={"run_date": run_date.isoformat(), "due_invoices": result.due_invoices,
                                            "customers": result.customers})
    return {"status": "ok", "run_date": run_date.isoformat(), "due_invoices": result.due_invoices,
            "customers": result.customers, "approvals": swept.as_dict()}
