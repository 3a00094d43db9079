"""Bank statements dropped under statements/ of the letters bucket, imported by the ImportFunction (moto)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from test_api_support import ledger_of, load_function, sample, use_function_env

from relance.adapters.aws.bank_store import DynamoBankStore
from relance_dev.embedded import EmbeddedAws

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from bank_samples import camt, cfonb, ofx_v1

TODAY = dt.date(2026, 5, 4)
CUSTOMERS = [("C1", "Boulangerie Exemple SARL"), ("C2", "Garage Martin SAS"), ("C3", "Café du Port EURL"),
             ("C4", "Atelier Durand"), ("C5", "Imprimerie Leroy")]
INVOICES = [("F-2026-031", "C1", "1800.00", "2026-04-16"), ("F-2026-032", "C2", "2400.00", "2026-04-16"),
            ("F-2026-033", "C3", "600.00", "2026-04-10"), ("F-2026-034", "C3", "850.50", "2026-04-16"),
            ("F-2026-035", "C4", "1200.00", "2026-04-16"), ("F-2026-036", "C5", "990.00", "2026-04-16")]
BALANCES = {"F-2026-031": Decimal("0"), "F-2026-032": Decimal("1400.00"), "F-2026-033": Decimal("0"),
            "F-2026-034": Decimal("0"), "F-2026-035": Decimal("1200.00"), "F-2026-036": Decimal("0")}


@pytest.fixture
def drop(embedded: EmbeddedAws, monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> Any:
    use_function_env(embedded, monkeypatch, today=TODAY)
    ledger = ledger_of(embedded)
    for cid, name in CUSTOMERS:
        ledger.upsert_customer({"id": cid, "name": name, "kind": "b2b", "email": f"{cid.lower()}@x.example"})
    for iid, cid, amount, due in INVOICES:
        ledger.create_invoice({"id": iid, "customer": cid, "issued": "2026-03-17", "due": due, "amount": amount},
                              dt.date(2026, 4, 1))
    bucket = embedded.resources["LettersBucket"]
    s3 = embedded.client("s3")
    module = load_function("imports")

    def run(key: str, body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        event = copy.deepcopy(sample("s3-import"))
        event["detail"]["bucket"]["name"] = bucket
        event["detail"]["object"]["key"] = key
        result = module.lambda_handler(event, lambda_context)
        report = json.loads(s3.get_object(Bucket=bucket, Key=key.rsplit(".", 1)[0] + ".report.json")["Body"].read())
        return result, report

    run.ledger = ledger  # type: ignore[attr-defined]
    return run


def _tasks(embedded: EmbeddedAws) -> list[tuple[str, str, dict[str, Any]]]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    topic = sns_backends[DEFAULT_ACCOUNT_ID][embedded.region].topics[embedded.resources["TaskTopic"]]
    return [(subject, message, attrs) for _id, message, subject, attrs, _g in topic.sent_notifications]


def _balances(ledger: Any) -> dict[str, Decimal]:
    return {iid: ledger.invoice(iid).balance for iid, *_ in INVOICES}


def test_camt_dropped_twice_books_once_and_puts_the_unknown_transfer_to_the_team(
        drop: Any, embedded: EmbeddedAws) -> None:
    # Given five customers with six open invoices; When a camt.053 statement is dropped
    result, report = drop("statements/releve.xml", camt())
    # Then four transfers are booked, one is unmatched and one ignored
    assert result["imports"][0]["counts"]["booked"] == 4
    assert report["counts"] == {"booked": 4, "matched": 0, "unmatched": 1, "already": 0, "ignored": 1,
                                "failed": 0, "parsed": 0}
    # And the balances are paid down
    assert _balances(drop.ledger) == BALANCES
    # And each payment is on the transfer's date, referenced by the statement entry
    history = drop.ledger.history("F-2026-031")
    payment = next(e for e in history if e["kind"] == "payment")
    assert payment["date"] == "2026-04-30"
    assert payment["details"]["reference"] == "bank:statements/releve.xml#2026043000001"
    # And the history says why it matched
    match = next(e for e in history if e["kind"] == "bank_match")
    assert match["details"]["reason"] == "référence F-2026-031 trouvée dans le libellé"
    # And the unknown transfer is put to the team as a task
    (task,) = _tasks(embedded)
    assert "777,00 €" in task[0] and "relance bank match 2026050400003" in task[1]
    assert task[2]["step"]["Value"] == "bank_unmatched"
    # And the payer's IBAN is learnt and the unknown entry kept as unmatched
    store = DynamoBankStore(drop.ledger.store)
    assert store.customers_of_iban("FR7610278060000002048150134") == {"C1"}
    assert store.get_entry("2026050400003")["status"] == "unmatched"

    # When the same statement is dropped again under another name
    _, again = drop("statements/releve-bis.xml", camt())
    # Then nothing is booked twice and no new task is raised
    assert again["counts"]["booked"] == 0 and again["counts"]["already"] == 5
    assert _balances(drop.ledger) == BALANCES and len(_tasks(embedded)) == 1


@pytest.mark.parametrize(("key", "build"), [("statements/releve.ofx", ofx_v1), ("statements/releve.txt", cfonb)])
def test_ofx_and_cfonb_give_the_same_payments(drop: Any, key: str, build: Any) -> None:
    # Given the open invoices; When the same payments come as OFX or CFONB
    _, report = drop(key, build())
    # Then the same four are booked, with the same balances
    assert report["ok"] and report["counts"]["booked"] == 4
    assert _balances(drop.ledger) == BALANCES


def test_a_refused_statement_books_nothing_and_says_where(drop: Any) -> None:
    # Given a CFONB statement with one line too long
    lines = cfonb().split(b"\r\n")
    lines[12] = lines[12] + b"  "
    # When it is dropped
    result, report = drop("statements/bad.txt", b"\r\n".join(lines))
    # Then the import fails, naming the file, the line and why
    assert result["imports"][0]["ok"] is False
    assert report["errors"][0]["reason"] == ("statements/bad.txt:13: line is 122 characters long; "
                                             "a CFONB 120 record has 120")
    # And no balance changed
    assert _balances(drop.ledger) == {iid: Decimal(amount) for iid, _, amount, _ in INVOICES}


def test_manual_match_from_the_cli(drop: Any, embedded: EmbeddedAws, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    from relance.cli import main

    # Given a statement whose transfer was not matched
    drop("statements/releve.xml", camt())
    monkeypatch.setattr("relance.ops.cli._today", lambda: TODAY)
    # When the team matches it by hand to an invoice
    assert main(["bank", "match", "2026050400003", "F-2026-035"]) == 0
    # Then the invoice is paid down
    assert drop.ledger.invoice("F-2026-035").balance == Decimal("423.00")
    # When the same match is made again
    assert main(["bank", "match", "2026050400003", "F-2026-035"]) == 2
    # Then it is refused as already booked
    assert "already booked" in capsys.readouterr().err
    # And a missing statement file is an error too
    assert main(["bank", "import", "/nonexistent.xml"]) == 2


def test_open_invoices_are_those_still_owed_with_their_customer_name(drop: Any) -> None:
    from relance.models import InvoiceStatus

    # Given one invoice handed off and one written off
    drop.ledger.set_status("F-2026-035", TODAY, InvoiceStatus.HANDED_OFF, "handed off to an agency")
    drop.ledger.set_status("F-2026-036", TODAY, InvoiceStatus.WRITTEN_OFF, "written off")
    # When the open invoices are listed
    found = {i.invoice_id: (i.customer_id, i.balance, i.customer_name)
             for i in DynamoBankStore(drop.ledger.store).open_invoices()}
    # Then the written-off one is not among them
    assert "F-2026-036" not in found and len(found) == 5
    # And the handed-off one is, still owed, with its customer's name
    assert found["F-2026-035"] == ("C4", Decimal("1200.00"), "Atelier Durand")      # handed off: still owed
