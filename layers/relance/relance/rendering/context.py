"""What a message is rendered from: the creditor, the customer, the invoices and their amounts.

The records are frozen dataclasses built by the dispatch code; amounts (penalties, indemnity) come from
the law core, computed on the letter date. Rendering never computes law, it only shows it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from relance.errors import ValidationError
from relance.money import ZERO, cents
from relance.rendering import formatting

Kind = Literal["b2b", "b2c", "public"]
Lang = Literal["fr", "en"]

_KINDS = ("b2b", "b2c", "public")
CLAIMING_STEPS = ("formal_notice", "final_notice")
"""Steps whose message claims penalties (or interest) and the indemnity on top of the principal."""
_LANGS = ("fr", "en")


@dataclass(frozen=True, slots=True)
class CompanyInfo:
    """The creditor: who writes, how to reach them and where to pay."""

    name: str
    siren: str
    address: str
    email: str
    reply_to: str
    phone: str | None
    iban: str
    bic: str
    team_email: str
    website: str | None = None
    legal_form: str | None = None
    share_capital: str | None = None
    rcs_city: str | None = None
    signatory: str | None = None
    signatory_title: str | None = None
    mediator_name: str | None = None
    mediator_address: str | None = None
    mediator_website: str | None = None

    @property
    def registration(self) -> str:
        """The creditor's identification as C. com. R123-237 wants it on letters: legal form and share capital,
        ``RCS <city of the registry>`` and the SIREN (``SAS au capital de 50 000 € – RCS Lyon 123456782``).
        Without an RCS city (not a registered trader), the SIREN alone."""
        siren = self.siren
        parts = []
        if self.legal_form and self.share_capital:
            parts.append(f"{self.legal_form} au capital de {self.share_capital}")
        elif self.legal_form:
            parts.append(self.legal_form)
        parts.append(f"RCS {self.rcs_city} {siren}" if self.rcs_city else f"SIREN {siren}")
        return " – ".join(parts)

    @property
    def signature_lines(self) -> list[str]:
        """Who signs: the named signatory and their title when set, else the accounts department."""
        if self.signatory:
            return [self.signatory] + ([self.signatory_title] if self.signatory_title else [])
        return []

    @property
    def has_mediator(self) -> bool:
        return bool(self.mediator_name)

    @property
    def city(self) -> str | None:
        """Town of the creditor's address (for the ``Lyon, le ...`` line of a letter)."""
        return formatting.city(self.address)

    @property
    def address_lines(self) -> list[str]:
        return formatting.address_lines(self.address)


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One invoice as shown in a message; ``balance`` is what remains due after partial payments."""

    number: str
    issued: dt.date
    due: dt.date
    amount: Decimal
    paid: Decimal
    balance: Decimal
    days_late: int
    penalties: Decimal = ZERO
    indemnity: Decimal = ZERO
    rate: Decimal | None = None
    # Penalty table (law/table.py): rows per semester that multiply out, payments with their imputation.
    table: Any = None
    # How interest accrues, for the words a letter uses when a rate is missing: "ecb+10", "ecb+8",
    # "legal" (consumer, from the formal notice), "legal-x3", or a contractual fraction such as "0.15".
    rate_basis: str | None = None
    rates_missing: str | None = None      # why no interest figure could be computed (a rate is missing)

    @property
    def partially_paid(self) -> bool:
        return self.paid > 0

    @property
    def claimed(self) -> Decimal:
        """Balance plus the late-payment penalties and the recovery indemnity on this invoice."""
        return cents(self.balance + self.penalties + self.indemnity)


@dataclass(frozen=True, slots=True)
class ContactEntry:
    """One earlier contact with the customer about these invoices."""

    date: dt.date
    step: str
    channel: str


@dataclass(frozen=True, slots=True)
class MessageContext:
    """Everything one message needs. Several invoices of one customer make one grouped message.

    ``extra`` carries what only some templates need: ``approval_link``, ``partner``, ``case_id``,
    ``reason``, ``expires`` ... ``customer_siren`` is shown for businesses and public buyers.
    """

    company: CompanyInfo
    customer_name: str
    customer_kind: Kind
    customer_address: str | None
    language: Lang
    step: str
    letter_date: dt.date
    invoices: tuple[InvoiceLine, ...]
    reference: str
    deadline: dt.date | None = None
    history: tuple[ContactEntry, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    customer_siren: str | None = None

    def __post_init__(self) -> None:
        where = f"message {self.step}"
        if self.customer_kind not in _KINDS:
            raise ValidationError(f"customer kind {self.customer_kind!r} is not one of {_KINDS}", where)
        if self.language not in _LANGS:
            raise ValidationError(f"language {self.language!r} is not one of {_LANGS}", where)
        if not self.invoices:
            raise ValidationError("a message needs at least one invoice", where)
        if not isinstance(self.invoices, tuple):
            object.__setattr__(self, "invoices", tuple(self.invoices))
        if not isinstance(self.history, tuple):
            object.__setattr__(self, "history", tuple(self.history))

    @property
    def person_named(self) -> bool:
        """The letter is addressed to a named person (a consumer), not to a business or a public body."""
        return self.customer_kind == "b2c"

    def salutation(self) -> str:
        """``Madame, Monsieur,`` only when no person is named; ``Monsieur,``/``Madame,`` when the name carries
        its civility, else ``Bonjour <name>,`` (English: ``Dear Sir or Madam,`` / ``Dear <name>,``)."""
        name = " ".join(self.customer_name.split())
        if not self.person_named:
            return "Madame, Monsieur," if self.language == "fr" else "Dear Sir or Madam,"
        first = name.split(" ", 1)[0].rstrip(".").lower()
        if self.language == "fr":
            civility = {"m": "Monsieur", "mr": "Monsieur", "monsieur": "Monsieur", "mme": "Madame",
                        "madame": "Madame"}.get(first)
            return f"{civility}," if civility else f"Bonjour {name},"
        return f"Dear {name},"

    def vocative(self) -> str:
        """The address repeated in the closing formula, commas included (``, Madame, Monsieur,`` in ``Nous vous
        prions d'agréer, Madame, Monsieur, l'expression ...``); nothing for a person named without civility."""
        return "" if self.person_named and not self.salutation().startswith(("Monsieur", "Madame")) else (
            ", " + self.salutation())

    @property
    def consumer(self) -> bool:
        """A consumer debtor: no 40 € indemnity, no recovery fees of any kind (L111-8 CPCE)."""
        return self.customer_kind == "b2c"

    @property
    def total_amount(self) -> Decimal:
        return cents(sum((i.amount for i in self.invoices), ZERO))

    @property
    def total_paid(self) -> Decimal:
        return cents(sum((i.paid for i in self.invoices), ZERO))

    @property
    def total_balance(self) -> Decimal:
        """What the customer still owes in principal on the listed invoices."""
        return cents(sum((i.balance for i in self.invoices), ZERO))

    @property
    def total_penalties(self) -> Decimal:
        """Late-payment penalties (b2b, public) or legal interest (b2c, from the formal notice)."""
        return cents(sum((i.penalties for i in self.invoices), ZERO))

    @property
    def total_indemnity(self) -> Decimal:
        """The 40 € per invoice indemnity; always zero for a consumer, whatever the lines say."""
        if self.consumer:
            return ZERO
        return cents(sum((i.indemnity for i in self.invoices), ZERO))

    @property
    def total_claimed(self) -> Decimal:
        """Balance + penalties (or interest) + indemnity: the amount a formal notice asks for."""
        return cents(self.total_balance + self.total_penalties + self.total_indemnity)

    @property
    def amount_asked(self) -> Decimal:
        """What this message asks the customer to pay: the total claimed (principal, penalties or interest,
        indemnity) in a formal or final notice, the principal balance before. The EPC QR code and every
        "amount to pay" line of the letter and the email show this figure."""
        return self.total_claimed if self.step in CLAIMING_STEPS else self.total_balance

    @property
    def penalty_tables(self) -> list[Any]:
        """The penalty tables of the invoices that have one (law/table.py), in the order of the invoices."""
        return [i.table for i in self.invoices if i.table is not None and (i.table.rows or i.table.imputations)]

    @property
    def rates_missing(self) -> bool:
        """A rate is missing for one of the invoices: the letter states no interest figure, only words."""
        return any(i.rates_missing for i in self.invoices)

    @property
    def max_days_late(self) -> int:
        return max(i.days_late for i in self.invoices)

    @property
    def numbers(self) -> str:
        """Invoice numbers joined for a subject line (``F-001, F-002``)."""
        return ", ".join(i.number for i in self.invoices)
