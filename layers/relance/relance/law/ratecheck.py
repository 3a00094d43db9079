"""The rate check of each semester: ECB reference rate from the ECB Data Portal, legal rate by arrêté.

At the start of each semester (2 January, 2 July) the RatesCheckFunction reads the main refinancing
operations rate (series ``FM.D.U2.EUR.4F.KR.MRR_FR.LEV``, SDMX ``csvdata``) and stores the rate in force on
the semester's first day, which L441-10 II C. com. (+ 10 points) and R2192-31 CCP (+ 8 points) use. The legal
rate comes by arrêté (JORF) and is entered by a person (``relance rates set``). Whatever is still missing
raises ONE alert per semester and rate (a CloudWatch metric with its alarm, and a team task): never a
silent letter. Pure core: the network and the table are reached through the callables and ports given.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Protocol

from relance.errors import RateMissingError, RelanceError
from relance.law.rates import LegalRate, RateStore, Semester, StoredEcbRate, table

ECB_SERIES = "FM/D.U2.EUR.4F.KR.MRR_FR.LEV"
ECB_API = "https://data-api.ecb.europa.eu/service/data/"
ECB_SOURCE = "ECB Data Portal, series FM.D.U2.EUR.4F.KR.MRR_FR.LEV (main refinancing operations, fixed rate)"


def ecb_url(semester: Semester) -> str:
    """The SDMX query for the MRO rate over the month before the semester's first day, and that day."""
    first = semester.start - dt.timedelta(days=31)
    return (f"{ECB_API}{ECB_SERIES}?format=csvdata&detail=dataonly"
            f"&startPeriod={first.isoformat()}&endPeriod={semester.start.isoformat()}")


def parse_ecb_csv(text: str) -> list[tuple[dt.date, Decimal]]:
    """``(day, rate as a fraction)`` per observation of an ECB ``csvdata`` answer, read by column name."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "TIME_PERIOD" not in reader.fieldnames or "OBS_VALUE" not in reader.fieldnames:
        raise RelanceError("the ECB answer has no TIME_PERIOD/OBS_VALUE columns", "ECB Data Portal")
    out = []
    for line, row in enumerate(reader, start=2):
        if "MRR_FR" not in (row.get("KEY") or "MRR_FR"):
            raise RelanceError(f"unexpected series {row.get('KEY')!r}", f"ECB Data Portal line {line}")
        try:
            day = dt.date.fromisoformat((row["TIME_PERIOD"] or "").strip())
            pct = Decimal((row["OBS_VALUE"] or "").strip())
        except (ValueError, InvalidOperation):
            raise RelanceError(f"unreadable observation {row.get('TIME_PERIOD')!r}={row.get('OBS_VALUE')!r}",
                               f"ECB Data Portal line {line}") from None
        if not pct.is_finite() or not Decimal(-5) <= pct <= Decimal(50):
            raise RelanceError(f"implausible MRO rate {pct}", f"ECB Data Portal line {line}")
        out.append((day, pct / 100))
    return sorted(out)


def rate_in_force(observations: list[tuple[dt.date, Decimal]], day: dt.date) -> Decimal | None:
    """The last observed rate on or before ``day`` (None when the answer does not reach that far back)."""
    found = None
    for when, rate in observations:
        if when <= day:
            found = rate
    return found


class RateAlerts(Protocol):
    """Port: raise the alert of a missing rate at most once per semester and rate."""

    def claim_alert(self, semester: Semester, what: str) -> bool: ...


@dataclass
class RateCheckResult:
    semester: Semester
    stored: list[str] = field(default_factory=list)     # what was stored this time
    missing: list[str] = field(default_factory=list)    # what is still missing (with the reason)
    alerts: list[str] = field(default_factory=list)     # alerts raised this time (one per semester and rate)


def check_semester(today: dt.date, fetch: Callable[[str], str], store: RateStore, alerts: RateAlerts,
                   notify: Callable[[Semester, str], None]) -> RateCheckResult:
    """Check the rates of the semester ``today`` is in; store the ECB rate; alert once on what is missing."""
    sem = Semester.of(today)
    result = RateCheckResult(sem)
    ecb, legal = store.load()
    if not any(e.semester == sem for e in ecb):
        try:
            observations = parse_ecb_csv(fetch(ecb_url(sem)))
            rate = rate_in_force(observations, sem.start)
            if rate is None:
                raise RelanceError(f"no observation on or before {sem.start}", "ECB Data Portal")
            store.put_ecb(StoredEcbRate(sem, rate, f"{ECB_SOURCE}, observation in force on {sem.start}",
                                        today.isoformat()))
            result.stored.append(f"ecb {sem} {rate * 100:.2f} %")
            ecb = [*ecb, StoredEcbRate(sem, rate, ECB_SOURCE, today.isoformat())]
        except (RelanceError, OSError) as exc:
            # The packaged table may still know it; only a rate nobody knows is missing.
            try:
                table().with_stored(ecb, legal).reference_ecb_rate(sem)
            except RateMissingError:
                result.missing.append(f"ecb: {exc}")
    try:
        table().with_stored(ecb, legal).legal_rate(sem)
    except RateMissingError as exc:
        result.missing.append(f"legal: {exc}")
    for item in result.missing:
        what = item.split(":", 1)[0]
        if alerts.claim_alert(sem, what):
            notify(sem, item)
            result.alerts.append(what)
    return result


def legal_entry(semester: str, individual: str, other: str, source: str, read: dt.date) -> LegalRate:
    """A legal rate entered by a person (``relance rates set``), checked like the packaged table's."""
    sem = Semester.parse(semester)
    values = []
    for name, raw in (("individual", individual), ("other", other)):
        try:
            pct = Decimal(str(raw).strip().replace(",", "."))
        except InvalidOperation:
            raise RelanceError(f"{raw!r} is not a percentage such as 2.62", f"--legal-{name}") from None
        if not pct.is_finite() or not Decimal(0) <= pct <= Decimal(30):
            raise RelanceError(f"{raw} is not a plausible legal rate (a percentage, 0 to 30)", f"--legal-{name}")
        values.append(pct / 100)
    if values[0] <= values[1]:
        raise RelanceError("the rate for individual creditors (personnes physiques n'agissant pas pour des "
                           "besoins professionnels, 1° of the arrêté) has been higher than the « autres cas » "
                           "rate (2°) every semester since 2015: are the two figures swapped?", "rates set")
    if not source.strip().startswith(("http://", "https://")):
        raise RelanceError("give the address of the arrêté (Légifrance, JORF) the figures come from", "--source")
    return LegalRate(sem, values[0], values[1], source.strip(), read.isoformat())
