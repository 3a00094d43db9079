"""REST API (API Gateway, AWS_IAM auth): customers, invoices, payments, disputes, promises, plans, statuses."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths

from relance import runtime
from relance.api.routes import build_app, handle
from relance.api.service import ApiService
from relance.imports import today_paris
from relance.settings import Settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


def _service() -> ApiService:
    settings = Settings.from_env()
    topic = settings.task_topic_arn

    def notify(subject: str, message: str) -> None:
        if topic:
            runtime.client("sns").publish(TopicArn=topic, Subject=subject[:100], Message=message)
        else:
            logger.warning("no TASK_TOPIC_ARN: task not sent", extra={"subject": subject})

    return ApiService(runtime.ledger(settings), today_paris, notify)


app = build_app(_service)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(app, event, context)
