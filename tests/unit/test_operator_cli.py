"""The operator's CLI without a table: import --dry-run, input errors, listing and totals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from relance import cli
from relance.ops.operator import render_invoices, row_of, totals
from relance.store import InvoiceRecord

TODAY = dt.date(2026, 6, 5)


def _record(iid: str, amount: str, balance: str, status: str = "open", **state: object) -> InvoiceRecord:
    raw = {"id": iid, "customer": "C1", "issued": "2026-03-17", "due": "2026-04-16", "amount": amount}
    paid = Decimal(amount) - Decimal(balance)
    payments = ((TODAY, paid),) if paid else ()
    return InvoiceRecord(iid, "C1", raw, status=status, balance=Decimal(balance), payments=payments,
                         **state)  # type: ignore[arg-type]


def test_import_dry_run_needs_no_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("TABLE_NAME", raising=False)
    csv_file = tmp_path / "factures.csv"
    csv_file.write_text("client;nom;type;facture;date_facture;echeance;montant_ttc\n"
                        "C1;Boulangerie;entreprise;F-001;17/03/2026;16/04/2026;1 800,00\n", encoding="utf-8")
    assert cli.main(["import", str(csv_file), "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert "would be created 1" in out and "without the table" in err
    assert cli.main(["import", str(csv_file)]) == 2          # a real import does need the table
    assert "TABLE_NAME" in capsys.readouterr().err


def test_bad_input_exits_2_with_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TABLE_NAME", "relance-test")
    assert cli.main(["invoice", "list", "--due-before", "30/04/2026"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--due-before" in err
    assert cli.main(["plan", "add", "A1", "--instalment", "2026-06-30"]) == 2
    assert "DATE:AMOUNT" in capsys.readouterr().err


def test_rows_and_totals_keep_every_euro() -> None:
    rows = [row_of(r, TODAY) for r in (
        _record("A1", "1800.00", "1800.00", to_decide="approval expired", manual_pause=True),
        _record("A2", "600.00", "0.00", status="paid"),
        _record("A3", "500.00", "300.00", status="written_off"),
        _record("A4", "400.00", "400.00", disputed=True),
        _record("A5", "900.00", "900.00", status="handed_off"),
        _record("A6", "100.00", "100.00"))]
    assert [r.state for r in rows] == ["to_decide", "stopped", "stopped", "paused", "stopped", "open"]
    sums = totals(rows)
    assert sums["outstanding"] == sums["invoiced"] - sums["recovered"] - sums["written off"] == Decimal("3200.00")
    assert sums["of which to decide"] == Decimal("1800.00")
    text = render_invoices(rows, "fr")
    assert "à décider" in text and "Encours 3\u202f200,00 €" in text.replace("encours", "Encours")
    assert "outstanding EUR 3,200.00" in render_invoices(rows, "en")


def test_the_api_view_says_an_invoice_waits_for_a_decision() -> None:
    from relance.api.service import invoice_view

    view = invoice_view(_record("A1", "1800.00", "1800.00", to_decide="approval expired", manual_pause=True), TODAY)
    assert view.paused == ["to_decide"] and view.status == "open" and view.balance == "1800.00"
