"""What a bank statement says, whatever its format: one :class:`StatementEntry` per booked movement."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal

from relance.errors import ValidationError

# Largest statement file read (a month of a busy account is well under this).
MAX_BYTES = 20 * 1024 * 1024
_KEY_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class BankFileError(ValidationError):
    """A statement file refused as a whole: ``where`` names the file and the line or entry at fault."""


@dataclass(frozen=True, slots=True)
class StatementEntry:
    """One movement of a statement. ``amount`` is positive; ``credit`` tells its direction.

    ``where`` names it for a person (``releve.xml entry 3``, ``releve.txt:7``); ``bank_ref`` is the bank's own
    reference for the movement (camt AcctSvcrRef, OFX FITID, CFONB reference), the idempotency key when present.
    """

    account: str
    booking_date: dt.date
    amount: Decimal
    credit: bool
    currency: str = "EUR"
    value_date: dt.date | None = None
    bank_ref: str = ""
    end_to_end: str = ""
    remittance: str = ""
    structured_ref: str = ""
    payer_name: str = ""
    payer_iban: str = ""
    where: str = ""

    @property
    def key(self) -> str:
        """The idempotency key: the bank's reference, else a hash of account, date, amount and text."""
        ref = _KEY_SAFE.sub("-", self.bank_ref.strip()).strip("-")[:64]
        if ref:
            return ref
        text = "|".join((self.account, self.booking_date.isoformat(), f"{self.amount:.2f}",
                         "C" if self.credit else "D", " ".join(self.remittance.split())))
        return "H" + hashlib.sha256(text.encode()).hexdigest()[:20]

    def to_json(self) -> dict[str, str | bool]:
        return {"entry": self.key, "where": self.where, "account": self.account,
                "booking_date": self.booking_date.isoformat(),
                "value_date": self.value_date.isoformat() if self.value_date else "",
                "amount": f"{self.amount:.2f}", "currency": self.currency, "credit": self.credit,
                "bank_ref": self.bank_ref, "end_to_end": self.end_to_end, "remittance": self.remittance,
                "structured_ref": self.structured_ref, "payer_name": self.payer_name,
                "payer_iban": self.payer_iban}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> StatementEntry:
        value = str(data.get("value_date") or "")
        return cls(account=str(data.get("account", "")),
                   booking_date=dt.date.fromisoformat(str(data["booking_date"])),
                   amount=Decimal(str(data["amount"])), credit=bool(data.get("credit", True)),
                   currency=str(data.get("currency", "EUR")),
                   value_date=dt.date.fromisoformat(value) if value else None,
                   bank_ref=str(data.get("bank_ref", "")), end_to_end=str(data.get("end_to_end", "")),
                   remittance=str(data.get("remittance", "")), structured_ref=str(data.get("structured_ref", "")),
                   payer_name=str(data.get("payer_name", "")), payer_iban=str(data.get("payer_iban", "")),
                   where=str(data.get("where", "")))


@dataclass(frozen=True, slots=True)
class Statement:
    """A parsed file: its format (``camt.053.001.08``, ``ofx``, ``cfonb120``) and its entries, in order."""

    source: str
    format: str
    entries: tuple[StatementEntry, ...]

    @property
    def credits(self) -> tuple[StatementEntry, ...]:
        return tuple(e for e in self.entries if e.credit)


def clean_iban(value: str) -> str:
    """An IBAN in electronic form (no spaces, upper case) when it is valid, else "": a payer's IBAN that does
    not validate (python-stdnum: country format and mod 97) is ignored, never learnt."""
    from stdnum import iban

    compact = iban.compact(value or "")
    if not compact:
        return ""
    return compact if iban.is_valid(compact) else ""
