"""Which open invoices a credit entry pays, with the reason a person can check; or why it is uncertain.

Tried in order (the first that decides wins):

1. invoice references written in the remittance text;
2. one transfer paying one or several invoices of the payer's customer whose balances add up to the
   amount (the payer known by its name or by an IBAN seen before; subset-sum, bounded, and unique);
3. the RF creditor reference (ISO 11649) of an invoice, structured or written in the text;
4. the payer's IBAN known from an earlier payment with an amount equal to one invoice's balance.

Anything else is uncertain and is never booked: unknown payer, an amount that fits no combination, two
candidate customers.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from relance.bank.model import StatementEntry
from relance.bank.ports import OpenInvoice
from relance.bank.refs import canonical, creditor_reference, references_in, structured_references
from relance.money import ZERO, cents

# Subset-sum bounds: invoices of one customer considered, and invoices in one transfer.
MAX_CANDIDATES = 20
MAX_COMBINATION = 6
_LEGAL_FORMS = {"SA", "SAS", "SASU", "SARL", "EURL", "SCI", "SNC", "SCOP", "SELARL", "STE", "SOCIETE", "ETS",
                "EI", "EIRL", "M", "MME", "MR", "MLLE", "ET", "LA", "LE", "LES", "DE", "DU", "DES", "CIE"}


def euros(amount: Decimal) -> str:
    """``1234.5`` -> ``1 234,50 €`` (for reasons shown to people)."""
    whole, frac = f"{cents(amount):.2f}".split(".")
    return f"{int(whole):,}".replace(",", "\u202f") + f",{frac} €"


@dataclass(frozen=True)
class Allocation:
    invoice_id: str
    customer_id: str
    amount: Decimal


@dataclass(frozen=True)
class Decision:
    """``allocations`` when matched (booked), else ``candidates`` (customer -> invoices) for the team."""

    reason: str
    rule: str = ""
    allocations: tuple[Allocation, ...] = ()
    candidates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def matched(self) -> bool:
        return bool(self.allocations)

    @property
    def customer(self) -> str:
        if self.allocations:
            return self.allocations[0].customer_id
        return next(iter(self.candidates)) if len(self.candidates) == 1 else ""


def _words(name: str) -> frozenset[str]:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
    return frozenset(w for w in re.split(r"[^A-Z0-9]+", plain) if len(w) > 1 and w not in _LEGAL_FORMS)


def customers_named(payer: str, names: Mapping[str, str]) -> set[str]:
    """Customers whose name's significant words are all in the payer's name (legal forms ignored)."""
    words = _words(payer)
    if not words:
        return set()
    return {cid for cid, name in names.items() if (own := _words(name)) and own <= words}


def allocate(amount: Decimal, invoices: Sequence[OpenInvoice]) -> tuple[Allocation, ...]:
    """Spread ``amount`` over invoices, oldest due first; what is left beyond them goes on the last one
    (the ledger keeps an overpayment as a credit, never lost)."""
    ordered = sorted(invoices, key=lambda i: (i.due, i.invoice_id))
    left = amount
    out: list[Allocation] = []
    for index, invoice in enumerate(ordered):
        if left <= 0:
            break
        part = left if index == len(ordered) - 1 else min(left, invoice.balance)
        out.append(Allocation(invoice.invoice_id, invoice.customer_id, cents(part)))
        left -= part
    return tuple(out)


def exact_subsets(amount: Decimal, invoices: Sequence[OpenInvoice], min_size: int = 1) -> list[tuple[OpenInvoice, ...]]:
    """Every combination (size ``min_size``..MAX_COMBINATION) of at most MAX_CANDIDATES invoices whose
    balances add up to ``amount``; stops at two (two answers are as uncertain as twenty)."""
    pool = sorted(invoices, key=lambda i: (i.due, i.invoice_id))[:MAX_CANDIDATES]
    found: list[tuple[OpenInvoice, ...]] = []
    for size in range(min_size, min(MAX_COMBINATION, len(pool)) + 1):
        for combo in itertools.combinations(pool, size):
            if sum((i.balance for i in combo), ZERO) == amount:
                found.append(combo)
                if len(found) > 1:
                    return found
    return found


def _ids(invoices: Iterable[OpenInvoice]) -> str:
    return ", ".join(i.invoice_id for i in invoices)


def decide(entry: StatementEntry, invoices: Sequence[OpenInvoice], iban_customers: Iterable[str] = ()
           ) -> Decision:
    """The decision for one credit entry against the open invoices (pure: no storage, no clock)."""
    if not entry.credit:
        return Decision("débit : ignoré", "debit")
    by_id = {i.invoice_id: i for i in invoices}
    by_customer: dict[str, list[OpenInvoice]] = defaultdict(list)
    for invoice in invoices:
        by_customer[invoice.customer_id].append(invoice)
    amount = entry.amount

    # 1. references in the remittance text
    text = " ".join(t for t in (entry.remittance, entry.end_to_end) if t)
    named = references_in(text, by_id)
    if named:
        refs = [by_id[i] for i in named]
        owners = {r.customer_id for r in refs}
        if len(owners) > 1:
            return Decision(f"références {_ids(refs)} de clients différents ({', '.join(sorted(owners))})",
                            "text", candidates={c: tuple(r.invoice_id for r in refs if r.customer_id == c)
                                                for c in sorted(owners)})
        label = "référence" if len(refs) == 1 else "références"
        found = "trouvée" if len(refs) == 1 else "trouvées"
        reason = f"{label} {_ids(refs)} {found} dans le libellé"
        total = sum((r.balance for r in refs), ZERO)
        if amount < total:
            reason += f" ; paiement partiel de {euros(amount)} sur {euros(total)}"
        elif amount > total:
            reason += f" ; {euros(amount - total)} de plus que le solde, gardés en avoir"
        return Decision(reason, "text", allocate(amount, refs))

    # 2. one transfer, several invoices of the payer's customer adding up
    names = {i.customer_id: i.customer_name for i in invoices if i.customer_name}
    by_name = customers_named(entry.payer_name, names) if entry.payer_name else set()
    known = set(iban_customers)
    payer_customers = sorted(by_name | known)
    fits = {c: exact_subsets(amount, by_customer.get(c, [])) for c in payer_customers}
    fitting = {c: subsets for c, subsets in fits.items() if subsets}
    if len(payer_customers) == 1 and len(fitting) == 1:   # two candidate customers: a person decides
        (customer, subsets), = fitting.items()
        if len(subsets) == 1:
            combo = subsets[0]
            how = "IBAN connu" if customer in known else f"payeur « {entry.payer_name} »"
            if len(combo) == 1:
                return Decision(f"{euros(amount)} égal au solde de {combo[0].invoice_id} du client {customer} ({how})",
                                "iban" if customer in known else "name", allocate(amount, combo))
            return Decision(f"un virement pour {_ids(combo)} du client {customer} ({how}) : "
                            f"{euros(amount)} = somme des soldes", "sum", allocate(amount, combo))

    # 3. RF creditor reference
    rf_of = {creditor_reference(i.invoice_id): i for i in invoices}
    rf_of.pop("", None)
    for rf in structured_references(entry.structured_ref, entry.remittance):
        if rf in rf_of:
            invoice = rf_of[rf]
            reason = f"référence structurée {rf} de la facture {invoice.invoice_id}"
            if amount != invoice.balance:
                reason += f" ; {euros(amount)} pour un solde de {euros(invoice.balance)}"
            return Decision(reason, "rf", allocate(amount, [invoice]))

    # 4. the payer's IBAN known from an earlier payment, with an exact amount
    if len(known) == 1:
        customer = next(iter(known))
        exact = [i for i in by_customer.get(customer, []) if i.balance == amount]
        if len(exact) == 1:
            return Decision(f"IBAN {entry.payer_iban} connu du client {customer} et montant {euros(amount)} "
                            f"égal au solde de {exact[0].invoice_id}", "iban", allocate(amount, exact))

    # uncertain: the team decides
    candidates = {c: tuple(i.invoice_id for i in by_customer.get(c, [])) for c in payer_customers}
    if not payer_customers:
        guess = [i for i in invoices if i.balance == amount]
        reason = f"payeur inconnu ({entry.payer_name or 'sans nom'}) : aucune référence de facture, IBAN jamais vu"
        if guess:
            reason += f" ; même montant que {_ids(guess)}"
            candidates = {c: tuple(i.invoice_id for i in guess if i.customer_id == c)
                          for c in sorted({i.customer_id for i in guess})}
        return Decision(reason, "unknown", candidates=candidates)
    if len(fitting) > 1 or len(payer_customers) > 1:
        return Decision(f"plusieurs clients possibles ({', '.join(payer_customers)}) pour {euros(amount)}",
                        "ambiguous", candidates=candidates)
    customer = payer_customers[0]
    subsets = fits.get(customer) or []
    if len(subsets) > 1:
        return Decision(f"{euros(amount)} correspond à plusieurs combinaisons de factures du client {customer}",
                        "ambiguous", candidates=candidates)
    return Decision(f"{euros(amount)} ne correspond à aucune combinaison des factures ouvertes du client "
                    f"{customer}", "no_fit", candidates=candidates)


__all__ = ["Allocation", "Decision", "allocate", "canonical", "customers_named", "decide", "euros", "exact_subsets"]
