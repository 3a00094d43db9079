"""Request and response bodies of the REST API (pydantic; they generate functions/api/openapi.json).

Money travels as decimal strings (``"1800.00"``): a JSON number for an amount is refused, because a float
cannot be trusted to the cent. Dates are ISO ``YYYY-MM-DD``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from relance.errors import ValidationError
from relance.models import CustomerKind, Date, Email, FreeText, Language, OneLine, Phone, RecordId, Text
from relance.money import parse_amount

_AMOUNT_SCHEMA = {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "examples": ["1800.00"],
                  "description": "Euros as a decimal string with a dot and at most two places."}


def _json_amount(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str):
        kind = "a JSON number" if isinstance(value, int | float) and not isinstance(value, bool) \
            else type(value).__name__
        raise ValueError(f'must be a decimal string such as "1800.00", not {kind}')
    try:
        return parse_amount(value)
    except ValidationError as exc:
        raise ValueError(exc.message) from None


ApiAmount = Annotated[Decimal, BeforeValidator(_json_amount), WithJsonSchema(_AMOUNT_SCHEMA)]
ApiDate = Annotated[dt.date, WithJsonSchema({"type": "string", "format": "date", "examples": ["2026-04-16"]})]
Siren = Annotated[str, Field(pattern=r"^[0-9]{9}$")]
Reason = Annotated[FreeText, Field(min_length=1, max_length=500)]
Reference = Annotated[OneLine, Field(max_length=100)]


class Body(BaseModel):
    """Strict request body: unknown fields are refused (a typo must not be silently ignored).

    ``defer_build``: a body's validator is built on the first request that sends it, not at cold start.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


# ---------------------------------------------------------------------------- requests
class CustomerIn(Body):
    id: RecordId
    name: Text
    kind: CustomerKind
    email: Email | None = None
    phone: Phone | None = None
    address: Annotated[OneLine, Field(max_length=300)] | None = None
    language: Language = "fr"
    segment: Annotated[OneLine, Field(max_length=50)] | None = None
    policy: Annotated[str, Field(pattern=r"^[a-z0-9_\-]{1,50}$")] | None = None
    siren: Siren | None = None


class CustomerPatch(Body):
    """Fields to change; ``null`` removes an optional field."""

    name: Text | None = None
    kind: CustomerKind | None = None
    email: Email | None = None
    phone: Phone | None = None
    address: Annotated[OneLine, Field(max_length=300)] | None = None
    language: Language | None = None
    segment: Annotated[OneLine, Field(max_length=50)] | None = None
    policy: Annotated[str, Field(pattern=r"^[a-z0-9_\-]{1,50}$")] | None = None
    siren: Siren | None = None


class InvoiceIn(Body):
    id: RecordId
    customer: RecordId
    issued: Annotated[Date, WithJsonSchema({"type": "string", "format": "date"})]
    due: Annotated[Date, WithJsonSchema({"type": "string", "format": "date"})]
    amount: ApiAmount
    delivered: Annotated[Date, WithJsonSchema({"type": "string", "format": "date"})] | None = None
    contract_rate: Annotated[str, Field(pattern=r"^0(\.[0-9]{1,4})?$|^1(\.0{1,4})?$")] | None = None


class InvoicePatch(Body):
    issued: Annotated[Date, WithJsonSchema({"type": "string", "format": "date"})] | None = None
    due: Annotated[Date, WithJsonSchema({"type": "string", "format": "date"})] | None = None
    amount: ApiAmount | None = None
    delivered: Annotated[Date, WithJsonSchema({"type": "string", "format": "date"})] | None = None
    contract_rate: Annotated[str, Field(pattern=r"^0(\.[0-9]{1,4})?$|^1(\.0{1,4})?$")] | None = None


class PaymentIn(Body):
    amount: ApiAmount
    date: Annotated[Date, WithJsonSchema({"type": "string", "format": "date"})] | None = Field(
        default=None, description="Day the funds were credited; today (Europe/Paris) when omitted.")
    reference: Reference | None = None


