"""SES bounce and complaint events (through the configuration set and SNS): mark the address as bad.

The next step for that customer then falls back to a letter or a task (see the dispatcher's channels).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from relance import observability, wiring
from relance.bounces import handle_ses_notification
from relance.settings import Settings

logger, tracer, metrics = observability.powertools()


@logger.inject_lambda_context(correlation_id_path="Records[0].Sns.MessageId")
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = Settings.from_env()
    marked = 0
    for record in event.get("Records", []):
        try:
            notification = json.loads(record["Sns"]["Message"])
        except (KeyError, TypeError, ValueError):
            logger.error("SES event is not JSON; ignored", extra={"message_id": record.get("Sns", {}).get("MessageId")})
            continue
        marked += handle_ses_notification(wiring.store(settings), notification)
    if marked:
        metrics.add_metric(name="BouncedAddresses", unit=MetricUnit.Count, value=marked)
    return {"marked": marked}
