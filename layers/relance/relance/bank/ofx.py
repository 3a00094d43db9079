"""OFX statements (SGML OFX 1.x and XML OFX 2.x) read with ofxtools' parser.

ofxtools turns both versions into an element tree (its own lexer: no XML entities, no DTD, no network);
the fields we need are read from that tree, so a bank's small deviations from the OFX schema do not refuse
a statement, while what we rely on (EUR, an amount, a date) is checked entry by entry.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal, InvalidOperation
from typing import Any

from relance.bank.model import BankFileError, Statement, StatementEntry, clean_iban


def _text(node: Any, path: str) -> str:
    found = node.find(path)
    return " ".join((found.text or "").split()) if found is not None and found.text else ""


def _date(text: str, where: str, what: str) -> dt.date:
    try:
        return dt.datetime.strptime(text[:8], "%Y%m%d").date()
    except ValueError:
        raise BankFileError(f"{what} {text!r} is not an OFX date (YYYYMMDD...)", where) from None


def parse_ofx(data: bytes, source: str) -> Statement:
    """Every STMTTRN of every bank statement (STMTRS) of the file."""
    from ofxtools.Parser import OFXTree

    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(data))
    except Exception as exc:  # ofxtools raises ParseError, OFXHeaderError, ValueError... on a broken file
        message = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise BankFileError(f"not a readable OFX file ({message})", source) from None
    root = tree.getroot()
    statements = list(root.iter("STMTRS")) if root is not None else []
    if not statements:
        raise BankFileError("no bank statement (STMTRS) in the OFX file", source)
    entries: list[StatementEntry] = []
    number = 0
    for stmt in statements:
        currency = _text(stmt, "CURDEF").upper()
        account_node = stmt.find("BANKACCTFROM")
        account = "".join(_text(account_node, tag) for tag in ("BANKID", "BRANCHID", "ACCTID")) \
            if account_node is not None else ""
        if currency != "EUR":
            raise BankFileError(f"statement of account {account or '?'} is in {currency or 'no currency'}; "
                                "only EUR accounts are read", f"{source} (CURDEF)")
        for trn in stmt.iterfind("BANKTRANLIST/STMTTRN"):
            number += 1
            fitid = _text(trn, "FITID")
            where = f"{source} entry {number}" + (f" (FITID {fitid})" if fitid else "")
            entries.append(_entry(trn, account, where))
    return Statement(source, "ofx", tuple(entries))


def _entry(trn: Any, account: str, where: str) -> StatementEntry:
    raw = _text(trn, "TRNAMT")
    if not raw:
        raise BankFileError("entry without amount (TRNAMT)", where)
    try:
        amount = Decimal(raw.replace(",", "."))
    except InvalidOperation:
        raise BankFileError(f"amount {raw!r} is not a number", where) from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise BankFileError(f"amount {raw!r} is not an amount in cents", where)
    for path in ("CURRENCY/CURSYM", "ORIGCURRENCY/CURSYM"):
        other = _text(trn, path).upper()
        if other and other != "EUR":
            raise BankFileError(f"entry in {other}; only EUR accounts are read", where)
    posted = _text(trn, "DTPOSTED")
    if not posted:
        raise BankFileError("entry without date (DTPOSTED)", where)
    user = _text(trn, "DTUSER")
    name = _text(trn, "NAME") or _text(trn, "PAYEE/NAME")
    memo = _text(trn, "MEMO")
    # OFX has no payer account; some banks put the other party's account in BANKACCTTO.
    other_account = trn.find("BANKACCTTO")
    iban = clean_iban(_text(other_account, "ACCTID")) if other_account is not None else ""
    return StatementEntry(
        account=account, booking_date=_date(posted, where, "DTPOSTED"), amount=abs(amount), credit=amount > 0,
        currency="EUR", value_date=_date(user, where, "DTUSER") if user else None,
        bank_ref=_text(trn, "FITID"), end_to_end=_text(trn, "REFNUM"),
        remittance=" ".join(t for t in (name, memo) if t), payer_name=name, payer_iban=iban, where=where)
