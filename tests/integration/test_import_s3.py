"""The ImportFunction: files dropped under imports/ of the letters bucket, EventBridge S3 events, reports."""

from __future__ import annotations

import copy
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from test_api_support import ledger_of, load_function, sample, use_function_env

from relance_dev.embedded import EmbeddedAws

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_facturx import facturx_pdf, plain_pdf

TODAY = dt.date(2026, 5, 4)
CSV = ("client;nom;type;facture;date_facture;echeance;montant_ttc\n"
       "C1;Boulangerie Exemple SARL;entreprise;F-001;17/03/2026;16/04/2026;1 800,00\n"
       "C1;Boulangerie Exemple SARL;entreprise;F-002;17/03/2026;16/04/2026;1,800.00\n").encode("cp1252")


@pytest.fixture
def drop(embedded: EmbeddedAws, monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> Any:
    use_function_env(embedded, monkeypatch, today=TODAY)
    bucket = embedded.resources["LettersBucket"]
    s3 = embedded.client("s3")
    module = load_function("imports")

    def run(key: str, body: bytes | None = None) -> tuple[dict[str, Any], dict[str, Any] | None]:
        if body is not None:
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        event = copy.deepcopy(sample("s3-import"))
        event["detail"]["bucket"]["name"] = bucket
        event["detail"]["object"]["key"] = key
        result = module.lambda_handler(event, lambda_context)
        report_key = key.rsplit(".", 1)[0] + ".report.json"
        try:
            report = json.loads(s3.get_object(Bucket=bucket, Key=report_key)["Body"].read())
        except s3.exceptions.NoSuchKey:
            report = None
        return result, report

    run.s3, run.bucket = s3, bucket  # type: ignore[attr-defined]
    return run


def test_csv_dropped_is_imported_with_a_report_next_to_it(drop: Any, embedded: EmbeddedAws) -> None:
    # Given a CSV with an ambiguous amount; When it is dropped under imports/
    result, report = drop("imports/factures-avril.csv", CSV)
    # Then the import fails with one error
    assert result == {"imports": [{"key": "imports/factures-avril.csv", "ok": False, "errors": 1}]}
    # And the report next to it creates nothing and names the line and the field
    assert report is not None and report["invoices"]["created"] == 0        # all or nothing
    (error,) = report["errors"]
    assert error["line"] == 3 and error["field"] == "amount" and "ambiguous" in error["reason"]
    # And it is dated on the event's day
    assert report["imported_on"] == "2026-05-04"        # the event's day in Paris, not the wall clock
    # And no invoice was written
    assert ledger_of(embedded).store.get_invoice("F-001") is None
    # When the file is dropped again corrected
    _, report = drop("imports/factures-avril.csv", CSV.replace(b"1,800.00", b"1800.00"))
    # Then both invoices are created
    assert report is not None and report["ok"] and report["invoices"]["created"] == 2
    assert ledger_of(embedded).invoice("F-001").balance == 1800
    # When the same file's event comes again
    _, again = drop("imports/factures-avril.csv")
    # Then nothing more is created
    assert again is not None and again["invoices"]["created"] == 0 and again["invoices"]["unchanged"] == 2


def test_factur_x_dropped_creates_invoice_and_keeps_the_pdf(drop: Any, embedded: EmbeddedAws) -> None:
    # Given a Factur-X PDF; When it is dropped under imports/
    pdf = facturx_pdf()
    _, report = drop("imports/F-2026-001.pdf", pdf)
    # Then its invoice and customer are created
    assert report is not None and report["ok"] and report["created"] and report["customer_created"]
    # And the PDF is kept with the invoice
    ledger = ledger_of(embedded)
    record = ledger.invoice("F-2026-001")
    assert record.attachment_key == "invoices/F-2026-001.pdf"
    assert drop.s3.get_object(Bucket=drop.bucket, Key=record.attachment_key)["Body"].read() == pdf
    # And the customer is known by its SIREN, with the invoice's email
    customer = ledger.customer("123456789")
    assert (customer.siren, customer.email) == ("123456789", "compta@boulangerie.example")
    # When its event comes again
    _, again = drop("imports/F-2026-001.pdf")
    # Then nothing more is created
    assert again is not None and again["ok"] and again["created"] is False


def test_pdf_without_factur_x_gets_a_clear_report(drop: Any) -> None:
    # Given a PDF without Factur-X data; When it is dropped
    _, report = drop("imports/scan.pdf", plain_pdf())
    # Then the report says so
    assert report is not None and not report["ok"] and "no Factur-X XML" in report["errors"][0]["reason"]


@pytest.mark.parametrize("key", ["letters/evil.csv", "imports/../letters/x.csv", "/imports/x.csv",
                                 "imports//x.csv", "imports/a\\b.csv", "imports/./x.csv"])
def test_keys_with_path_tricks_are_refused(drop: Any, key: str) -> None:
    # Given a key outside imports/ or with a path trick; When a CSV is dropped under it
    result, report = drop(key, CSV)
    # Then it is refused and no report is written
    (outcome,) = result["imports"]
    assert outcome["ok"] is False and report is None


def test_reports_and_other_files_are_not_imported(drop: Any) -> None:
    # Given an import report; When it is dropped under imports/
    result, _ = drop("imports/factures-avril.report.json", b"{}")
    # Then it is not imported
    assert result == {"imports": []}
    # When a file of another type is dropped
    _, report = drop("imports/notes.txt", b"hello")
    # Then its report says the type is not supported
    assert report is not None and "unsupported file type" in report["errors"][0]["reason"]
