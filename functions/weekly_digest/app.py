"""Scheduled every Monday (08:00 Europe/Paris): the week's digest by email to the team (SES v2)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from relance import observability, wiring
from relance.errors import RelanceError
from relance.planner import run_date_from_event
from relance.reporting.digest import build_digest
from relance.settings import Settings

logger, tracer, metrics = observability.powertools()


@logger.inject_lambda_context(correlation_id_path="id")  # the scheduled event's id
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        run_date = run_date_from_event(event)
    except RelanceError as exc:
        logger.error("scheduled event rejected", extra={"reason": str(exc)})
        return {"status": "rejected", "reason": str(exc)}
    settings = Settings.from_env()
    week_end = run_date - dt.timedelta(days=1)          # Monday's digest covers Monday..Sunday before it
    digest = build_digest(wiring.escalation_store(settings), week_end, settings.company_name)
    wiring.mailer().send_simple(sender=settings.sender_email, to=settings.team_email, subject=digest.subject,
                                text=digest.text(), html=digest.html(),
                                configuration_set=settings.ses_configuration_set or None)
    metrics.add_metric(name="DigestSent", unit=MetricUnit.Count, value=1)
    logger.info("digest sent", extra={"week_end": week_end.isoformat(), "messages": len(digest.messages),
                                      "payments": len(digest.payments), "flagged": len(digest.flagged)})
    return {"status": "ok", "week_end": week_end.isoformat(), "messages": len(digest.messages),
            "payments": len(digest.payments), "flagged": len(digest.flagged), "approvals": len(digest.approvals)}
