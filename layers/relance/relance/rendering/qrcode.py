"""EPC ("SEPA") QR code for a credit transfer: the customer's banking app fills in the payment.

Payload per EPC069-12 version 002: ``BCD``, ``002``, charset, ``SCT``, BIC, name, IBAN, ``EUR<amount>``,
purpose, structured reference, unstructured text. We send the payment reference as unstructured text.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

import segno

from relance.money import cents
from relance.rendering.context import MessageContext
from relance.rendering.formatting import compact_iban

MIN_AMOUNT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999.99")


@dataclass(frozen=True, slots=True)
class EpcFields:
    """The fields of an EPC QR code, already cut to the standard's lengths."""

    name: str
    iban: str
    amount: Decimal
    text: str
    bic: str | None


def epc_fields(ctx: MessageContext) -> EpcFields | None:
    """The transfer asked of the customer (total balance), or None when no QR code makes sense."""
    amount = cents(ctx.total_balance)
    company = ctx.company
    account = compact_iban(company.iban)
    if not (MIN_AMOUNT <= amount <= MAX_AMOUNT) or not 4 < len(account) <= 34:
        return None
    bic = company.bic.strip().upper() or None
    if bic and len(bic) not in (8, 11):
        bic = None
    text = " ".join(ctx.reference.split())[:140] or ctx.numbers[:140]
    return EpcFields(name=company.name.strip()[:70], iban=account, amount=amount, text=text, bic=bic)


def epc_payload(fields: EpcFields) -> str:
    """The EPC text payload (lines joined by LF) that the QR code carries."""
    amount = f"EUR{fields.amount:.2f}".rstrip("0").rstrip(".")
    lines = ["BCD", "002", "", "SCT", fields.bic or "", fields.name, fields.iban, amount, "", "", fields.text]
    body = "\n".join(lines)
    try:
        body.encode("iso-8859-1")
        lines[2] = "2"
    except UnicodeEncodeError:
        lines[2] = "1"
    return "\n".join(lines)


def epc_qr(fields: EpcFields) -> segno.QRCode:
    """The QR code itself (error level M, version <= 13, as the standard requires).

    The mask is fixed: every mask gives a valid code, and skipping segno's search for the "best" one
    makes a letter about five times faster to draw.
    """
    payload = epc_payload(fields)
    encoding = "iso-8859-1" if payload.split("\n")[2] == "2" else "utf-8"
    return segno.make_qr(payload, error="m", boost_error=False, mask=0, encoding=encoding)


def epc_png(fields: EpcFields, scale: int = 4) -> bytes:
    """The QR code as a small black-and-white PNG, in memory."""
    buffer = io.BytesIO()
    epc_qr(fields).save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()
