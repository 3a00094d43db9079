"""Dated rate table: ECB main refinancing rate (MRO) and French legal interest rate, per semester.

The table lives in ``relance/data/rates.yaml`` (package data), or in the file named by the environment
variable ``RELANCE_RATES_FILE``. It is loaded once per path. A semester the table lacks raises
:class:`~relance.errors.RateMissingError` naming it: a rate is never guessed nor carried over.

- L441-10 II C. com.: the reference ECB rate of a semester is the MRO rate in force on 1 January (S1) or
  1 July (S2) of that year.
- L313-2 and D313-1-A C. monét. fin.: the legal rate is fixed each semester by arrêté, with one rate for a
  creditor who is an individual acting outside any business ("individual") and one for all other cases
  ("professional").
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol

from relance.errors import RateMissingError, RelanceError

ENV_RATES_FILE = "RELANCE_RATES_FILE"
Creditor = Literal["professional", "individual"]
CREDITORS: tuple[Creditor, ...] = ("professional", "individual")

_SEMESTER = re.compile(r"^(\d{4})-S([12])$")
_READ = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
_HUNDRED = Decimal(100)


class Semester(NamedTuple):
    """A civil half-year: S1 = 1 January-30 June, S2 = 1 July-31 December."""

    year: int
    half: int

    @classmethod
    def of(cls, day: dt.date) -> Semester:
        """The semester a day belongs to."""
        return cls(day.year, 1 if day.month <= 6 else 2)

    @classmethod
    def parse(cls, text: str) -> Semester:
        """``"2026-S1"`` -> Semester(2026, 1)."""
        match = _SEMESTER.match(text.strip())
        if not match:
            raise RelanceError(f"{text!r} is not a semester (expected YYYY-S1 or YYYY-S2)")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 1 if self.half == 1 else 7, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, 6, 30) if self.half == 1 else dt.date(self.year, 12, 31)

    def __str__(self) -> str:
        return f"{self.year}-S{self.half}"


SemesterLike = Semester | str | dt.date


def as_semester(value: SemesterLike) -> Semester:
    """Accept a Semester, ``"2026-S1"`` or any day of the semester."""
    if isinstance(value, Semester):
        return value
    if isinstance(value, dt.date):
        return Semester.of(value)
    if isinstance(value, str):
        return Semester.parse(value)
    raise RelanceError(f"{value!r} is not a semester")


@dataclass(frozen=True)
class EcbRate:
    effective: dt.date
    rate: Decimal         # fraction: 0.0215 for 2,15 % (the MRO rate)
    source: str
    read: str
    unverified: str | None = None   # why no primary source confirmed it (the figure is still used)


@dataclass(frozen=True)
class LegalRate:
    semester: Semester
    individual: Decimal    # fraction
    professional: Decimal  # fraction ("autres cas")
    source: str
    read: str
    unverified: str | None = None


@dataclass(frozen=True)
class StoredEcbRate:
    """The ECB reference rate of one semester as stored in the deployed table (RatesCheckFunction)."""

    semester: Semester
    rate: Decimal          # fraction: MRO rate in force on the first day of the semester
    source: str
    read: str


class RateStore(Protocol):
    """Port: the rates kept in the deployed table, which complete the packaged ``rates.yaml``.

    The RatesCheckFunction stores the ECB reference rate of each semester; ``relance rates set`` (or the
    API) stores the legal rate published by arrêté. ``adapters/aws/rates.py`` implements it on DynamoDB.
    """

    def load(self) -> tuple[list[StoredEcbRate], list[LegalRate]]: ...

    def put_ecb(self, rate: StoredEcbRate) -> None: ...

    def put_legal(self, rate: LegalRate) -> None: ...


@dataclass
class RateTable:
    """The parsed rate table. Look-ups are memoised per semester (compute() calls them per segment)."""

    path: str
    ecb: tuple[EcbRate, ...]
    known_until: dt.date
    legal: dict[Semester, LegalRate]
    stored_ecb: dict[Semester, StoredEcbRate] = field(default_factory=dict)
    _ecb_cache: dict[Semester, Decimal] = field(default_factory=dict, repr=False)

    @functools.cached_property
    def _unverified(self) -> bool:
        return any(e.unverified for e in self.ecb) or any(e.unverified for e in self.legal.values())

    @property
    def name(self) -> str:
        return Path(self.path).name

    def reference_ecb_rate(self, semester: SemesterLike) -> Decimal:
        """MRO rate in force on the first day of the semester (L441-10 II; R2192-31 CCP)."""
        sem = as_semester(semester)
        cached = self._ecb_cache.get(sem)
        if cached is not None:
            return cached
        stored = self.stored_ecb.get(sem)
        if stored is not None:   # read from the ECB Data Portal by the RatesCheckFunction
            self._ecb_cache[sem] = stored.rate
            return stored.rate
        day = sem.start
        if day > self.known_until:
            raise _missing(sem, "ecb",
                f"no ECB reference rate for semester {sem} in {self.name}: the MRO rate in force on {day} is "
                f"not known (table checked up to {self.known_until}); add the ECB decisions when known")
        in_force = None
        for entry in self.ecb:
            if entry.effective <= day:
                in_force = entry
            else:
                break
        if in_force is None:
            raise _missing(sem, "ecb",
                f"no ECB reference rate for semester {sem} in {self.name}: the table starts on "
                f"{self.ecb[0].effective}, after {day}")
        self._ecb_cache[sem] = in_force.rate
        return in_force.rate

    def legal_rate(self, semester: SemesterLike, creditor: Creditor = "professional") -> Decimal:
        """Legal interest rate of the semester (L313-2 C. monét. fin.), for the given kind of creditor."""
        sem = as_semester(semester)
        entry = self.legal.get(sem)
        if entry is None:
            raise _missing(sem, "legal",
                f"no legal interest rate for semester {sem} in {self.name}: "
                "add it when the arrêté is published")
        if creditor == "professional":
            return entry.professional
        if creditor == "individual":
            return entry.individual
        raise RelanceError(f"unknown creditor {creditor!r} (expected 'professional' or 'individual')")


    def ecb_entry(self, semester: SemesterLike) -> EcbRate | StoredEcbRate | None:
        """The entry the reference ECB rate of a semester comes from (None when it is missing)."""
        sem = as_semester(semester)
        if sem in self.stored_ecb:
            return self.stored_ecb[sem]
        if sem.start > self.known_until:
            return None
        found = None
        for entry in self.ecb:
            if entry.effective <= sem.start:
                found = entry
        return found

    def caveats(self, semester: SemesterLike, *, ecb: bool = False, legal: bool = False) -> list[str]:
        """Warnings for the rates of ``semester`` that no primary source confirmed (``unverified``)."""
        if not self._unverified:
            return []
        sem = as_semester(semester)
        out = []
        if ecb:
            entry = self.ecb_entry(sem)
            if isinstance(entry, EcbRate) and entry.unverified:
                out.append(f"ECB reference rate of {sem} not confirmed by a primary source: {entry.unverified}")
        if legal:
            legal_entry = self.legal.get(sem)
            if legal_entry is not None and legal_entry.unverified:
                out.append(f"legal interest rate of {sem} not confirmed by a primary source: "
                           f"{legal_entry.unverified}")
        return out

    def with_stored(self, ecb: list[StoredEcbRate], legal: list[LegalRate]) -> RateTable:
        """This table completed by the rates stored in the deployed table (a stored rate wins)."""
        if not ecb and not legal:
            return self
        merged = dict(self.legal)
        merged.update({entry.semester: entry for entry in legal})
        return RateTable(self.path, self.ecb, self.known_until, merged,
                         {**self.stored_ecb, **{entry.semester: entry for entry in ecb}})


def _missing(sem: Semester, what: str, message: str) -> RateMissingError:
    """A RateMissingError that also says which semester and which rate (``ecb`` | ``legal``) is missing."""
    error = RateMissingError(message)
    error.semester = str(sem)  # type: ignore[attr-defined]
    error.what = what          # type: ignore[attr-defined]
    return error


# --- loading ---------------------------------------------------------------------------------------------

def _fail(path: str, where: str, message: str) -> RelanceError:
    return RelanceError(message, f"{path}: {where}")


def _percent(path: str, where: str, value: Any) -> Decimal:
    """A percentage written as a decimal ("2.15") -> the fraction 0.0215."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _fail(path, where, f"rate {value!r} must be a percentage such as \"2.15\"")
    try:
        pct = Decimal(str(value).strip())
    except InvalidOperation:
        raise _fail(path, where, f"rate {value!r} is not a number") from None
    if not pct.is_finite() or not Decimal(-5) <= pct <= Decimal(50):
        raise _fail(path, where, f"rate {value!r} is not a plausible percentage (between -5 and 50)")
    return pct / _HUNDRED


