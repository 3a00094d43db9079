"""Step Functions tasks of the escalation (statemachines/handoff.asl.json): ``{"action": ..., "case": ...}``.

Errors propagate so that the state machine's Retry/Catch decide; the event (it may hold a task token) is
never logged.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from relance import observability
from relance.escalation import tasks

logger, tracer, metrics = observability.powertools()


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    action = str(event.get("action", ""))
    case_id = str((event.get("case") or {}).get("case_id", ""))
    # the execution is named after the case (relance.escalation): its name is the correlation id
    observability.correlate(logger, execution_name=case_id)
    logger.append_keys(action=action, case_id=case_id)
    result = tasks.run(event)
    metrics.add_metric(name=f"Escalation_{action}", unit=MetricUnit.Count, value=1)
    if action == "record_outcome":
        observability.add_amount_recovered(metrics, (p["amount"] for p in result.get("payments", [])))
    logger.info("escalation task done")
    return result
