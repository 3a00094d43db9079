"""RatesCheckFunction and `relance rates set` on the embedded AWS (template wiring, moto DynamoDB and SNS).

The ECB answer is the recorded one in tests/fixtures/ecb: the network is never reached.
"""

from __future__ import annotations

import datetime as dt
import inspect
from decimal import Decimal
from pathlib import Path

import pytest

from relance import runtime
from relance.adapters.aws.rates import DynamoRateStore
from relance.cli import main
from relance.law.rates import Semester, clear_cache
from relance_dev.embedded import EmbeddedAws
from relance_dev.simulate.driver import SeasonDriver, scheduler_event

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "ecb" / "mrr_fr_2026-S2.csv"


@pytest.fixture
def aws(embedded: EmbeddedAws, monkeypatch: pytest.MonkeyPatch) -> EmbeddedAws:
    runtime.reset_clients()
    clear_cache()
    handler = embedded.handler("RatesCheckFunction")
    calls: list[str] = []

    def recorded(url: str) -> str:
        calls.append(url)
        return RECORDED.read_text(encoding="utf-8")

    monkeypatch.setitem(inspect.unwrap(handler).__globals__, "fetch", recorded)
    embedded.fetch_calls = calls  # type: ignore[attr-defined]
    yield embedded
    clear_cache()


def _tasks(driver: SeasonDriver) -> list[str]:
    return [d.subject for d in driver.new_deliveries() if d.channel == "task"]


def test_semester_start_stores_the_ecb_rate_and_tells_the_team_once(aws: EmbeddedAws) -> None:
    # Given the recorded ECB answer for 2026-S2
    driver = SeasonDriver(aws)
    # When the rates check runs at the start of the semester
    result = aws.invoke("RatesCheckFunction", scheduler_event(dt.date(2026, 7, 2)))
    # Then it stores the ECB rate and alerts that the legal rate is missing
    assert result["semester"] == "2026-S2" and result["stored"] == ["ecb 2026-S2 2.40 %"]
    assert result["alerts"] == ["legal"]
    # And it asked the ECB's MRR_FR series
    assert aws.fetch_calls and "MRR_FR" in aws.fetch_calls[0]  # type: ignore[attr-defined]
    # And the table holds the ECB rate, no legal rate
    store = DynamoRateStore(runtime.client("dynamodb"), driver.settings.table_name)
    ecb, legal = store.load()
    assert [(str(e.semester), e.rate) for e in ecb] == [("2026-S2", Decimal("0.024"))] and legal == []
    # And the team gets one task
    assert _tasks(driver) == ["Relance : taux 2026-S2 manquant"]
    # When the schedule is retried
    again = aws.invoke("RatesCheckFunction", scheduler_event(dt.date(2026, 7, 2)))
    # Then nothing is stored twice and no second task goes out
    assert again["stored"] == [] and again["alerts"] == []
    assert _tasks(driver) == []


def test_rates_set_stores_the_legal_rate_the_letters_read(aws: EmbeddedAws, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    # Given the deployed table
    driver = SeasonDriver(aws)
    # When the team sets the legal rates of 2026-S2 with their source
    monkeypatch.setenv("TABLE_NAME", driver.settings.table_name)
    code = main(["rates", "set", "--semester", "2026-S2", "--legal-professional", "6.50", "--legal-other", "2.50",
                 "--source", "https://www.legifrance.gouv.fr/jorf/id/EXAMPLE"])
    # Then the command succeeds
    assert code == 0, capsys.readouterr().err
    # And the table holds both rates
    store = DynamoRateStore(runtime.client("dynamodb"), driver.settings.table_name)
    _, legal = store.load()
    assert [(str(e.semester), e.individual, e.professional) for e in legal] == [
        ("2026-S2", Decimal("0.065"), Decimal("0.025"))]
    # And the semester's missing-rate alert can be claimed once
    assert store.claim_alert(Semester(2026, 2), "legal") is True
    assert store.claim_alert(Semester(2026, 2), "legal") is False
    # When the figures are swapped; Then they are refused with one line, exit 2
    code = main(["rates", "set", "--semester", "2026-S2", "--legal-individual", "2.50", "--legal-other", "6.50",
                 "--source", "https://www.legifrance.gouv.fr/jorf/id/EXAMPLE"])
    assert code == 2 and "swapped" in capsys.readouterr().err
