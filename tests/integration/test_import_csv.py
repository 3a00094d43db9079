"""CSV import into the table (embedded AWS): French variants, idempotence, refusals with line numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from test_api_support import ledger_of

from relance.imports.csv_import import import_csv
from relance.ledger import Ledger
from relance_dev.embedded import EmbeddedAws

TODAY = dt.date(2026, 5, 4)

FRENCH = (
    "client;nom;type;email;telephone;adresse;facture;date_facture;echeance;montant_ttc\n"
    "C1;Boulangerie Exemple SARL;entreprise;compta@boulangerie.example;06 12 34 56 78;"
    "4 rue des Lilas, 69003 Lyon;F-001;17/03/2026;16/04/2026;1 800,00\n"
    "C1;Boulangerie Exemple SARL;entreprise;compta@boulangerie.example;06 12 34 56 78;"
    "4 rue des Lilas, 69003 Lyon;F-002;01/04/2026;01/05/2026;1\u202f200,50\n"
    "C2;Élodie Martin;particulier;elodie@exemple.example;;12 allée des Érables, 35000 Rennes;"
    "F-003;2026-04-02;2026-05-02;99,90\n"
)
ENGLISH = (
    "customer_id,customer_name,kind,email,phone,address,invoice,issued,due,amount\n"
    'C1,Boulangerie Exemple SARL,b2b,compta@boulangerie.example,+33612345678,"4 rue des Lilas, 69003 Lyon",'
    "F-001,2026-03-17,2026-04-16,1800.00\n"
)


@pytest.fixture
def ledger(embedded: EmbeddedAws) -> Iterator[Ledger]:
    yield ledger_of(embedded)


def test_french_file_with_bom_is_imported(ledger: Ledger) -> None:
    # Given a French CSV with a BOM, mixed date and amount spellings; When it is imported
    report = import_csv(b"\xef\xbb\xbf" + FRENCH.encode(), ledger, TODAY)
    # Then its three invoices and two customers are created
    assert report.ok, report.to_text()
    assert report.invoices == {"created": 3, "updated": 0, "unchanged": 0}
    assert report.customers == {"created": 2, "updated": 0, "unchanged": 1}
    # And amounts with a narrow no-break space as thousands separator are read
    assert ledger.invoice("F-002").balance == 1200.50
    # And an overdue invoice has a step due today
    assert ledger.invoice("F-001").next_action == TODAY        # overdue: a step is due today
    # And a private customer is b2c without a phone, a phone is normalised
    customer = ledger.customer("C2")
    assert (customer.kind, customer.name, customer.phone) == ("b2c", "Élodie Martin", None)
    assert ledger.customer("C1").phone == "+33612345678"


def test_windows_1252_file_is_imported(ledger: Ledger) -> None:
    # Given the French CSV in Windows-1252; When it is imported
    report = import_csv(FRENCH.replace("\u202f", " ").encode("cp1252"), ledger, TODAY)
    # Then it is accepted, accents kept
    assert report.ok, report.to_text()
    assert ledger.customer("C2").name == "Élodie Martin"


def test_reimport_is_idempotent_even_across_languages(ledger: Ledger) -> None:
    # Given the French CSV imported
    assert import_csv(FRENCH.encode(), ledger, TODAY).created == 3
    # When it is imported again
    again = import_csv(FRENCH.encode(), ledger, TODAY)
    # Then nothing changes
    assert again.ok and again.created == 0
    assert again.invoices == {"created": 0, "updated": 0, "unchanged": 3}
    assert again.customers == {"created": 0, "updated": 0, "unchanged": 3}
    # When the same invoice comes in an English CSV
    english = import_csv(ENGLISH.encode(), ledger, TODAY)       # same invoice, other spelling of the same values
    # Then it is unchanged too
    assert english.ok and english.invoices["unchanged"] == 1 and english.customers["unchanged"] == 1
    # And the history has only the first import
    assert [e["kind"] for e in ledger.history("F-001")] == ["imported"]


def test_a_corrected_due_date_updates_the_invoice(ledger: Ledger) -> None:
    # Given the French CSV imported
    import_csv(FRENCH.encode(), ledger, TODAY)
    # When it is imported again with a later due date for F-002
    corrected = FRENCH.replace("F-002;01/04/2026;01/05/2026", "F-002;01/04/2026;31/05/2026")
    report = import_csv(corrected.encode(), ledger, TODAY)
    # Then that invoice is updated
    assert report.invoices == {"created": 0, "updated": 1, "unchanged": 2}
    # And its next action moves after today
    record = ledger.invoice("F-002")
    assert record.raw["due"] == "2026-05-31" and record.next_action is not None and record.next_action > TODAY


def test_bad_rows_are_reported_with_line_and_column_and_nothing_half_applied(ledger: Ledger) -> None:
    # Given a CSV whose rows are wrong in each way but one, one row repeated
    data = (
        "client;nom;type;email;facture;date_facture;echeance;montant_ttc\n"
        "C1;Boulangerie;entreprise;compta@boulangerie.example;F-1;17/03/2026;16/04/2026;1,200.00\n"   # 2 ambiguous
        "C9;Nouveau client;entreprise;pas-un-email;F-2;17/03/2026;16/04/2026;100,00\n"               # 3 bad email
        "C3;Client trois;entreprise;;F-3;17/03/2026;31/02/2026;100,00\n"                              # 4 bad date
        "C4;Client quatre;entreprise;;F-4;17/04/2026;16/03/2026;100,00\n"                             # 5 due < issued
        "C5;Client cinq;;;F-5;17/03/2026;16/04/2026;100,00\n"                                         # 6 no kind
        "C6;Client six;entreprise;;F-6;17/03/2026;16/04/2026;100,00\n"                                # 7 good
        "C6;Client six;entreprise;;F-6;17/03/2026;16/04/2026;100,00\n"                                # 8 duplicate
        "C7;Client sept;entreprise;;F-7;17/03/2026\n"                                                 # 9 short row
    )
    # When it is imported
    report = import_csv(data.encode(), ledger, TODAY)
    # Then each bad row is reported with its line and column
    by_line = {e.line: e for e in report.errors}
    assert sorted(by_line) == [2, 3, 4, 5, 6, 8, 9]
    assert by_line[2].field == "amount" and "ambiguous amount '1,200.00'" in by_line[2].reason
    assert by_line[3].field == "email"
    assert by_line[4].field == "due" and "31/02/2026" in by_line[4].reason
    assert by_line[5].field == "due" and "before the issue date" in by_line[5].reason
    assert by_line[6].field == "kind"
    assert "already on line 7" in by_line[8].reason
    assert "cells" in by_line[9].reason
    # And nothing is written, not even the good row's invoice
    assert report.invoices["created"] == 0 and ledger.store.get_invoice("F-6") is None   # all or nothing
    # The customer of a refused row was not written either.
    assert ledger.store.get_customer_raw("C9") is None and ledger.store.get_customer_raw("C1") is None
    # And the messages give the line
    assert "line 2" in str(report.errors[0]) and report.to_text().splitlines()[1].startswith("<csv>:2: ")


def test_dry_run_writes_nothing(ledger: Ledger) -> None:
    # Given the French CSV; When it is imported as a dry run
    report = import_csv(FRENCH.encode(), ledger, TODAY, dry_run=True)
    # Then it reports what it would create
    assert report.ok and report.created == 3 and report.dry_run
    # And writes nothing
    assert ledger.store.get_invoice("F-001") is None and ledger.store.get_customer_raw("C1") is None


def test_unreadable_header_is_one_error_on_line_1(ledger: Ledger) -> None:
    # Given a CSV with an unknown header; When it is imported
    report = import_csv(b"foo;bar\n1;2\n", ledger, TODAY)
    # Then it is one error on line 1 naming the column
    assert not report.ok and report.errors[0].line == 1 and "unknown column 'foo'" in report.errors[0].reason
    # And no row is read
    assert report.rows == 0


def test_paid_invoice_cannot_be_changed_by_a_reimport(ledger: Ledger) -> None:
    # Given the French CSV imported and invoice F-003 paid
    import_csv(FRENCH.encode(), ledger, TODAY)
    ledger.record_payment("F-003", ledger.invoice("F-003").balance, TODAY)
    # When it is imported again with another amount for F-003
    report = import_csv(FRENCH.replace("99,90", "89,90").encode(), ledger, TODAY)
    # Then the row is refused: a paid invoice's amount cannot change
    (error,) = report.errors
    assert error.line == 4 and error.field == "amount" and "paid" in error.reason
