"""The weekly digest: built from the table with bounded reads, sent to the team through SES v2."""

from __future__ import annotations

import datetime as dt
import importlib.util
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from relance import runtime
from relance.reporting.digest import build_digest
from relance.store import EscalationStore
from relance_dev.embedded import EmbeddedAws, LambdaContext, embedded_aws
from relance_dev.embedded.embedded import patched_environ
from relance_dev.simulate.driver import SeasonDriver, scheduler_event

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def week() -> Iterator[tuple[EmbeddedAws, SeasonDriver]]:
    with embedded_aws() as aws:
        aws.extra_env = {"POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "WARNING"}
        runtime.reset_clients()
        driver = SeasonDriver(aws)
        ledger = driver.ledger()
        ledger.upsert_customer({"id": "C1", "name": "Boulangerie <Exemple>", "kind": "b2b",
                                "email": "compta@boulangerie.example"})
        for iid in ("A1", "A2"):
            ledger.create_invoice({"id": iid, "customer": "C1", "issued": "2026-03-17", "due": "2026-04-16",
                                   "amount": "1000.00"}, dt.date(2026, 4, 1))
        ledger.upsert_customer({"id": "C2", "name": "Garage Exemple", "kind": "b2b", "email": "c2@garage.example"})
        ledger.create_invoice({"id": "B1", "customer": "C2", "issued": "2026-04-01", "due": "2026-05-20",
                               "amount": "250.00"}, dt.date(2026, 4, 1))
        day = dt.date(2026, 4, 1)
        while day <= dt.date(2026, 4, 19):
            if day == dt.date(2026, 4, 17):
                ledger.record_payment("A1", Decimal("400.00"), day)
            if day == dt.date(2026, 4, 18):      # paid in full: B1 leaves the due index the same day
                ledger.record_payment("B1", Decimal("250.00"), day)
            driver.run_day(day)
            day += dt.timedelta(days=1)
        yield aws, driver
        runtime.reset_clients()


def test_digest_lists_the_week(week: tuple[EmbeddedAws, SeasonDriver]) -> None:
    _, driver = week
    digest = build_digest(EscalationStore.of(driver.store()), dt.date(2026, 4, 19), "Menuiserie")
    assert digest.messages == [("2026-04-16", "C1", "A1, A2", "due", "email")]     # one grouped message, once
    assert digest.payments == [("2026-04-17", "C1", "A1", Decimal("400.00")),
                               ("2026-04-18", "C2", "B1", Decimal("250.00"))]
    html = digest.html()
    assert "Boulangerie &lt;Exemple&gt;" in html and "<Exemple>" not in html
    assert "1–30" in html and "1 600,00 €" in html


def test_the_handler_mails_the_team(week: tuple[EmbeddedAws, SeasonDriver]) -> None:
    aws, _ = week
    from moto.ses.models import ses_backends

    source = REPO / "functions" / "weekly_digest" / "app.py"
    spec = importlib.util.spec_from_file_location("_weekly_digest_app", source)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    env = {**aws.local_env("DispatchFunction"), "POWERTOOLS_METRICS_DISABLED": "true"}
    with patched_environ(env):
        spec.loader.exec_module(module)
        before = len(ses_backends[aws.account_id][aws.region].sent_messages)
        result = module.lambda_handler(scheduler_event(dt.date(2026, 4, 20)),
                                       LambdaContext(function_name="digest", memory_limit_in_mb=256,
                                                     timeout_seconds=60, invoked_function_arn="arn:x"))
    assert result["status"] == "ok" and result["week_end"] == "2026-04-19" and result["payments"] == 2
    sent = ses_backends[aws.account_id][aws.region].sent_messages[before:]
    assert len(sent) == 1
