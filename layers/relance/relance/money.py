"""Money is Decimal, in euros, two places; these helpers parse and round it one way everywhere."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from relance.errors import ValidationError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Largest amount we accept on one invoice: beyond this it is a typo, not a debt.
MAX_AMOUNT = Decimal("100000000.00")

_PLAIN = re.compile(r"^-?\d+(\.\d{1,2})?$", re.ASCII)


def cents(value: Decimal) -> Decimal:
    """Round to the cent, half up (convention K8)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(value: object, where: str | None = None, *, allow_zero: bool = False,
                 allow_negative: bool = False) -> Decimal:
    """Parse an amount given as a decimal string (``"1800.00"``) or a Decimal/int. Floats are refused.

    Raises ValidationError naming ``where`` when the value is not a plain decimal with at most two places,
    is negative (unless allowed), zero (unless allowed) or absurdly large.
    """
    if isinstance(value, bool | float):
        raise ValidationError(f"amount {value!r} must be a decimal string such as \"1800.00\", not a float",
                              where)
    if isinstance(value, Decimal):
        text = format(value, "f")
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise ValidationError(f"amount {value!r} must be a decimal string such as \"1800.00\"", where)
    if any(ch.isdigit() and not ch.isascii() for ch in text):
        raise ValidationError(f"amount {value!r} must be written with ASCII digits 0-9", where)
    if not _PLAIN.match(text):
        raise ValidationError(
            f"amount {value!r} is not a decimal with a dot and at most two places (e.g. \"1200.50\")", where)
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise ValidationError(f"amount {value!r} is not a number", where) from exc
    if amount < 0 and not allow_negative:
        raise ValidationError(f"amount {text} is negative", where)
    if amount == 0 and not allow_zero:
        raise ValidationError("amount is zero", where)
    if abs(amount) > MAX_AMOUNT:
        raise ValidationError(f"amount {text} is larger than {MAX_AMOUNT}", where)
    return cents(amount)


def fmt(value: Decimal) -> str:
    """Machine format: a decimal string with two places (``"121.83"``), as in JSON outputs."""
    return str(cents(value))