class DisputeIn(Body):
    reason: Reason


class PromiseIn(Body):
    until: Annotated[Date, WithJsonSchema({"type": "string", "format": "date"})]


class InstalmentIn(Body):
    date: Annotated[Date, WithJsonSchema({"type": "string", "format": "date"})]
    amount: ApiAmount


class PlanIn(Body):
    instalments: Annotated[list[InstalmentIn], Field(min_length=1, max_length=60)]


class ReasonIn(Body):
    reason: Reason


class OptionalReasonIn(Body):
    reason: Annotated[FreeText, Field(max_length=500)] = ""


class LetterEventIn(Body):
    """A registered letter posted (with its tracking number) or received (the avis de réception)."""

    step: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", examples=["formal_notice"])]
    event: Literal["posted", "received"]
    date: ApiDate
    tracking: Annotated[OneLine, Field(max_length=60)] = ""


class LifecycleIn(Body):
    status: Annotated[str, Field(pattern=r"^[0-9]{3}$", examples=["212"],
                                 description="CDAR lifecycle code (200-213), e.g. 212 encaissée")]
    amount: ApiAmount | None = None
    date: Annotated[Date, WithJsonSchema({"type": "string", "format": "date"})] | None = None
    reference: Reference | None = Field(
        default=None, description="Id of the status message: a status delivered twice is applied once.")
    reason: Annotated[FreeText, Field(max_length=500)] | None = None


class OutcomeIn(Body):
    """What the collection partner achieved on a handed-off case (reported by the partner or the team)."""

    outcome: Literal["recovered", "partly_recovered", "failed"]
    amount: ApiAmount | None = Field(default=None, description="Recovered amount (required unless failed).")
    date: Annotated[Date, WithJsonSchema({"type": "string", "format": "date"})] | None = Field(
        default=None, description="Date the funds were credited; today (Paris) by default.")


# ---------------------------------------------------------------------------- responses
class Out(BaseModel):
    """Base of the response models; built on the first request that returns one (``defer_build``)."""

    model_config = ConfigDict(defer_build=True)


class ErrorOut(Out):
    error: str
    field: str | None = None


class CustomerOut(Out):
    id: str
    name: str
    kind: str
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    language: str
    segment: str | None = None
    policy: str
    siren: str | None = None
    email_bounced: bool = False


class AmountOnDate(Out):
    date: str
    amount: str


class InvoiceOut(Out):
    id: str
    customer: str
    issued: str
    due: str
    amount: str
    currency: str = "EUR"
    status: str
    balance: str
    paid: str
    credit: str = Field(description="Paid beyond the amount: kept for the customer, never lost.")
    next_action: str | None = None
    paused: list[str] = Field(default_factory=list, description="Why the ladder is paused, if it is.")
    disputed: bool = False
    promise_until: str | None = None
    manual_pause: bool = False
    plan: list[AmountOnDate] = Field(default_factory=list)
    payments: list[AmountOnDate] = Field(default_factory=list)
    steps_sent: list[str] = Field(default_factory=list)
    attachment_key: str | None = None
    delivered: str | None = None
    contract_rate: str | None = None


class PaymentOut(Out):
    invoice: InvoiceOut
    applied: str = Field(description="Part of the payment that reduced the balance.")
    credit: str = Field(description="Part beyond the balance, kept as a credit.")
    replayed: bool = Field(default=False, description="True when this is the reply to a retry: the payment "
                                                      "was booked by the first request with this key.")


class EventOut(Out):
    date: str
    kind: str
    details: dict[str, str]


class HistoryOut(Out):
    invoice: str
    events: list[EventOut]


class LifecycleOut(Out):
    status: str
    label: str
    action: Literal["payment", "paused", "resumed", "cancelled", "noted", "duplicate"]
    invoice: InvoiceOut
    task: bool = False


class OutcomeOut(Out):
    case_id: str
    outcome: str
    amount: str
    date: str
