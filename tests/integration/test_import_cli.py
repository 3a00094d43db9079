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
    csv_file = tmp_path / "factures.csv"
    csv_file.write_bytes(CSV.encode("cp1252"))
    code, out, _ = run(capsys, "import", str(csv_file), "--dry-run")
    assert code == 0 and "would be created 1" in out
    assert ledger_of(env).store.get_invoice("F-001") is None
    code, out, _ = run(capsys, "import", str(csv_file))
    assert code == 0 and "were created 1" in out
    code, out, _ = run(capsys, "import", str(csv_file))
    assert code == 0 and "created 0" in out

    code, out, err = run(capsys, "payment", "add", "F-001", "900.00", "--date", "2026-04-27")
    assert code == 0 and json.loads(out)["balance"] == "900.00"
    code, out, _ = run(capsys, "dispute", "open", "F-001", "--reason", "livraison incomplète")
    assert code == 0 and json.loads(out)["next_action"] is None
    code, out, _ = run(capsys, "dispute", "resolve", "F-001")
    assert code == 0 and json.loads(out)["next_action"] == TODAY.isoformat()
    code, out, _ = run(capsys, "promise", "add", "F-001", "--until", "2026-05-15")
    assert code == 0 and json.loads(out)["promise_until"] == "2026-05-15"
    code, out, _ = run(capsys, "invoice", "show", "F-001")
    shown = json.loads(out)
    # History is ordered by event date: the payment was credited on 2026-04-27, before the import.
    assert [e["kind"] for e in shown["history"]] == ["payment", "imported", "paused", "resumed", "paused"]
    code, out, err = run(capsys, "payment", "add", "F-001", "1000.00")
    assert code == 0 and "overpayment of 100.00" in err and json.loads(out)["credit"] == "100.00"


def test_bad_rows_exit_2_naming_the_first_bad_line(env: EmbeddedAws, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    csv_file = tmp_path / "factures.csv"
    csv_file.write_text(CSV + "C2;Autre;entreprise;F-002;17/03/2026;16/04/2026;1,800.00\n", encoding="utf-8")
    code, _, err = run(capsys, "import", str(csv_file))
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
    csv_file = tmp_path / "f.csv"
    csv_file.write_text(CSV, encoding="utf-8")
    assert run(capsys, "import", str(csv_file))[0] == 0
    code, _, err = run(capsys, *argv)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1, err


def test_missing_configuration_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                           tmp_path: Any) -> None:
    monkeypatch.delenv("TABLE_NAME", raising=False)
    code, _, err = run(capsys, "invoice", "show", "A1")
    assert code == 2 and err.startswith("relance: settings: environment variable TABLE_NAME is not set")
    assert len(err.strip().splitlines()) == 1