def _date(path: str, where: str, value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _fail(path, where, f"{value!r} is not a date (YYYY-MM-DD)")


def _text(path: str, where: str, entry: dict[str, Any], key: str) -> str:
    value = entry.get(key)
    if isinstance(value, dt.date):  # an unquoted YYYY-MM-DD read date
        value = value.isoformat()
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, where,
                    f"field '{key}' is missing (every rate names its source and when it was read)")
    if key == "read" and not _READ.match(value.strip()):
        raise _fail(path, where, f"field 'read' {value!r} must be a date YYYY-MM-DD (or a month YYYY-MM)")
    return value.strip()


def _optional(path: str, where: str, entry: dict[str, Any], key: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, where, f"field '{key}' must be a sentence saying what could not be checked")
    return " ".join(value.split())


def parse_table(text: str, path: str) -> RateTable:
    """Parse and check the YAML text of a rate table; errors name the file and the entry."""
    import yaml  # here, not at the top: only the first penalty computed in a process reads the table

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}" if mark is not None else "YAML"
        raise RelanceError(f"invalid YAML: {getattr(exc, 'problem', exc)}", f"{path}: {line}") from None
    if not isinstance(data, dict):
        raise RelanceError("expected a mapping with 'ecb_mro' and 'legal_rates'", path)
    ecb_block = data.get("ecb_mro")
    if (not isinstance(ecb_block, dict) or not isinstance(ecb_block.get("rates"), list)
            or not ecb_block["rates"]):
        raise RelanceError("'ecb_mro.rates' must be a non-empty list", path)
    ecb: list[EcbRate] = []
    for i, entry in enumerate(ecb_block["rates"]):
        where = f"ecb_mro.rates[{i}]"
        if not isinstance(entry, dict):
            raise _fail(path, where, "expected a mapping with effective, mro, source, read")
        rate = EcbRate(_date(path, where, entry.get("effective")), _percent(path, where, entry.get("mro")),
                       _text(path, where, entry, "source"), _text(path, where, entry, "read"),
                       _optional(path, where, entry, "unverified"))
        if ecb and rate.effective <= ecb[-1].effective:
            raise _fail(path, where, f"effective date {rate.effective} is not after {ecb[-1].effective}")
        ecb.append(rate)
    known_until = _date(path, "ecb_mro.known_until", ecb_block.get("known_until"))
    if known_until < ecb[-1].effective:
        raise _fail(path, "ecb_mro.known_until",
                    f"{known_until} is before the last ECB decision listed ({ecb[-1].effective})")
    legal_list = data.get("legal_rates")
    if not isinstance(legal_list, list) or not legal_list:
        raise RelanceError("'legal_rates' must be a non-empty list", path)
    legal: dict[Semester, LegalRate] = {}
    for i, entry in enumerate(legal_list):
        where = f"legal_rates[{i}]"
        if not isinstance(entry, dict):
            raise _fail(path, where,
                        "expected a mapping with semester, individual, professional, source, read")
        try:
            sem = Semester.parse(str(entry.get("semester", "")))
        except RelanceError as exc:
            raise _fail(path, where, exc.message) from None
        where = f"legal_rates[{i}] ({sem})"
        if sem in legal:
            raise _fail(path, where, f"semester {sem} is listed twice")
        legal[sem] = LegalRate(sem, _percent(path, where, entry.get("individual")),
                               _percent(path, where, entry.get("professional")),
                               _text(path, where, entry, "source"), _text(path, where, entry, "read"),
                               _optional(path, where, entry, "unverified"))
    return RateTable(path, tuple(ecb), known_until, legal)


