"""Invoice references in remittance text, and the ISO 11649 creditor reference (RF) of an invoice.

A reference is compared in a canonical form: upper case, accents and separators (spaces, dashes, dots,
slashes) ignored, the usual prefixes (« FACT », « FACTURE », « F° », « N° ») dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_PREFIX = re.compile(r"\b(?:FACTURES?|FACT|FCT|INVOICES?|INV|REF|REFERENCE)(?![A-Z])\.?\s*(?:N\s*°|NO\b|NUM\b|N\b)?"
                     r"|\bF\s*°|\bN\s*°|\bNO\b\.?", re.IGNORECASE)
_SEPARATORS = r"[\s\-_./]*"
_RF = re.compile(r"\bRF\s*\d\d(?:\s*[A-Z0-9]){1,21}\b")


def canonical(text: str) -> str:
    """``f-2026 031`` -> ``F2026031``."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z0-9]", "", plain.upper())


def _pattern(invoice_id: str) -> re.Pattern[str] | None:
    chars = canonical(invoice_id)
    if len(chars) < 3 or not any(c.isdigit() for c in chars):
        return None          # "A1" would be found in "A 1 000 EUR": too short to be trusted in free text
    body = _SEPARATORS.join(re.escape(c) for c in chars)
    return re.compile(rf"(?<![A-Z0-9]){body}(?![A-Z0-9])")


def _texts(text: str) -> tuple[str, str]:
    upper = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper()
    stripped = _PREFIX.sub(" ", unicodedata.normalize("NFC", text).upper())
    stripped = unicodedata.normalize("NFKD", stripped).encode("ascii", "ignore").decode()
    return upper, stripped


def references_in(text: str, invoice_ids: Iterable[str]) -> list[str]:
    """The invoice ids (among ``invoice_ids``) written in ``text``, in the order they appear."""
    if not text.strip():
        return []
    upper, stripped = _texts(text)
    found: list[tuple[int, str]] = []
    for invoice_id in invoice_ids:
        pattern = _pattern(invoice_id)
        if pattern is None:
            continue
        match = pattern.search(upper) or pattern.search(stripped)
        if match:
            found.append((match.start(), invoice_id))
    # An id found inside a longer one (F-1 in F-12) is the longer one's text: keep the longest.
    ids = [i for _, i in sorted(found)]
    return [i for i in ids if not any(i != j and canonical(i) in canonical(j) for j in ids)]


def creditor_reference(invoice_id: str) -> str:
    """The RF creditor reference (ISO 11649) of an invoice: ``RF`` + 2 check digits + its canonical id.

    Empty when the id does not fit (more than 21 letters and digits)."""
    from stdnum.iso7064 import mod_97_10

    body = canonical(invoice_id)
    if not body or len(body) > 21:
        return ""
    return f"RF{mod_97_10.calc_check_digits(body + 'RF')}{body}"


def structured_references(structured: str, text: str) -> list[str]:
    """Valid RF references of an entry: its structured field, else any written in its text."""
    from stdnum import iso11649

    candidates = [structured] if structured else []
    candidates += [m.group(0) for m in _RF.finditer(text.upper())]
    return [iso11649.compact(c) for c in candidates if c and iso11649.is_valid(c)]
