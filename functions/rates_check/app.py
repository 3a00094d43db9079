"""Scheduled on 2 January and 2 July (08:00 Europe/Paris): the rates of the new semester.

Reads the ECB main refinancing rate in force on the semester's first day from the ECB Data Portal (public
SDMX API) and stores it where the letters read it; checks that the legal rate (entered by a person from
the arrêté) is there. Anything missing: one ``RateMissing`` metric (its alarm is in template.yaml) and one
team task per semester and rate.
"""

from __future__ import annotations

import urllib.request
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from relance import observability, wiring
from relance.errors import RelanceError
from relance.law.ratecheck import check_semester
from relance.law.rates import Semester
from relance.planner import run_date_from_event
from relance.settings import Settings

logger, tracer, metrics = observability.powertools()
TIMEOUT_SECONDS = 20


def fetch(url: str) -> str:
    """GET the ECB Data Portal (public, no key)."""
    request = urllib.request.Request(url, headers={"Accept": "text/csv", "User-Agent": "relance-rates-check"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
        return answer.read().decode("utf-8")


@logger.inject_lambda_context(correlation_id_path="id")
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        run_date = run_date_from_event(event)
    except RelanceError as exc:
        logger.error("scheduled event rejected", extra={"reason": str(exc)})
        return {"status": "rejected", "reason": str(exc)}
    settings = Settings.from_env(require=["task_topic_arn"])
    store = wiring.rate_store(settings.table_name)

    def notify(semester: Semester, what: str) -> None:
        text = (f"Taux manquant pour le semestre {semester} : {what}\n\nLes lettres indiquent le principal et "
                "l'indemnité, et expliquent en mots comment courent les intérêts, sans chiffre, tant que le taux "
                "manque. Taux légal : `relance rates set --semester " f"{semester} --legal-individual X "
                "--legal-other Y --source URL` (arrêté publié au Journal officiel).")
        wiring.topic(settings.need("task_topic_arn")).publish(f"Relance : taux {semester} manquant", text)

    result = check_semester(run_date, fetch, store, store, notify)   # tests replace `fetch`
    for what in result.alerts:
        metrics.add_metric(name="RateMissing", unit=MetricUnit.Count, value=1)
        logger.warning("rate missing", extra={"semester": str(result.semester), "rate": what})
    return {"status": "ok", "semester": str(result.semester), "stored": result.stored,
            "missing": result.missing, "alerts": result.alerts}