@functools.lru_cache(maxsize=8)
def _load(path: str | None) -> RateTable:
    if path is None:
        resource = resources.files("relance").joinpath("data", "rates.yaml")
        return parse_table(resource.read_text(encoding="utf-8"), "rates.yaml")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RelanceError(f"cannot read the rate table ({exc.strerror})",
                           f"{ENV_RATES_FILE}={path}") from None
    return parse_table(text, path)


_STORED: tuple[list[StoredEcbRate], list[LegalRate]] = ([], [])


def table() -> RateTable:
    """The rate table in use: ``$RELANCE_RATES_FILE`` if set, else the packaged ``data/rates.yaml``,
    completed by the rates stored in the deployed table (:func:`use_stored`)."""
    return _merged(os.environ.get(ENV_RATES_FILE) or None)


@functools.lru_cache(maxsize=8)
def _merged(path: str | None) -> RateTable:
    return _load(path).with_stored(*_STORED)


def use_stored(ecb: list[StoredEcbRate], legal: list[LegalRate]) -> None:
    """Complete the file's rates with the ones read from the deployed table (handlers call it per run)."""
    global _STORED
    current = ([(e.semester, e.rate) for e in _STORED[0]], [(e.semester, e.individual, e.professional)
                                                            for e in _STORED[1]])
    new = ([(e.semester, e.rate) for e in ecb], [(e.semester, e.individual, e.professional) for e in legal])
    if current != new:
        _STORED = (list(ecb), list(legal))
        _merged.cache_clear()


def clear_cache() -> None:
    """Forget loaded tables and stored rates (after editing the file in a long-lived process, or in tests)."""
    global _STORED
    _STORED = ([], [])
    _load.cache_clear()
    _merged.cache_clear()


def reference_ecb_rate(semester: SemesterLike) -> Decimal:
    """ECB MRO rate in force on 1 Jan / 1 Jul of the semester, as a fraction (L441-10 II C. com.)."""
    return table().reference_ecb_rate(semester)


def legal_rate(semester: SemesterLike, creditor: Creditor = "professional") -> Decimal:
    """Legal interest rate of the semester as a fraction; ``professional`` is the « autres cas » rate."""
    return table().legal_rate(semester, creditor)
