"""Bank statements in: camt.053, OFX and CFONB 120 parsed into entries, credits matched to open invoices.

Pure core: the parsers read bytes, :mod:`relance.bank.matcher` decides with a reason, and
:mod:`relance.bank.service` books through the ledger and reaches storage through :class:`BankStore`
(:mod:`relance.bank.ports`). lxml, ofxtools and python-stdnum are dependencies of the imports function and
of the development install only, not of the shared layer (imported lazily).
"""

from __future__ import annotations

from relance.bank.model import MAX_BYTES, BankFileError, Statement, StatementEntry

__all__ = ["MAX_BYTES", "BankFileError", "Statement", "StatementEntry", "detect_format", "parse_statement"]


def detect_format(data: bytes) -> str:
    """``camt053``, ``ofx`` or ``cfonb120`` from the content (never from the file name)."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    upper = head.upper()
    if b"OFXHEADER" in upper or b"<OFX>" in upper or b"<?OFX" in upper:
        return "ofx"
    if head.startswith(b"<"):
        return "camt053"
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    if first[:2] in (b"01", b"04", b"05", b"07") and first[2:7].strip().isdigit():
        return "cfonb120"
    return ""


def parse_statement(data: bytes, source: str) -> Statement:
    """Parse a statement whatever its format; BankFileError naming the file and line or entry if refused."""
    if len(data) > MAX_BYTES:
        raise BankFileError(f"file larger than {MAX_BYTES // (1024 * 1024)} MB; split it", source)
    kind = detect_format(data)
    if kind == "camt053":
        from relance.bank.camt import parse_camt053

        return _distinct_keys(parse_camt053(data, source))
    if kind == "ofx":
        from relance.bank.ofx import parse_ofx

        return _distinct_keys(parse_ofx(data, source))
    if kind == "cfonb120":
        from relance.bank.cfonb import parse_cfonb120

        return _distinct_keys(parse_cfonb120(data, source))
    raise BankFileError("not a bank statement: expected camt.053 (XML), OFX or CFONB 120", f"{source}:1")


def _distinct_keys(statement: Statement) -> Statement:
    """A bank reference used twice in one file (a bank writing a constant there) must not make the second
    movement look already booked: the n-th use gets ``-n``. Deterministic, so a re-import finds the same."""
    from dataclasses import replace

    seen: dict[str, int] = {}
    entries = []
    for entry in statement.entries:
        key = entry.key
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            entry = replace(entry, bank_ref=f"{entry.bank_ref or key}-{seen[key]}")
        entries.append(entry)
    return replace(statement, entries=tuple(entries))
