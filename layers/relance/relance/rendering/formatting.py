"""Formatting helpers shared by the templates (jinja filters), the PDF writer and the SMS channel.

Amounts follow babel (``fr``: ``1 800,00 €`` with a narrow no-break space as group separator and a
no-break space before the sign; ``en``: ``€1,800.00``); dates are long (``16 avril 2026``) or short
(``16/04/2026``); rates are fractions (``Decimal("0.1215")`` -> ``12,15 %``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency, format_decimal

from relance.money import cents

NBSP = "\u00a0"
NNBSP = "\u202f"

_LOCALES = {"fr": "fr_FR", "en": "en_GB"}

_MONTHS = {
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
}


@lru_cache(maxsize=8)
def _locale(language: str) -> Locale:
    return Locale.parse(_LOCALES.get(language, "fr_FR"))


def eur(value: Decimal | int | str, language: str = "fr") -> str:
    """An amount in euros, rounded to the cent: ``1 800,00 €`` (fr) or ``€1,800.00`` (en)."""
    amount = cents(Decimal(value))
    return format_currency(amount, "EUR", locale=_locale(language))


def number(value: Decimal | int, language: str = "fr") -> str:
    """A plain integer or decimal in the language's conventions (``1 234``)."""
    return format_decimal(value, locale=_locale(language))


def date_long(value: dt.date, language: str = "fr") -> str:
    """``1er avril 2026`` / ``16 avril 2026`` (fr), ``16 April 2026`` (en), with no-break spaces."""
    month = _MONTHS.get(language, _MONTHS["fr"])[value.month - 1]
    day = "1er" if value.day == 1 and language == "fr" else str(value.day)
    return f"{day}{NBSP}{month}{NBSP}{value.year}"  # never broken across lines


def date_short(value: dt.date, language: str = "fr") -> str:
    """``16/04/2026`` (day first in both languages: the letters are French)."""
    return f"{value.day:02d}/{value.month:02d}/{value.year}"


def rate(value: Decimal | None, language: str = "fr") -> str:
    """An annual rate given as a fraction: ``Decimal("0.1215")`` -> ``12,15 %`` (fr), ``12.15%`` (en)."""
    if value is None:
        return "—"
    percent = (Decimal(value) * 100).quantize(Decimal("0.01"))
    if language == "fr":
        return f"{format_decimal(percent, format='#,##0.00', locale=_locale('fr'))}{NBSP}%"
    return f"{format_decimal(percent, format='#,##0.00', locale=_locale('en'))}%"


def iban(value: str) -> str:
    """An IBAN in groups of four for reading (``FR76 3000 ...``)."""
    compact = re.sub(r"\s+", "", value).upper()
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def compact_iban(value: str) -> str:
    """An IBAN without spaces, as payment files and QR codes want it."""
    return re.sub(r"\s+", "", value).upper()


def address_lines(value: str | None) -> list[str]:
    """Split a one-line postal address on commas into the lines of an address block."""
    if not value:
        return []
    return [part.strip() for part in value.split(",") if part.strip()]


def city(address: str | None) -> str | None:
    """The town of a French address: the words after the last five-digit postal code, if any."""
    if not address:
        return None
    found = re.findall(r"\b\d{5}\s+([^,\d][^,]*)", address)
    if not found:
        return None
    return re.sub(r"\s+cedex\b.*$", "", found[-1].strip(), flags=re.IGNORECASE) or None


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES = re.compile("[ \t\u00a0\u202f]{2,}")


def _one_space(match: re.Match[str]) -> str:
    """A run of spaces as one: a no-break one if the run holds one (``relance\u00a0:`` keeps its NBSP)."""
    run = match.group()
    return "\u00a0" if "\u00a0" in run else "\u202f" if "\u202f" in run else " "


def one_line(value: str, limit: int = 200) -> str:
    """A single header-safe line: CR, LF and every control character become one space.

    Used for subjects: a customer name carrying ``\\r\\nBcc:`` must never reach a mail header as is.
    """
    text = _SPACES.sub(_one_space, _CONTROL.sub(" ", value)).strip(" \t\u00a0\u202f")
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


# --- SMS: GSM 03.38 -------------------------------------------------------------------------------

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

_GSM_MAP = str.maketrans({
    NBSP: " ", NNBSP: " ", "\u2009": " ", "\t": " ",
    "’": "'", "‘": "'", "`": "'", "«": '"', "»": '"', "“": '"', "”": '"',
    "—": "-", "–": "-", "‑": "-", "…": "...", "•": "-",
    "ç": "c", "œ": "oe", "Œ": "OE", "æ": "ae",
    "â": "a", "ê": "e", "ë": "e", "î": "i", "ï": "i", "ô": "o", "û": "u", "ÿ": "y",
    "À": "A", "Â": "A", "È": "E", "Ê": "E", "Ë": "E", "Î": "I", "Ï": "I", "Ô": "O", "Ù": "U", "Û": "U",
})


def to_gsm7(text: str) -> str:
    """Map French typography and accents that GSM-7 lacks to close plain characters (é, è, à stay)."""
    text = text.translate(_GSM_MAP)
    out = []
    for char in text:
        if char in GSM7_BASIC or char in GSM7_EXTENSION:
            out.append(char)
            continue
        stripped = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        out.append(stripped if stripped and all(c in GSM7_BASIC for c in stripped) else "?")
    return "".join(out)


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM-7 basic table or its extension."""
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def sms_segments(text: str) -> int:
    """How many SMS parts the text takes (GSM-7: 160, then 153 per part; UCS-2: 70, then 67)."""
    if is_gsm7(text):
        septets = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def sms_text(text: str) -> str:
    """An SMS body: one paragraph, single spaces, GSM-7 characters only."""
    text = _QUOTE_OPEN.sub('"', _QUOTE_CLOSE.sub('"', text))
    return re.sub(r"\s+", " ", to_gsm7(text.replace(NBSP, " ").replace(NNBSP, " "))).strip()


_QUOTE_OPEN = re.compile("«[\\s\u00a0\u202f]*")
_QUOTE_CLOSE = re.compile("[\\s\u00a0\u202f]*»")
