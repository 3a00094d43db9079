"""Issue 15 law points on the embedded AWS: real handlers, real template wiring, moto underneath.

- no message at all on a time-barred consumer debt, the invoice stopped with its reason, the team told;
- penalties after the principal: one « décompte des pénalités » (standard.yaml claims them), or the
  waiver recorded for a consumer;
- a missing rate: the formal notice still states the principal and the 40 €, says how interest accrues,
  and the team is told once per semester (RateMissing alert item + task).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from relance import runtime
from relance.law.rates import clear_cache
from relance_dev import faults
from relance_dev.embedded import EmbeddedAws
from relance_dev.simulate.driver import Delivery, SeasonDriver


@pytest.fixture
def driver(embedded: EmbeddedAws) -> SeasonDriver:
    runtime.reset_clients()
    faults.disarm_all()
    clear_cache()
    driver = SeasonDriver(embedded)
    yield driver
    faults.disarm_all()
    clear_cache()


def run(driver: SeasonDriver, first: dt.date, last: dt.date) -> list[tuple[dt.date, Delivery]]:
    got: list[tuple[dt.date, Delivery]] = []
    day = first
    while day <= last:
        driver.run_day(day)
        got += [(day, d) for d in driver.new_deliveries()]
        day += dt.timedelta(days=1)
    return got


def history(driver: SeasonDriver, invoice: str) -> list[dict[str, object]]:
    return driver.ledger().history(invoice)


def test_time_barred_consumer_debt_gets_no_message_and_the_team_is_told(driver: SeasonDriver) -> None:
    # Given a consumer's invoice for a service completed on 12 May 2024, imported on 1 October 2026
    ledger = driver.ledger()
    ledger.upsert_customer({"id": "P1", "name": "Jeanne Exemple", "kind": "b2c", "email": "jeanne@example.com",
                            "address": "3 rue des Ormes, 38000 Grenoble"})
    # service completed 12 May 2024: time-barred after 12 May 2026 (C. consom. L218-2)
    ledger.create_invoice({"id": "OLD1", "customer": "P1", "issued": "2024-05-12", "due": "2024-06-11",
                           "delivered": "2024-05-12", "amount": "800.00"}, dt.date(2026, 10, 1))
    # When the daily runs go through October
    got = run(driver, dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    # Then the debtor gets nothing and the team one task saying the debt is time-barred
    assert [d.channel for _, d in got] == ["task"], got          # nothing to the debtor, one task to the team
    assert "prescrite" in got[0][1].subject
    # And the invoice is stopped as time-barred, with the article of law in its history
    record = ledger.invoice("OLD1")
    assert record.status == "time_barred" and record.next_action is None
    stopped = [e for e in history(driver, "OLD1") if e["kind"] == "stopped"]
    assert len(stopped) == 1 and "L218-2" in stopped[0]["details"]["reason"]
    assert stopped[0]["details"]["status"] == "time_barred"


def test_penalty_statement_after_the_principal_is_paid(driver: SeasonDriver) -> None:
    # Given an invoice of 6 000,00 € due 14 February, paid on 16 April, late
    ledger = driver.ledger()
    ledger.upsert_customer({"id": "C1", "name": "SARL Client", "kind": "b2b", "email": "compta@client.example",
                            "address": "2 rue de la Paix, 75002 Paris"})
    # legal-fr.md case 1: 6 000,00 due 14/02/2026, paid 16/04/2026: 121,83 + 40 = 161,83 € remain
    ledger.create_invoice({"id": "F-2026-001", "customer": "C1", "issued": "2026-01-15", "due": "2026-02-14",
                           "amount": "6000.00"}, dt.date(2026, 4, 15))
    ledger.record_payment("F-2026-001", Decimal("6000.00"), dt.date(2026, 4, 16))
    # Then no principal is owed but 161,83 € of penalties remain
    record = ledger.invoice("F-2026-001")
    assert record.status == "open" and record.balance == 0 and record.accessories_due == Decimal("161.83")
    # When the daily runs go through the end of April
    got = run(driver, dt.date(2026, 4, 16), dt.date(2026, 4, 30))
    # Then one penalty statement goes out, by email, with the amount
    statements = [d for _, d in got if d.step == "penalty_statement"]
    assert [d.channel for d in statements] == ["email"], got
    assert "161,83" in statements[0].body.replace("\u202f", " ").replace("\u00a0", " ")
    # And nothing else is sent
    assert all(d.step == "penalty_statement" for _, d in got)     # nothing else, and only once
    # And the invoice is then closed as paid, the statement given as the reason
    record = ledger.invoice("F-2026-001")
    assert record.status == "paid" and record.next_action is None
    reasons = [e["details"]["reason"] for e in history(driver, "F-2026-001") if e["kind"] == "stopped"]
    assert len(reasons) == 1 and "décompte des pénalités" in reasons[0]


def test_consumer_interest_left_after_the_principal_is_waived_and_recorded(driver: SeasonDriver) -> None:
    """A consumer's invoice paid late, before any formal notice: no interest ran, so it stops as plainly paid."""
    # Given a consumer's invoice due 15 January, no formal notice sent
    ledger = driver.ledger()
    ledger.upsert_customer({"id": "P2", "name": "Paul Exemple", "kind": "b2c", "email": "paul@example.com"})
    ledger.create_invoice({"id": "B1", "customer": "P2", "issued": "2025-12-20", "due": "2026-01-15",
                           "delivered": "2025-12-20", "amount": "1500.00"}, dt.date(2026, 3, 1))
    # When it is paid in full on 5 March
    ledger.record_payment("B1", Decimal("1500.00"), dt.date(2026, 3, 5))
    # Then it is paid
    record = ledger.invoice("B1")
    assert record.status == "paid"
    # And it stopped as paid: no interest ran, so nothing was waived
    reasons = [e["details"]["reason"] for e in history(driver, "B1") if e["kind"] == "stopped"]
    assert reasons == ["paid"]   # no formal notice was sent: nothing ran, nothing waived


