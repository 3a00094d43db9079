"""ISO 20022 camt.053 (BankToCustomerStatement), versions .001.02 to .001.08, read with lxml.

Parsing ignores the namespace (every version has the same paths for what we read) and is hardened: no
entity expansion, no DTD, no network, no huge trees. One entry per ``Ntry``, or one per ``TxDtls`` when a
batch booking details several transactions with their own amounts.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from relance.bank.model import BankFileError, Statement, StatementEntry, clean_iban

_VERSION = re.compile(rb"camt\.053\.001\.(\d\d)")
SUPPORTED = tuple(f"{v:02d}" for v in range(2, 9))


def _parser() -> Any:
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           remove_comments=True, remove_pis=True)


def _text(node: Any, path: str) -> str:
    found = node.find(path) if node is not None else None
    return " ".join((found.text or "").split()) if found is not None else ""


def _all_text(node: Any, path: str) -> list[str]:
    return [" ".join((n.text or "").split()) for n in node.iterfind(path)] if node is not None else []


def _date(node: Any, path: str) -> dt.date | None:
    """``BookgDt``/``ValDt`` hold either ``Dt`` (a date) or ``DtTm`` (a date-time): the date part either way."""
    text = _text(node, f"{path}/{{*}}Dt") or _text(node, f"{path}/{{*}}DtTm")[:10]
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def parse_camt053(data: bytes, source: str) -> Statement:
    """Every entry of every ``Stmt`` of the file; BankFileError naming the file and line or entry if bad."""
    from lxml import etree

    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data:
        raise BankFileError("a bank statement has no DTD or entities; refused", source)
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else 1)
        raise BankFileError(f"the XML is malformed or truncated ({exc.msg})", f"{source}:{line}") from None
    if etree.QName(root).localname != "Document" or root.find("{*}BkToCstmrStmt") is None:
        raise BankFileError("not a camt.053 statement (no Document/BkToCstmrStmt)", f"{source}:{root.sourceline}")
    version = _VERSION.search(etree.QName(root).namespace.encode() if etree.QName(root).namespace else data[:2048])
    if version and version.group(1).decode() not in SUPPORTED:
        raise BankFileError(f"camt.053.001.{version.group(1).decode()} is not supported (versions .02 to .08)",
                            f"{source}:{root.sourceline}")
    entries: list[StatementEntry] = []
    number = 0
    for stmt in root.iterfind("{*}BkToCstmrStmt/{*}Stmt"):
        account = (_text(stmt, "{*}Acct/{*}Id/{*}IBAN") or _text(stmt, "{*}Acct/{*}Id/{*}Othr/{*}Id")).replace(" ", "")
        for ntry in stmt.iterfind("{*}Ntry"):
            number += 1
            entries.extend(_entry(ntry, account, f"{source} entry {number} (line {ntry.sourceline})"))
    if not number:
        raise BankFileError("the statement has no entry (Ntry)", f"{source}:{root.sourceline}")
    fmt = f"camt.053.001.{version.group(1).decode()}" if version else "camt.053"
    return Statement(source, fmt, tuple(entries))


def _amount(node: Any, where: str) -> tuple[Decimal, str] | None:
    amt = node.find("{*}Amt")
    if amt is None:
        amt = node.find("{*}AmtDtls/{*}TxAmt/{*}Amt")
    if amt is None:
        return None
    try:
        value = Decimal((amt.text or "").strip())
    except InvalidOperation:
        raise BankFileError(f"amount {amt.text!r} is not a number", where) from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise BankFileError(f"amount {amt.text!r} is not a positive amount in cents", where)
    return value, (amt.get("Ccy") or "").strip().upper()


def _entry(ntry: Any, account: str, where: str) -> list[StatementEntry]:
    found = _amount(ntry, where)
    if found is None:
        raise BankFileError("entry without amount (Ntry/Amt)", where)
    amount, currency = found
    if currency != "EUR":
        raise BankFileError(f"entry in {currency or 'no currency'}; only EUR accounts are read", where)
    indicator = _text(ntry, "{*}CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise BankFileError(f"CdtDbtInd is {indicator or 'missing'} (CRDT or DBIT)", where)
    if _text(ntry, "{*}RvslInd").lower() == "true":
        indicator = "DBIT" if indicator == "CRDT" else "CRDT"      # a reversal undoes the other direction
    status = _text(ntry, "{*}Sts") or _text(ntry, "{*}Sts/{*}Cd")
    booked = _date(ntry, "{*}BookgDt")
    if booked is None:
        raise BankFileError("entry without booking date (BookgDt)", where)
    value_date = _date(ntry, "{*}ValDt")
    entry_ref = _text(ntry, "{*}AcctSvcrRef")
    details = list(ntry.iterfind("{*}NtryDtls/{*}TxDtls"))
    if status and status not in ("BOOK",):
        return []          # pending or informational entries are not money received yet
    base = StatementEntry(account=account, booking_date=booked, amount=amount, credit=indicator == "CRDT",
                          currency=currency, value_date=value_date, where=where)
    if len(details) <= 1:
        tx = details[0] if details else None
        return [replace(base, bank_ref=_text(tx, "{*}Refs/{*}AcctSvcrRef") or entry_ref, **_tx_fields(tx, ntry))]
    entries = []
    for index, tx in enumerate(details, start=1):
        sub = f"{where} transaction {index}"
        found = _amount(tx, sub)
        if found is None:
            raise BankFileError("batch transaction without amount (TxDtls/Amt)", sub)
        if found[1] and found[1] != "EUR":
            raise BankFileError(f"transaction in {found[1]}; only EUR accounts are read", sub)
        ref = _text(tx, "{*}Refs/{*}AcctSvcrRef") or (f"{entry_ref}-{index}" if entry_ref else "")
        entries.append(replace(base, amount=found[0], bank_ref=ref, where=sub, **_tx_fields(tx, ntry)))
    return entries


def _tx_fields(tx: Any, ntry: Any) -> dict[str, Any]:
    remittance = " ".join(_all_text(tx, "{*}RmtInf/{*}Ustrd") or _all_text(ntry, "{*}AddtlNtryInf"))
    structured = _text(tx, "{*}RmtInf/{*}Strd/{*}CdtrRefInf/{*}Ref")
    # Debtor: v2-v7 RltdPties/Dbtr/Nm, v8 RltdPties/Dbtr/Pty/Nm.
    name = _text(tx, "{*}RltdPties/{*}Dbtr/{*}Nm") or _text(tx, "{*}RltdPties/{*}Dbtr/{*}Pty/{*}Nm")
    iban = _text(tx, "{*}RltdPties/{*}DbtrAcct/{*}Id/{*}IBAN")
    e2e = _text(tx, "{*}Refs/{*}EndToEndId")
    return {"remittance": remittance, "structured_ref": structured.replace(" ", "").upper(), "payer_name": name,
            "payer_iban": clean_iban(iban), "end_to_end": "" if e2e == "NOTPROVIDED" else e2e}
