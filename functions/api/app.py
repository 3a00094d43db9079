"""REST API (API Gateway, AWS_IAM auth): customers, invoices, payments, disputes, promises, plans, statuses."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from relance import observability, wiring
from relance.api.routes import build_app, handle
from relance.api.service import ApiService
from relance.imports import today_paris
from relance.settings import Settings

logger, tracer, metrics = observability.powertools()


def _service() -> ApiService:
    settings = Settings.from_env()
    topic = settings.task_topic_arn

    def notify(subject: str, message: str) -> None:
        if topic:
            wiring.topic(topic).publish(subject[:100], message)
        else:
            logger.warning("no TASK_TOPIC_ARN: task not sent", extra={"subject": subject})

    return ApiService(wiring.ledger(settings), today_paris, notify)


app = build_app(_service)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = handle(app, event, context)
    if event.get("httpMethod") == "POST" and str(event.get("path", "")).endswith("/payments") \
            and response.get("statusCode") == 201:
        try:   # AmountRecovered: the part of the payment that reduced a balance (a replay is 200, not counted)
            observability.add_amount_recovered(metrics, [json.loads(response["body"])["applied"]])
        except (KeyError, TypeError, ValueError, ArithmeticError):
            logger.warning("payment recorded but its amount is unreadable: AmountRecovered not counted")
    return response