def test_missing_rate_letter_keeps_principal_and_indemnity_and_tells_the_team_once(
        driver: SeasonDriver, tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two invoices due 31 December 2026, with no published rate for 2027-S1
    ledger = driver.ledger()
    ledger.upsert_customer({"id": "C2", "name": "Boulangerie Exemple SARL", "kind": "b2b",
                            "email": "compta@boulangerie.example", "address": "4 rue des Lilas, 69003 Lyon"})
    for invoice in ("N1", "N2"):
        ledger.create_invoice({"id": invoice, "customer": "C2", "issued": "2026-12-01", "due": "2026-12-31",
                               "amount": "1800.00"}, dt.date(2026, 12, 1))
    # 2027-S1 is in no table: the formal notice of early February 2027 has no interest figure
    # When the daily runs go through to 2 February 2027
    got = run(driver, dt.date(2026, 12, 24), dt.date(2027, 2, 2))
    # Then one formal notice goes out by email
    notices = [d for _, d in got if d.step == "formal_notice" and d.channel == "email"]
    assert len(notices) == 1
    # And it states the two indemnities and the principal, and how interest accrues, without a figure
    body = notices[0].body.replace("\u202f", " ").replace("\u00a0", " ")
    assert "80,00 €" in body                      # 2 × 40 € indemnity, which needs no rate
    assert "3 600,00 €" in body                   # the principal
    assert "taux de refinancement de la Banque centrale européenne" in body and "majoré de 10 points" in body
    # And the team is told once that the semester's rate is missing
    tasks = [d for _, d in got if d.channel == "task" and "taux" in d.subject.lower()]
    assert len(tasks) == 1, [d.subject for _, d in got]
    assert "2027-S1" in tasks[0].subject
