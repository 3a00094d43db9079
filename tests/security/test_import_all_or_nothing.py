"""Issue 14 point 7: a CSV import is all or nothing, and sized to finish within its Lambda timeout.

- a UTF-8 file with one stray byte is refused naming the line, never re-read as Windows-1252 (which would
  rewrite the stored names as mojibake);
- a file over the row limit is refused before any row is written;
- one refused row refuses the file: nothing is written, every refused row is reported;
- rows are written in batches: far fewer DynamoDB calls than rows.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from test_api_support import ledger_of

from relance.imports import csv_import
from relance.imports.csv_import import import_csv
from relance.ledger import Ledger
from relance_dev.embedded import EmbeddedAws

TODAY = dt.date(2026, 5, 4)
HEADER = "client;nom;type;facture;date_facture;echeance;montant_ttc\n"


def _row(n: int, name: str = "Société Générale de Boulangerie") -> str:
    return f"C{n};{name};entreprise;F-{n};17/03/2026;16/04/2026;{100 + n},00\n"


@pytest.fixture
def ledger(embedded: EmbeddedAws) -> Iterator[Ledger]:
    yield ledger_of(embedded)


def test_a_utf8_file_with_one_stray_byte_is_refused_with_its_line(ledger: Ledger) -> None:
    assert import_csv((HEADER + _row(1)).encode(), ledger, TODAY).ok
    data = (HEADER + _row(1, "Société Générale de Boulangerie (mise à jour)") + _row(2)).encode()
    broken = data.replace(b"F-2;", b"F-2\xe9;")                 # line 3: one byte that is not UTF-8
    report = import_csv(broken, ledger, TODAY)
    assert not report.ok
    (error,) = report.errors
    assert error.line == 3 and "UTF-8" in error.reason, error
    assert ledger.store.get_customer_raw("C1")["name"] == "Société Générale de Boulangerie"   # not mojibake
    assert ledger.store.get_invoice("F-2") is None


def test_a_windows_1252_file_is_still_read(ledger: Ledger) -> None:
    report = import_csv((HEADER + _row(1) + _row(2)).encode("cp1252"), ledger, TODAY)
    assert report.ok, report.to_text()
    assert ledger.store.get_customer_raw("C1")["name"] == "Société Générale de Boulangerie"


def test_a_file_over_the_row_limit_is_refused_before_any_row_is_written(ledger: Ledger,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_import, "MAX_ROWS", 5)
    report = import_csv((HEADER + "".join(_row(n) for n in range(1, 8))).encode(), ledger, TODAY)
    assert not report.ok and "more than 5 rows" in report.errors[0].reason
    assert all(ledger.store.get_invoice(f"F-{n}") is None for n in range(1, 8))
    assert ledger.store.get_customer_raw("C1") is None


def test_one_refused_row_refuses_the_whole_file(ledger: Ledger) -> None:
    rows = _row(1) + _row(2).replace("102,00", "abc") + _row(3) + _row(4).replace("16/04/2026", "31/02/2026")
    report = import_csv((HEADER + rows).encode(), ledger, TODAY)
    assert not report.ok and [e.line for e in report.errors] == [3, 5]
    assert report.created == 0
    assert ledger.store.get_invoice("F-1") is None and ledger.store.get_customer_raw("C1") is None


def test_rows_are_written_in_batches(ledger: Ledger) -> None:
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    client = ledger.store.client
    client.meta.events.register("before-call.dynamodb.*", count)
    try:
        rows = "".join(_row(n, f"Client {n}") for n in range(1, 201))
        report = import_csv((HEADER + rows).encode(), ledger, TODAY)
    finally:
        client.meta.events.unregister("before-call.dynamodb.*", count)
    assert report.ok and report.created == 200, report.to_text()
    writes = sum(n for op, n in calls.items() if op in ("PutItem", "TransactWriteItems", "BatchWriteItem",
                                                         "UpdateItem"))
    reads = sum(n for op, n in calls.items() if op in ("GetItem", "BatchGetItem", "Query"))
    assert writes <= 40 and reads <= 40, calls
    assert ledger.store.get_invoice("F-200") is not None and ledger.store.get_customer_raw("C200") is not None
