"""EPC ("SEPA") QR code for a credit transfer: the customer's banking app fills in the payment.

Payload per EPC069-12 version 002: ``BCD``, ``002``, charset, ``SCT``, BIC, name, IBAN, ``EUR<amount>``,
purpose, structured reference, unstructured text. We send the payment reference as unstructured text.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

import segno
from PIL import Image

from relance.money import cents
from relance.rendering.context import MessageContext
from relance.rendering.formatting import compact_iban

MIN_AMOUNT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999.99")
QUIET_ZONE = 2  # modules of light margin around the code
_LIGHT, _DARK = 255, 0
_GREY_LEVELS = bytes([_LIGHT, _DARK]) + bytes(254)  # matrix value (0 light, 1 dark) -> grey level


@dataclass(frozen=True, slots=True)
class EpcFields:
    """The fields of an EPC QR code, already cut to the standard's lengths."""

    name: str
    iban: str
    amount: Decimal
    text: str
    bic: str | None


def epc_fields(ctx: MessageContext) -> EpcFields | None:
    """The transfer the document asks for (``ctx.amount_asked``: the total claimed in a formal or final
    notice, the balance before), or None when no QR code makes sense."""
    amount = cents(ctx.amount_asked)
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
    epc_qr(fields).save(buffer, kind="png", scale=scale, border=QUIET_ZONE)
    return buffer.getvalue()


def epc_image(fields: EpcFields, scale: int = 4, border: int = QUIET_ZONE) -> Image.Image:
    """The QR code as a black-and-white greyscale image, ``scale`` pixels per module with a ``border``
    module quiet zone (the same pixels as :func:`epc_png`), built from the matrix without a PNG round trip:
    fpdf2 embeds it directly."""
    matrix = epc_qr(fields).matrix
    side = len(matrix) + 2 * border
    quiet = bytes([_LIGHT]) * (side * border)
    edge = bytes([_LIGHT]) * border
    pixels = b"".join(edge + bytes(row).translate(_GREY_LEVELS) + edge for row in matrix)
    image = Image.frombytes("L", (side, side), quiet + pixels + quiet)
    return image.resize((side * scale, side * scale), Image.Resampling.NEAREST) if scale != 1 else image
