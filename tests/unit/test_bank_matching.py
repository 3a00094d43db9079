"""Matching credits to open invoices (with reasons), booking once, and the team's manual match."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import pytest
from bank_samples import camt, cfonb, ofx_v1

from relance.bank import StatementEntry
from relance.bank.matcher import customers_named, decide, exact_subsets
from relance.bank.ports import OpenInvoice
from relance.bank.refs import canonical, creditor_reference, references_in
from relance.bank.service import import_statement, match_entry
from relance.errors import NotFoundError, ValidationError

D = Decimal
DUE = dt.date(2026, 4, 16)
TODAY = dt.date(2026, 5, 4)


def inv(iid: str, customer: str, balance: str, name: str = "", due: dt.date = DUE) -> OpenInvoice:
    return OpenInvoice(iid, customer, D(balance), due, name)


INVOICES = [
    inv("F-2026-031", "C1", "1800.00", "Boulangerie Exemple SARL"),
    inv("F-2026-032", "C2", "2400.00", "Garage Martin SAS"),
    inv("F-2026-033", "C3", "600.00", "Café du Port EURL", dt.date(2026, 4, 10)),
    inv("F-2026-034", "C3", "850.50", "Café du Port EURL"),
    inv("F-2026-035", "C4", "1200.00", "Atelier Durand"),
    inv("F-2026-036", "C5", "990.00", "Imprimerie Leroy"),
]


def credit(amount: str, text: str = "", name: str = "", iban: str = "", rf: str = "", ref: str = "R1"
           ) -> StatementEntry:
    return StatementEntry(account="FR76...", booking_date=TODAY, amount=D(amount), credit=True, bank_ref=ref,
                          remittance=text, payer_name=name, payer_iban=iban, structured_ref=rf)


# ---------------------------------------------------------------------------- references
@pytest.mark.parametrize("text", ["FACTURE F-2026-031", "fact f2026031", "Fact. F 2026 031", "F° F-2026-031",
                                  "REGLEMENT FACTURE N° F-2026-031 MERCI", "f-2026-031"])
def test_reference_found_whatever_its_spelling(text: str) -> None:
    assert references_in(text, [i.invoice_id for i in INVOICES]) == ["F-2026-031"]


def test_numeric_reference_after_a_prefix_and_short_ids_not_guessed() -> None:
    assert references_in("F°2026031", ["2026031"]) == ["2026031"]
    assert references_in("FACT2026031", ["2026031"]) == ["2026031"]
    assert references_in("REMISE 1 000 A1", ["A1"]) == []
    assert references_in("VIR 20260310", ["2026031"]) == []           # a longer number is not the invoice
    assert canonical("é-1 2/3") == "E123"


def test_rf_reference_is_iso11649() -> None:
    from stdnum import iso11649

    rf = creditor_reference("F-2026-036")
    assert rf.startswith("RF") and iso11649.is_valid(rf) and rf.endswith("F2026036")
    assert creditor_reference("X" * 22) == ""


# ---------------------------------------------------------------------------- decisions
def test_full_payment_by_reference() -> None:
    decision = decide(credit("1800.00", "FACTURE F-2026-031"), INVOICES)
    assert [(a.invoice_id, a.amount) for a in decision.allocations] == [("F-2026-031", D("1800.00"))]
    assert decision.reason == "référence F-2026-031 trouvée dans le libellé"


def test_partial_payment_by_reference() -> None:
    decision = decide(credit("1000.00", "FACT F 2026 032 ACOMPTE"), INVOICES)
    assert [(a.invoice_id, a.amount) for a in decision.allocations] == [("F-2026-032", D("1000.00"))]
    assert "paiement partiel de 1\u202f000,00 € sur 2\u202f400,00 €" in decision.reason


def test_two_references_split_oldest_first() -> None:
    decision = decide(credit("1000.00", "F-2026-034 F-2026-033"), INVOICES)
    assert [(a.invoice_id, a.amount) for a in decision.allocations] == [
        ("F-2026-033", D("600.00")), ("F-2026-034", D("400.00"))]


def test_references_of_two_customers_are_not_booked() -> None:
    decision = decide(credit("3000.00", "F-2026-031 F-2026-032"), INVOICES)
    assert not decision.matched and set(decision.candidates) == {"C1", "C2"}


def test_one_transfer_for_two_invoices_by_sum() -> None:
    decision = decide(credit("1450.50", "VIREMENT AVRIL", "CAFE DU PORT"), INVOICES)
    assert [a.invoice_id for a in decision.allocations] == ["F-2026-033", "F-2026-034"]
    assert decision.rule == "sum" and "somme des soldes" in decision.reason


def test_sum_with_the_payer_known_by_iban() -> None:
    decision = decide(credit("1450.50", "VIR", "X", "FR7620041010050050001340242"), INVOICES, {"C3"})
    assert decision.rule == "sum" and "IBAN connu" in decision.reason


def test_rf_structured_reference() -> None:
    rf = creditor_reference("F-2026-036")
    decision = decide(credit("990.00", "", "SARL LEROY ET FILS", rf=rf), INVOICES)
    assert decision.rule == "rf" and [a.invoice_id for a in decision.allocations] == ["F-2026-036"]
    assert decide(credit("990.00", f"paiement {rf}"), INVOICES).rule == "rf"       # RF written in the text


def test_known_iban_and_exact_amount() -> None:
    decision = decide(credit("1200.00", "VIR", "", "FR7611306000870009999000172"), INVOICES, {"C4"})
    assert [a.invoice_id for a in decision.allocations] == ["F-2026-035"] and decision.rule == "iban"


def test_unknown_payer_goes_to_the_team() -> None:
    decision = decide(credit("777.00", "VIR SEPA REMBOURSEMENT CAUTION", "M DUPONT JEAN"), INVOICES)
    assert not decision.matched and decision.rule == "unknown" and "payeur inconnu" in decision.reason


def test_known_payer_amount_fitting_nothing_goes_to_the_team() -> None:
    decision = decide(credit("1000.00", "VIR", "CAFE DU PORT"), INVOICES)
    assert not decision.matched and decision.rule == "no_fit"
    assert decision.candidates == {"C3": ("F-2026-033", "F-2026-034")}


def test_two_candidate_customers_go_to_the_team() -> None:
    decision = decide(credit("1200.00", "VIR", "", "FR76"), INVOICES, {"C4", "C1"})
    assert not decision.matched and decision.rule == "ambiguous" and set(decision.candidates) == {"C1", "C4"}


def test_two_fitting_combinations_are_ambiguous() -> None:
    invoices = [inv("X-001", "C9", "100.00", "Dupont"), inv("X-002", "C9", "100.00", "Dupont")]
    assert len(exact_subsets(D("100.00"), invoices)) == 2
    assert decide(credit("100.00", "", "DUPONT"), invoices).rule == "ambiguous"


def test_debits_are_ignored() -> None:
    entry = replace(credit("1800.00", "F-2026-031"), credit=False)
    assert not decide(entry, INVOICES).matched


def test_names_match_on_significant_words() -> None:
    names = {"C1": "Boulangerie Exemple SARL", "C3": "Café du Port EURL", "C4": "Atelier Durand"}
    assert customers_named("BOULANGERIE EXEMPLE", names) == {"C1"}
    assert customers_named("SARL CAFE DU PORT", names) == {"C3"}
    assert customers_named("DURAND", names) == set()


# ---------------------------------------------------------------------------- the service, with fakes
@dataclass
class FakeStore:
    invoices: list[OpenInvoice]
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    ibans: dict[str, set[str]] = field(default_factory=dict)

    def open_invoices(self) -> list[OpenInvoice]:
        return [i for i in self.invoices if i.balance > 0]

    def customers_of_iban(self, iban: str) -> set[str]:
        return set(self.ibans.get(iban, set()))

    def learn_iban(self, iban: str, customer_id: str, when: dt.date) -> None:
        self.ibans.setdefault(iban, set()).add(customer_id)

    def get_entry(self, key: str) -> dict[str, Any] | None:
        return self.entries.get(key)

    def claim_entry(self, key: str, record: Mapping[str, Any]) -> bool:
        if key in self.entries and self.entries[key]["status"] != "unmatched":
            return False
        self.entries[key] = dict(record)
        return True

    def put_unmatched(self, key: str, record: Mapping[str, Any]) -> bool:
        if key in self.entries:
            return False
        self.entries[key] = dict(record)
        return True

    def set_entry(self, key: str, fields: Mapping[str, Any]) -> None:
        self.entries[key].update(fields)


@dataclass
class FakeRecord:
    invoice_id: str
    customer_id: str
    balance: Decimal
    raw: dict[str, Any]
    status: str = "open"


@dataclass
class FakeLedger:
    store: FakeStore
    payments: list[tuple[str, Decimal, dt.date, str]] = field(default_factory=list)
    notes: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def record_payment(self, invoice_id: str, amount: Decimal, paid_on: dt.date, reference: str | None = None
                       ) -> None:
        self.payments.append((invoice_id, amount, paid_on, reference or ""))
        self.store.invoices = [replace(i, balance=i.balance - amount) if i.invoice_id == invoice_id else i
                               for i in self.store.invoices]

    def note(self, invoice_id: str, today: dt.date, kind: str, details: Mapping[str, Any]) -> None:
        self.notes.append((invoice_id, kind, dict(details)))

    def invoice(self, invoice_id: str) -> FakeRecord:
        for i in self.store.invoices:
            if i.invoice_id == invoice_id:
                return FakeRecord(i.invoice_id, i.customer_id, i.balance, {"due": i.due.isoformat()},
                                  "open" if i.balance > 0 else "paid")
        raise NotFoundError(f"invoice {invoice_id} does not exist")


def _run(data: bytes, name: str, store: FakeStore, ledger: FakeLedger, tasks: list[Any], dry: bool = False
         ) -> Any:
    def notify(subject: str, message: str, customer: str, invoices: Sequence[str]) -> None:
        tasks.append((subject, message, customer, tuple(invoices)))

    return import_statement(data, name, ledger, store, TODAY, notify=notify, dry_run=dry)  # type: ignore[arg-type]


def _paid(ledger: FakeLedger) -> list[tuple[str, Decimal]]:
    return sorted((i, a) for i, a, _, _ in ledger.payments)


PAID = [("F-2026-031", D("1800.00")), ("F-2026-032", D("1000.00")), ("F-2026-033", D("600.00")),
        ("F-2026-034", D("850.50")), ("F-2026-036", D("990.00"))]


def test_statement_imported_twice_books_once_and_tasks_once() -> None:
    store = FakeStore(list(INVOICES))
    ledger = FakeLedger(store)
    tasks: list[Any] = []
    report = _run(camt(), "statements/releve.xml", store, ledger, tasks)
    assert _paid(ledger) == PAID
    assert report.count("booked") == 4 and report.count("unmatched") == 1 and report.count("ignored") == 1
    assert len(tasks) == 1 and "777,00 €" in tasks[0][0] and "relance bank match 2026050400003" in tasks[0][1]
    assert ledger.payments[0][2] == dt.date(2026, 4, 30)       # booked on the bank's booking date
    assert ledger.payments[0][3] == "bank:statements/releve.xml#2026043000001"
    assert ledger.notes[0] == ("F-2026-031", "bank_match", {
        "entry": "2026043000001", "source": "statements/releve.xml",
        "reason": "référence F-2026-031 trouvée dans le libellé"})
    again = _run(camt(), "statements/releve.xml", store, ledger, tasks)
    assert _paid(ledger) == PAID and len(tasks) == 1
    assert again.count("already") == 5 and again.count("booked") == 0


@pytest.mark.parametrize(("build", "name"), [(ofx_v1, "releve.ofx"), (cfonb, "releve.txt")])
def test_ofx_and_cfonb_give_the_same_payments(build: Any, name: str) -> None:
    store = FakeStore(list(INVOICES))
    ledger = FakeLedger(store)
    _run(build(), name, store, ledger, [])
    assert _paid(ledger) == PAID


def test_the_same_entries_in_another_format_are_not_booked_again() -> None:
    store = FakeStore(list(INVOICES))
    ledger = FakeLedger(store)
    _run(camt(), "a.xml", store, ledger, [])
    _run(cfonb(), "a.txt", store, ledger, [])
    assert _paid(ledger) == PAID


def test_payer_iban_is_learnt_and_used_next_time() -> None:
    store = FakeStore(list(INVOICES))
    ledger = FakeLedger(store)
    _run(camt(), "a.xml", store, ledger, [])
    assert store.ibans["FR7630003012340005001234509"] == {"C2"}
    entry = credit("1400.00", "VIREMENT", "", "FR7630003012340005001234509", ref="NEXT")
    assert decide(entry, store.open_invoices(), store.customers_of_iban(entry.payer_iban)).rule == "iban"


def test_dry_run_books_nothing_and_keeps_nothing() -> None:
    store = FakeStore(list(INVOICES))
    ledger = FakeLedger(store)
    tasks: list[Any] = []
    report = _run(camt(), "a.xml", store, ledger, tasks, dry=True)
    assert ledger.payments == [] and store.entries == {} and tasks == []
    assert report.count("matched") == 4 and report.count("unmatched") == 1


def test_refused_file_books_nothing() -> None:
    store = FakeStore(list(INVOICES))
    ledger = FakeLedger(store)
    lines = cfonb().split(b"\r\n")
    lines[-3] = lines[-3][:100]
    with pytest.raises(ValidationError):
        _run(b"\r\n".join(lines), "a.txt", store, ledger, [])
    assert ledger.payments == [] and store.entries == {}


def test_manual_match_books_the_unmatched_entry_once() -> None:
    store = FakeStore([*INVOICES, inv("F-2026-040", "C4", "777.00")])
    store.invoices = [i for i in store.invoices if i.invoice_id != "F-2026-040"]
    ledger = FakeLedger(store)
    _run(camt(), "a.xml", store, ledger, [])
    store.invoices.append(inv("F-2026-040", "C4", "777.00"))
    result = match_entry("2026050400003", ["F-2026-040"], ledger, store, TODAY)  # type: ignore[arg-type]
    assert result.status == "booked" and ledger.payments[-1][:2] == ("F-2026-040", D("777.00"))
    assert store.ibans["FR7611306000870009999000172"] == {"C4"}
    with pytest.raises(ValidationError, match="already booked"):
        match_entry("2026050400003", ["F-2026-040"], ledger, store, TODAY)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        match_entry("NOPE", ["F-2026-040"], ledger, store, TODAY)  # type: ignore[arg-type]
