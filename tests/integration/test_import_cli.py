"""Operators' CLI on the embedded AWS: ``relance import|invoice|payment|dispute|promise``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from test_api_support import ledger_of

from relance import cli
from relance_dev.embedded import EmbeddedAws

CSV = ("client;nom;type;facture;date_facture;echeance;montant_ttc\n"
       "C1;Boulangerie Exemple SARL;entreprise;F-001;17/03/2026;16/04/2026;1 800,00\n")
TODAY = dt.date(2026, 5, 4)


@pytest.fixture
def env(embedded: EmbeddedAws, monkeypatch: pytest.MonkeyPatch) -> EmbeddedAws:
    from relance import runtime

    deployed = embedded.function_env("DispatchFunction")
    monkeypatch.setenv("TABLE_NAME", deployed["TABLE_NAME"])
    monkeypatch.setenv("DUE_SHARDS", deployed["DUE_SHARDS"])
    monkeypatch.setattr("relance.imports.today_paris", lambda now=None: TODAY)
    runtime.reset_clients()
    return embedded


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_then_payment_dispute_promise(env: EmbeddedAws, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    # Given a Windows-1252 CSV of one invoice 18 days late
    csv_file = tmp_path / "factures.csv"
    csv_file.write_bytes(CSV.encode("cp1252"))
    # When it is imported as a dry run
    code, out, _ = run(capsys, "import", str(csv_file), "--dry-run")
    # Then it says what would be created and writes nothing
    assert code == 0 and "would be created 1" in out
    assert ledger_of(env).store.get_invoice("F-001") is None
    # When it is imported, then imported again
    code, out, _ = run(capsys, "import", str(csv_file))
    # Then the invoice is created once
    assert code == 0 and "were created 1" in out
    code, out, _ = run(capsys, "import", str(csv_file))
    assert code == 0 and "created 0" in out

    # When a payment is recorded
    code, out, err = run(capsys, "payment", "add", "F-001", "900.00", "--date", "2026-04-27")
    # Then the balance goes down
    assert code == 0 and json.loads(out)["balance"] == "900.00"
    # When a dispute is opened, then resolved
    code, out, _ = run(capsys, "dispute", "open", "F-001", "--reason", "livraison incomplète")
    # Then the ladder pauses, then resumes today
    assert code == 0 and json.loads(out)["next_action"] is None
    code, out, _ = run(capsys, "dispute", "resolve", "F-001")
    assert code == 0 and json.loads(out)["next_action"] == TODAY.isoformat()
    # When a promise is recorded
    code, out, _ = run(capsys, "promise", "add", "F-001", "--until", "2026-05-15")
    # Then it is on the invoice
    assert code == 0 and json.loads(out)["promise_until"] == "2026-05-15"
    # And showing the invoice lists its history by date
    code, out, _ = run(capsys, "invoice", "show", "F-001")
    shown = json.loads(out)
    # History is ordered by event date: the payment was credited on 2026-04-27, before the import.
    assert [e["kind"] for e in shown["history"]] == ["payment", "imported", "paused", "resumed", "paused"]
    # When more than the balance is paid
    code, out, err = run(capsys, "payment", "add", "F-001", "1000.00")
    # Then the overpayment is kept as a credit, with a warning
    assert code == 0 and "overpayment of 100.00" in err and json.loads(out)["credit"] == "100.00"


def test_bad_rows_exit_2_naming_the_first_bad_line(env: EmbeddedAws, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    # Given a CSV whose second invoice has an amount with both a comma and a dot
    csv_file = tmp_path / "factures.csv"
    csv_file.write_text(CSV + "C2;Autre;entreprise;F-002;17/03/2026;16/04/2026;1,800.00\n", encoding="utf-8")
    # When it is imported
    code, _, err = run(capsys, "import", str(csv_file))
    # Then the command exits 2 with one line naming the file, the line, the column and how to write it
    assert code == 2
    assert err.strip() == f"relance: {csv_file}:3: ambiguous amount '1,800.00': write 1200.00, 1200,00 or " \
                          "1 200,00 (not both a comma and a dot) (column amount)"


@pytest.mark.parametrize(("argv", "needle"), [
    (("payment", "add", "NOPE", "10.00"), "invoice NOPE does not exist"),
    (("payment", "add", "F-001", "10,5"), "AMOUNT: amount '10,5'"),
    (("payment", "add", "F-001", "10.00", "--date", "27/04/2026"), "--date: '27/04/2026' is not a date"),
    (("promise", "add", "F-001", "--until", "2020-01-01"), "is in the past"),
    (("dispute", "resolve", "F-001"), "has no open dispute"),
    (("import", "/nonexistent.csv"), "cannot read the file"),
])
def test_bad_input_is_one_line_and_exit_2(env: EmbeddedAws, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          argv: tuple[str, ...], needle: str) -> None:
    # Given invoice F-001 imported
    csv_file = tmp_path / "f.csv"
    csv_file.write_text(CSV, encoding="utf-8")
    assert run(capsys, "import", str(csv_file))[0] == 0
    # When a command gets bad input
    code, _, err = run(capsys, *argv)
    # Then it exits 2 with one line saying what is wrong
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1, err


def test_missing_configuration_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                           tmp_path: Any) -> None:
    # Given no table configured
    monkeypatch.delenv("TABLE_NAME", raising=False)
    # When a command runs
    code, _, err = run(capsys, "invoice", "show", "A1")
    # Then it exits 2 naming the missing variable, on one line
    assert code == 2 and err.startswith("relance: settings: environment variable TABLE_NAME is not set")
    assert len(err.strip().splitlines()) == 1
