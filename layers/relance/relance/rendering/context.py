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
    ``reason``, ``expires`` ...
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
