"""CFONB 120 ("relevé de compte 120 caractères"), the French banks' fixed-width statement, read by hand.

Records (positions 1-based, as in the CFONB brochure):
``01`` old balance, ``04`` movement, ``05`` complement of the movement above, ``07`` new balance.
Common zones: 1-2 record code, 3-7 bank code, 12-16 branch code, 17-19 currency, 20 number of decimals,
22-32 account number, 35-40 date (DDMMYY). ``04``: 33-34 interbank operation code, 43-48 value date,
49-79 label, 82-88 entry number, 91-104 amount, 105-120 reference. ``05``: 46-48 qualifier (``LIB`` label,
``NPY`` payer's name, ``IPY`` payer's identifier, ``RCN`` customer reference...), 49-118 text.
The amount's last character carries the sign and the last digit: ``{`` ``A``-``I`` positive 0-9, ``}``
``J``-``R`` negative 0-9. A positive amount is a credit to the account holder.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal

from relance.bank.model import BankFileError, Statement, StatementEntry, clean_iban

LENGTH = 120
_POSITIVE = {c: d for d, c in enumerate("{ABCDEFGHI")}
_NEGATIVE = {c: d for d, c in enumerate("}JKLMNOPQR")}


@dataclass
class _Movement:
    line: int
    entry: StatementEntry
    texts: list[str] = field(default_factory=list)


def _date(text: str, where: str, what: str, required: bool = True) -> dt.date | None:
    if not text.strip() and not required:
        return None
    try:
        return dt.datetime.strptime(text, "%d%m%y").date()
    except ValueError:
        raise BankFileError(f"{what} {text!r} is not a date (DDMMYY)", where) from None


def signed_amount(zone: str, decimals: int, where: str) -> Decimal:
    """The 14-character amount zone: digits, the last one replaced by its sign code."""
    if not zone.strip():
        raise BankFileError("movement without amount", where)
    digits, code = zone[:-1], zone[-1]
    if not digits.isdigit() or (code not in _POSITIVE and code not in _NEGATIVE):
        raise BankFileError(f"amount {zone!r} is not digits ending with a sign code ({{, A-I, }}, J-R)", where)
    last = _POSITIVE.get(code, _NEGATIVE.get(code, 0))
    value = Decimal(f"{digits}{last}").scaleb(-decimals)
    return value if code in _POSITIVE else -value


def _lines(data: bytes, source: str) -> list[str]:
    text = data.decode("cp1252", errors="replace").lstrip("\ufeff")
    if "\n" not in text and "\r" not in text and len(text) % LENGTH == 0:
        return [text[i:i + LENGTH] for i in range(0, len(text), LENGTH)]   # records without separators
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[-1]:
        lines.pop()
    return lines


def parse_cfonb120(data: bytes, source: str) -> Statement:
    """Every movement (record 04, with its 05 complements); BankFileError naming ``FILE:LINE`` if bad."""
    movements: list[_Movement] = []
    opened = False
    lines = _lines(data, source)
    if not lines:
        raise BankFileError("the file is empty", f"{source}:1")
    for number, text in enumerate(lines, start=1):
        where = f"{source}:{number}"
        if len(text) != LENGTH:
            raise BankFileError(f"line is {len(text)} characters long; a CFONB 120 record has {LENGTH}", where)
        code = text[0:2]
        if code not in ("01", "04", "05", "07"):
            raise BankFileError(f"record code {code!r} is not 01, 04, 05 or 07", where)
        currency = text[16:19]
        if currency.strip() and currency != "EUR":
            raise BankFileError(f"account in {currency}; only EUR accounts are read", where)
        if not text[19].isdigit():
            raise BankFileError(f"number of decimals {text[19]!r} is not a digit", where)
        account = f"{text[2:7]}{text[11:16]}{text[21:32]}".replace(" ", "")
        if code == "01":
            opened = True
        elif code == "07":
            opened = False
        elif code == "04":
            if not opened:
                raise BankFileError("movement (04) outside a statement (no 01 record before it)", where)
            amount = signed_amount(text[90:104], int(text[19]), where)
            booked = _date(text[34:40], where, "booking date")
            assert booked is not None
            entry = StatementEntry(
                account=account, booking_date=booked, amount=abs(amount), credit=amount > 0, currency="EUR",
                value_date=_date(text[42:48], where, "value date", required=False),
                bank_ref=text[104:120].strip(), remittance=" ".join(text[48:79].split()), where=where)
            movements.append(_Movement(number, entry))
        else:
            if not movements or not opened:
                raise BankFileError("complement (05) without a movement (04) before it", where)
            movements[-1].texts.append(text[45:48] + text[48:118])
    return Statement(source, "cfonb120", tuple(_complete(m) for m in movements))


def _complete(movement: _Movement) -> StatementEntry:
    """Fold the 05 complements into the movement: payer's name and account, remittance text."""
    entry = movement.entry
    texts = [entry.remittance]
    name = iban = structured = ""
    for text in movement.texts:
        qualifier, value = text[:3], " ".join(text[3:].split())
        if qualifier == "NPY":
            name = name or value
        elif qualifier == "IPY":
            iban = iban or clean_iban(value)
        elif qualifier == "RCN" and value.upper().startswith("RF"):
            structured = structured or value.replace(" ", "").upper()
        elif qualifier in ("LIB", "LCC", "LC2", "RCN", "REF", "MMO"):
            texts.append(value)
    return replace(entry, remittance=" ".join(t for t in texts if t), payer_name=name, payer_iban=iban,
                   structured_ref=structured)
