"""Domain records: customers, invoices and what happens to them (payments, disputes, promises, plans).

Every record is validated on the way in; a bad field gives a ValidationError that names the record and
the field (``invoice A1: field 'due': ...``). Money is Decimal, dates are calendar dates (Europe/Paris).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

import pydantic
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from relance.errors import ValidationError
from relance.money import parse_amount

CustomerKind = Literal["b2b", "b2c", "public"]
Language = Literal["fr", "en"]

_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
_EMAIL = re.compile(r"^[^@\s<>\"',;\r\n]+@[^@\s<>\"',;\r\n]+\.[A-Za-z]{2,}$")
_SIREN = re.compile(r"^[0-9]{9}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$")
ID_PATTERN = _ID
_NO_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")   # C0, DEL, C1 (NEL) and Unicode line breaks
# Bidi embeddings, overrides, isolates and marks: "Facture \u202egpj.exe" shows as "Facture exe.jpg".
_BIDI = re.compile(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Zero-width and invisible characters: two names that look the same but are not (and evade a search).
_INVISIBLE = re.compile(r"[\u00ad\u180e\u200b-\u200d\u2060-\u2064\ufeff]")
# Noncharacters (U+FFFE, U+FFFF, U+FDD0-U+FDEF and the last two of every plane): never text; a PDF font,
# an email header or a JSON parser downstream may choke on them.
_NONCHARACTER = re.compile("[\ufdd0-\ufdef\ufffe\uffff]|[\U0001fffe-\U0001ffff]|[\U0010fffe-\U0010ffff]")
DATE_YEARS = (2000, 2100)       # an invoice, a payment or a promise outside these years is a typo


def _in_years(day: dt.date) -> dt.date:
    low, high = DATE_YEARS
    if not low <= day.year <= high:
        raise ValueError(f"date {day.isoformat()} is not between {low} and {high}")
    return day


def _iso_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, dt.date):
        return _in_years(value)
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip(), re.ASCII):
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a real calendar date") from exc
        return _in_years(day)
    raise ValueError(f"{value!r} is not an ISO date (YYYY-MM-DD)")


def _amount(value: Any) -> Decimal:
    return parse_amount(value, allow_zero=True)


def _positive_amount(value: Any) -> Decimal:
    return parse_amount(value)


def unsafe_text(value: str) -> str | None:
    """Why ``value`` is not safe to store and show (bidi, invisible, noncharacter), else None."""
    if _NONCHARACTER.search(value):
        return "contains a Unicode noncharacter (U+FFFE/U+FFFF...)"
    if _BIDI.search(value):
        return "contains bidirectional control characters (U+202E...) that change how it reads"
    if _INVISIBLE.search(value):
        return "contains invisible (zero-width) characters"
    return None


def _text(value: str) -> str:
    """Single-line text: control characters (CR/LF included) would let a name inject mail headers;
    bidi overrides, zero-width characters and noncharacters make it read as something else."""
    if _NO_CONTROL.search(value):
        raise ValueError("must be one line of text without control characters (CR, LF, NUL, ESC...)")
    problem = unsafe_text(value)
    if problem:
        raise ValueError(problem)
    return value.strip()


def free_text(value: str) -> str:
    """A reason or a note: line breaks and tabs become spaces (neutralised); other control characters,
    bidi overrides, invisible characters and noncharacters are refused."""
    value = re.sub(r"[\r\n\t\u2028\u2029\x85]+", " ", value)
    return _text(value)


def _record_id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(f"{value!r} is not a valid id (letters, digits, . _ - /, at most 64)")
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value) or len(value) > 254:
        raise ValueError(f"{value!r} is not an email address")
    return value.strip()


def _phone(value: str) -> str:
    compact = re.sub(r"[\s.\-()]", "", value)
    if compact.startswith("0") and len(compact) == 10:  # French national format -> E.164
        compact = "+33" + compact[1:]
    if not _E164.match(compact):
        raise ValueError(f"{value!r} is not a phone number in E.164 format (+33612345678)")
    return compact


Date = Annotated[dt.date, BeforeValidator(_iso_date)]
Amount = Annotated[Decimal, BeforeValidator(_amount)]
PositiveAmount = Annotated[Decimal, BeforeValidator(_positive_amount)]
Text = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_text)]
OneLine = Annotated[str, AfterValidator(_text)]          # references, addresses: refused, never neutralised
FreeText = Annotated[str, AfterValidator(free_text)]     # reasons: line breaks neutralised
RecordId = Annotated[str, AfterValidator(_record_id)]
Email = Annotated[str, AfterValidator(_email)]
Phone = Annotated[str, AfterValidator(_phone)]


class Record(BaseModel):
    """Base of the domain records: strict about unknown fields, immutable once validated.

    ``defer_build``: each model's validator is built on its first use, not when this module is imported
    (a handler's cold start pays only for the records it reads).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True)


class Customer(Record):
    """A debtor. ``kind`` decides the law that applies (b2b, b2c consumer, public buyer)."""

    id: RecordId
    name: Text
    kind: CustomerKind
    email: Email | None = None
    phone: Phone | None = None
    address: Annotated[str, Field(max_length=300), AfterValidator(_text)] | None = None
    language: Language = "fr"
    segment: Annotated[str, Field(max_length=50), AfterValidator(_text)] | None = None
    policy: Annotated[str, Field(pattern=r"^[a-z0-9_\-]{1,50}$")] = "standard"
    siren: Annotated[str, Field(pattern=_SIREN.pattern)] | None = None
    email_bounced: bool = False

    @property
    def reachable(self) -> bool:
        """Whether at least one channel can reach this customer."""
        return bool((self.email and not self.email_bounced) or self.phone or self.address)


class InvoiceStatus(StrEnum):
    """Life of an invoice. Only ``open`` invoices are chased."""

    OPEN = "open"
    PAID = "paid"
    WRITTEN_OFF = "written_off"
    HANDED_OFF = "handed_off"
    DECLINED = "escalation_declined"
    CANCELLED = "cancelled"   # e-invoicing 210 refused / 213 rejected: never chase
    TIME_BARRED = "time_barred"   # limitation passed (law/limitation.py): nothing may be claimed any more


STOP_STATUSES = frozenset(s for s in InvoiceStatus if s is not InvoiceStatus.OPEN)


class Invoice(Record):
    """An invoice as the creditor issued it. ``amount`` is TTC in EUR; ``balance`` is what remains due."""

    id: RecordId
    customer: RecordId
    issued: Date
    due: Date
    amount: PositiveAmount
    balance: Amount | None = None
    currency: Literal["EUR"] = "EUR"
    status: InvoiceStatus = InvoiceStatus.OPEN
    # Date the goods or service were delivered: the consumer limitation period runs from it (L218-2).
    delivered: Date | None = None
    # Contractual late-payment rate (e.g. "0.15"); None means the legal default (ECB + 10 points).
    contract_rate: Annotated[Decimal, Field(ge=0, le=1)] | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Invoice:
        if self.due < self.issued:
            raise ValueError(f"due date {self.due} is before the issue date {self.issued}")
        if (self.due - self.issued).days > 366:
            raise ValueError(f"due date {self.due} is more than a year after the issue date {self.issued}")
        if self.balance is not None and self.balance > self.amount:
            raise ValueError(f"balance {self.balance} is larger than the amount {self.amount}")
        return self

    @property
    def outstanding(self) -> Decimal:
        return self.amount if self.balance is None else self.balance


class Payment(Record):
    """Money received on an invoice; ``date`` is the day the funds were credited (K11)."""

    invoice: RecordId
    date: Date
    amount: PositiveAmount
    reference: Annotated[str, Field(max_length=100), AfterValidator(_text)] | None = None


class Dispute(Record):
    """The customer contests the invoice: the ladder pauses until the dispute is resolved."""

    invoice: RecordId
    date: Date
    reason: Annotated[str, Field(max_length=500), AfterValidator(free_text)] = ""


class Promise(Record):
    """A promise to pay by ``until``: the ladder pauses until then and resumes the day after if unpaid."""

    invoice: RecordId
    date: Date
    until: Date

    @model_validator(mode="after")
    def _future(self) -> Promise:
        if self.until < self.date:
            raise ValueError(f"promise date {self.until} is before the day it was made ({self.date})")
        return self


class Instalment(Record):
    date: Date
    amount: PositiveAmount


class PaymentPlan(Record):
    """An échéancier: paused while every instalment due so far is paid."""

    invoice: RecordId
    date: Date
    instalments: Annotated[list[Instalment], Field(min_length=1, max_length=60)]


M = TypeVar("M", bound=BaseModel)


def parse_record(model: type[M], data: Any, where: str) -> M:
    """Validate ``data`` as ``model``; a failure is one ValidationError naming ``where`` and the field."""
    if not isinstance(data, dict):
        raise ValidationError(f"expected a mapping of fields, got {type(data).__name__}", where)
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(describe_pydantic_error(exc), where) from None


def describe_pydantic_error(exc: pydantic.ValidationError) -> str:
    """One line per problem, ``field 'x': reason``, without pydantic's URLs and input dumps."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "missing":
            msg = "missing"
        parts.append(f"field '{loc}': {msg}" if loc else msg)
    return "; ".join(parts)
