"""Late-payment interest and the 40 € recovery indemnity on one invoice (French law, conventions K1-K11).

Conventions (shared domain note legal-fr.md):

- K1 simple interest, never compounded (C. civ. 1343-2).
- K2 days late = end date - due date: the first day counted is the day after the due date, the end date
  (funds credited, or the date of the statement) counts (L441-10 II « exigibles le jour suivant »).
- K3 divisor 365, leap years included.  K4 base = the TTC principal still due (CJUE C-585/20).
- K5 b2b without a clause: ECB reference rate of each day's semester + 10 points (L441-10 II).
- K6 clause « 3 × taux légal »: 3 × the legal rate « autres cas » of each semester.
- K7 40 € per invoice paid late, b2b and public buyers only, once, outside the base (D441-5).
- K8 exact decimal per segment, summed, ONE half-up rounding to the cent per invoice.
- K9 b2c: legal rate « autres cas » from the day after the formal notice was sent (C. civ. 1231-6,
  1344-1; L313-2 CMF); no 40 €, no recovery costs (CPCE L111-8).
- K10 a partial payment pays the interest accrued so far first, then the 40 €, then the principal
  (C. civ. 1343-1); the principal it pays stops bearing interest the next day. The interest accrued up
  to a payment date is rounded to the cent there (worked case 7), so K8's single rounding applies to
  each stretch between two payments.
- K11 a payment is dated by the day the funds were credited.
- Public buyers: ECB rate of the semester in which interest started + 8 points, frozen for the whole
  delay (R2192-31 CCP), plus 40 €.

``periods`` has one entry per semester segment; a payment date also ends a segment, because the base
changes the next day. Each period's interest is shown rounded to the cent for reading only: ``interest``
is the rounded sum of the exact segments, so the periods may add up to it ± 0.01 €.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Context, Decimal, localcontext
from typing import Literal, TypedDict

from relance.errors import RelanceError
from relance.law.rates import RateTable, Semester, table
from relance.money import ZERO, cents, fmt, parse_amount

Kind = Literal["b2b", "b2c", "public"]
KINDS: tuple[Kind, ...] = ("b2b", "b2c", "public")
LEGAL_X3 = "legal-x3"
RateOption = Decimal | Literal["legal-x3"] | None

INDEMNITY = Decimal("40.00")        # D441-5 C. com.
DEFAULT_MARGIN = Decimal("0.10")    # L441-10 II: ECB + 10 points
PUBLIC_MARGIN = Decimal("0.08")     # R2192-31 CCP: ECB + 8 points
DAYS_PER_YEAR = Decimal(365)        # K3
_FOUR_PLACES = Decimal("0.0001")
_ONE_DAY = dt.timedelta(days=1)
_CTX = Context(prec=50)             # exact for every product we form; the only inexact step is /365


# A period as shown to people and in JSON; ``from``/``to`` are the first and last day counted.
PeriodDict = TypedDict("PeriodDict",
                       {"from": str, "to": str, "days": int, "annual_rate": str, "interest": str})


@dataclass(frozen=True, eq=False)
class Period:
    """One segment: every day from ``start`` to ``end`` (both counted) bears ``annual_rate`` on ``base``.

    Read it by attribute (dates and Decimals: ``p.annual_rate``, ``p.interest``) or, like its JSON, as a
    mapping of strings (``p["from"]``, ``p["interest"] == "83.01"``); it compares equal to that mapping.
    """

    start: dt.date
    end: dt.date
    days: int
    annual_rate: Decimal
    base: Decimal
    exact: Decimal     # base × rate × days / 365, unrounded

    @property
    def interest(self) -> Decimal:
        """This segment's interest rounded to the cent (for display; the total is rounded once)."""
        return cents(self.exact)

    def as_dict(self) -> PeriodDict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "days": self.days,
                "annual_rate": format_rate(self.annual_rate), "interest": fmt(self.exact)}

    def __getitem__(self, key: str) -> str | int:
        return self.as_dict()[key]  # type: ignore[literal-required]

    def keys(self) -> list[str]:
        return list(PeriodDict.__annotations__)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Period):
            return (self.start, self.end, self.days, self.annual_rate, self.base, self.exact) == (
                other.start, other.end, other.days, other.annual_rate, other.base, other.exact)
        if isinstance(other, dict):
            return dict(self.as_dict()) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.start, self.end, self.days, self.annual_rate, self.base, self.exact))


@dataclass(frozen=True)
class Imputation:
    """How one payment credited after the due date was imputed (C. civ. 1343-1): interest, 40 €, principal."""

    day: dt.date
    amount: Decimal
    interest: Decimal
    indemnity: Decimal
    principal: Decimal
    excess: Decimal


@dataclass(frozen=True)
class PenaltyStatement:
    """What one invoice costs its debtor on ``on``. Amounts are Decimal with two places.

    ``interest`` is all the interest accrued from the due date to ``on`` (including any part already paid
    by imputation); ``total`` is what is claimable on ``on``: principal + interest + indemnity - paid,
    never negative.
    """

    principal: Decimal
    due: dt.date
    on: dt.date
    kind: Kind
    days_late: int
    interest: Decimal
    indemnity: Decimal
    paid: Decimal
    total: Decimal
    remaining_principal: Decimal
    periods: list[Period] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    interest_unpaid: Decimal = ZERO     # interest accrued and not yet paid by imputation
    indemnity_unpaid: Decimal = ZERO    # the 40 € when no payment has reached it yet
    imputations: list[Imputation] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of ``relance penalties`` (decimal strings with two places)."""
        return {
            "principal": fmt(self.principal),
            "days_late": self.days_late,
            "interest": fmt(self.interest),
            "indemnity": fmt(self.indemnity),
            "total": fmt(self.total),
            "periods": [p.as_dict() for p in self.periods],
            "paid": fmt(self.paid),
            "remaining_principal": fmt(self.remaining_principal),
            "interest_unpaid": fmt(self.interest_unpaid),
            "indemnity_unpaid": fmt(self.indemnity_unpaid),
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }


def format_rate(rate: Decimal) -> str:
    """0.1215 -> "0.1215", 0.15 -> "0.1500": at least four places, more only if the rate has them."""
    if rate == rate.quantize(_FOUR_PLACES):
        return str(rate.quantize(_FOUR_PLACES))
    return format(rate.normalize(), "f")


def _percent(rate: Decimal) -> str:
    return f"{format(rate * 100, 'f').rstrip('0').rstrip('.')} %"


def _check_date(value: object, name: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise RelanceError(f"{name} must be a date, got {value!r}")
    return value


def _check_rate(rate: object, kind: Kind) -> RateOption:
    if rate is None:
        return None
    if kind != "b2b":
        basis = ("the rate is set by R2192-31 CCP (ECB + 8 points) and cannot be waived" if kind == "public"
                 else "a consumer owes the legal rate from the formal notice (C. civ. 1231-6)")
        raise RelanceError(f"a contractual rate applies to b2b invoices only: for a {kind} debtor {basis}",
                           "rate")
    if rate == LEGAL_X3:
        return "legal-x3"
    if isinstance(rate, bool) or not isinstance(rate, Decimal | int):
        raise RelanceError(f"{rate!r} must be a Decimal fraction such as Decimal('0.15') or 'legal-x3'",
                           "rate")
    value = Decimal(rate)
    if not value.is_finite() or value < 0:
        raise RelanceError(f"{rate} must be a positive fraction such as 0.15", "rate")
    if value > 1:
        raise RelanceError(f"{rate} is above 1: give the annual rate as a fraction (0.15 for 15 %)", "rate")
    return value


def compute(principal: Decimal, due: dt.date, on: dt.date, kind: Kind = "b2b", rate: RateOption = None,
            notice: dt.date | None = None,
            payments: Sequence[tuple[dt.date, Decimal]] = ()) -> PenaltyStatement:
    """Late-payment interest, 40 € indemnity and what is claimable on ``on`` for one invoice.

    ``principal`` is the TTC amount of the invoice; ``rate`` is a contractual annual rate (b2b only: a
    fraction, or ``"legal-x3"`` for 3 × the legal rate of each semester), None for the legal default;
    ``notice`` is the day the formal notice was sent (b2c); ``payments`` are ``(date credited, amount)``.
    Raises RelanceError on bad input and RateMissingError when a semester's rate is not in the table.
    """
    principal = parse_amount(principal, "principal")
    due = _check_date(due, "due")
    on = _check_date(on, "on")
    if kind not in KINDS:
        raise RelanceError(f"unknown kind {kind!r} (expected b2b, b2c or public)", "kind")
    rate = _check_rate(rate, kind)
    if notice is not None:
        notice = _check_date(notice, "notice")
    plan: list[tuple[dt.date, Decimal]] = []
    for item in payments:
        try:
            day, raw = item
        except (TypeError, ValueError):
            raise RelanceError(f"{item!r} is not a (date, amount) pair", "payment") from None
        day = _check_date(day, "payment date")
        where = f"payment {day.isoformat()}:{raw}"
        amount = parse_amount(raw, where)
        if day > on:
            raise RelanceError(f"the payment is dated after the statement date {on}", where)
        plan.append((day, amount))
    plan.sort(key=lambda p: p[0])

    warnings: list[str] = []
    notes: list[str] = []
    days_late = max(0, (on - due).days)

    # Principal still due at the end of the due date: payments up to then only reduce it (no accessory
    # is due yet). If nothing is left, the invoice was not paid late: no interest, no indemnity.
    base = principal
    for day, amount in plan:
        if day <= due:
            base -= amount
    late = days_late > 0 and base > 0
    if days_late > 0 and base <= 0:
        notes.append("paid in full by the due date: no late-payment interest or indemnity")
    indemnity = INDEMNITY if late and kind != "b2c" else ZERO

    # First day bearing interest, and the annual rate of each semester.
    first: dt.date | None = due + _ONE_DAY if late else None
    rates = table()
    rate_of: Callable[[Semester], Decimal]
    if kind == "b2c":
        notes.append("consumer debtor: no 40 € indemnity and no recovery costs may be charged "
                     "(D441-5 is for professional debtors; CPCE L111-8)")
        if notice is None:
            first = None
            if late:
                notes.append("no interest: for a consumer, interest at the legal rate runs only from the "
                             "formal notice (C. civ. 1231-6, 1344-1); give the date the notice was sent")
        elif notice < due:
            first = None
            if late:
                notes.append(f"no interest: the formal notice of {notice} predates the due date {due} and "
                             "cannot put the debtor in default (C. civ. 1344); send a new notice")
        elif first is not None:
            first = notice + _ONE_DAY
            if first > on:
                first = None
                notes.append("no interest yet: interest runs from the day after the formal notice of "
                             f"{notice}")
            else:
                notes.append("interest at the legal rate « autres cas » (professional creditor, L313-2 CMF) "
                             f"from {first}, the day after the formal notice was sent "
                             "(C. civ. 1231-6, 1344-1)")
        rate_of = rates.legal_rate
    else:
        if notice is not None:
            notes.append(f"formal notice of {notice} ignored: {kind} late-payment interest runs from the day "
                         "after the due date without any reminder (L441-10 II)")
        if kind == "public":
            if first is not None:
                start_sem = Semester.of(first)
                frozen = rates.reference_ecb_rate(start_sem) + PUBLIC_MARGIN
                rate_of = lambda _sem: frozen  # noqa: E731
                notes.append(f"public buyer: ECB rate in force on {start_sem.start} (semester {start_sem}, "
                             f"in which interest started) + 8 points = {_percent(frozen)}, frozen for the "
                             "whole delay (R2192-31 CCP); 40 € flat indemnity")
        elif rate is None:
            rate_of = lambda sem: rates.reference_ecb_rate(sem) + DEFAULT_MARGIN  # noqa: E731
            if first is not None:
                notes.append("rate: ECB reference rate of each semester + 10 points, each day at its own "
                             "semester's rate (L441-10 II C. com.); 40 € indemnity (D441-5)")
        elif not isinstance(rate, Decimal):  # "legal-x3"
            rate_of = lambda sem: rates.legal_rate(sem) * 3  # noqa: E731
            if first is not None:
                notes.append("rate: contractual clause 3 × the legal rate « autres cas » of each semester "
                             "(L441-10 II C. com.); 40 € indemnity (D441-5)")
        else:
            fixed = rate
            rate_of = lambda _sem: fixed  # noqa: E731
            if first is not None:
                notes.append(f"rate: contractual {_percent(fixed)} (L441-10 II C. com.); "
                             "40 € indemnity (D441-5)")

    segments: list[Period] = []
    imputations: list[Imputation] = []
    interest = ZERO
    unpaid_interest = ZERO
    if first is not None:
        interest, base, excess, unpaid_interest, owed_indemnity = _accrue(
            principal, due, on, first, plan, indemnity, rate_of, segments, imputations)
        if isinstance(rate, Decimal):
            warnings.extend(_floor_warnings(rates, rate, segments))
        uses_ecb = kind == "public" or (kind == "b2b" and rate is None)
        uses_legal = kind == "b2c" or rate == LEGAL_X3
        for sem in dict.fromkeys(Semester.of(seg.start) for seg in segments):
            warnings.extend(rates.caveats(sem, ecb=uses_ecb, legal=uses_legal))
    else:
        # No interest runs: payments go to the indemnity (once late) and the principal.
        excess, owed_indemnity, base = ZERO, indemnity, principal
        for day, amount in plan:
            paid_amount, to_indemnity = amount, ZERO
            if day > due:
                to_indemnity = min(amount, owed_indemnity)
                owed_indemnity -= to_indemnity
                amount -= to_indemnity
            part = min(amount, base)
            base -= part
            excess += amount - part
            if day > due:
                imputations.append(Imputation(day, paid_amount, ZERO, to_indemnity, part, amount - part))
    if plan:
        notes.append("payments are imputed to the interest accrued, then the 40 € indemnity, then the "
                     "principal (C. civ. 1343-1); the interest accrued up to each payment is rounded to the "
                     "cent then")
    paid = sum((amount for _, amount in plan), ZERO)
    total = principal + interest + indemnity - paid
    if total < 0 or excess > 0:
        notes.append(f"overpaid by {fmt(max(excess, -total))}: nothing is claimable, the excess is to be "
                     "refunded or credited")
        total = ZERO
    return PenaltyStatement(principal=principal, due=due, on=on, kind=kind, days_late=days_late,
                            interest=cents(interest), indemnity=indemnity, paid=cents(paid),
                            total=cents(total), remaining_principal=cents(max(base, ZERO)),
                            periods=segments, warnings=warnings, notes=notes,
                            interest_unpaid=cents(unpaid_interest), indemnity_unpaid=cents(owed_indemnity),
                            imputations=imputations)


def _accrue(principal: Decimal, due: dt.date, on: dt.date, first: dt.date,
            plan: list[tuple[dt.date, Decimal]], indemnity: Decimal,
            rate_of: Callable[[Semester], Decimal], segments: list[Period],
            imputations: list[Imputation]) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal]:
    """Walk from ``first`` to ``on`` segment by segment.

    Returns (interest, remaining principal, excess, interest still unpaid, indemnity still unpaid).

    Each segment adds base × rate × days (exact) to a pending numerator; at each payment date and at ``on``
    the pending interest is divided by 365 and rounded once to the cent (K8, K10).
    """
    base = principal
    interest = ZERO          # rounded stretches, summed
    unpaid_interest = ZERO
    owed_indemnity = indemnity
    excess = ZERO
    pending = Decimal(0)     # Σ base × rate × days since the last rounding
    cursor = first           # next day that has not been accrued yet
    with localcontext(_CTX):
        for stop, amount in [*plan, (on, None)]:
            # Accrue every day from cursor to stop (inclusive) on the current base.
            while cursor <= stop and base > 0:
                sem = Semester.of(cursor)
                end = min(stop, sem.end)
                days = (end - cursor).days + 1
                annual = rate_of(sem)
                numerator = base * annual * days
                pending += numerator
                segments.append(Period(cursor, end, days, annual, base, numerator / DAYS_PER_YEAR))
                cursor = end + _ONE_DAY
            if cursor <= stop:   # principal fully paid: nothing accrues any more
                cursor = stop + _ONE_DAY
            if pending:
                stretch = cents(pending / DAYS_PER_YEAR)
                interest += stretch
                unpaid_interest += stretch
                pending = Decimal(0)
            if amount is None:
                break
            # Imputation (C. civ. 1343-1): interest first, then the 40 € once late, then the principal.
            paid_amount = amount
            to_interest = min(amount, unpaid_interest)
            unpaid_interest -= to_interest
            amount -= to_interest
            to_indemnity = ZERO
            if stop > due:
                to_indemnity = min(amount, owed_indemnity)
                owed_indemnity -= to_indemnity
                amount -= to_indemnity
            part = min(amount, base)
            base -= part
            excess += amount - part
            if stop > due:
                imputations.append(Imputation(stop, paid_amount, to_interest, to_indemnity, part, amount - part))
    return interest, base, excess, unpaid_interest, owed_indemnity


def _floor_warnings(rates: RateTable, rate: Decimal, segments: list[Period]) -> list[str]:
    """L441-10 II: a contractual rate may not be below 3 × the legal rate; check every semester it covers."""
    out: list[str] = []
    seen: set[Semester] = set()
    for seg in segments:
        sem = Semester.of(seg.start)
        if sem in seen:
            continue
        seen.add(sem)
        entry = rates.legal.get(sem)
        if entry is None:
            out.append(f"cannot check the L441-10 floor for {sem}: no legal interest rate in {rates.name} "
                       "yet")
            continue
        floor = entry.professional * 3
        if rate < floor:
            out.append(f"clause illicite (L441-10): the contractual rate {_percent(rate)} is below 3 × the "
                       f"legal rate « autres cas » ({_percent(floor)}) in {sem}; the clause exposes the "
                       "creditor to the L441-16 fine and the rate claimable instead (floor or ECB + 10 "
                       "points) must be decided by a lawyer; computed here at the contractual rate")
    return out


@dataclass(frozen=True)
class Accessories:
    """What remains owed once the payments have covered the invoice amount (the principal, as booked).

    The last payment is taken as paying the principal (the debtor's designation, which the creditor
    accepts); the earlier ones were imputed to interest first (C. civ. 1343-1), so what remains is the
    interest and the 40 € they did not cover, plus the principal they left. ``interest`` is None when a rate
    is missing (then only the indemnity is known). ``statement`` is the computation up to the last payment,
    that payment excluded: its rows and imputations are the « décompte des pénalités ».
    """

    interest: Decimal | None
    indemnity: Decimal
    principal: Decimal = ZERO
    missing: str | None = None
    statement: PenaltyStatement | None = None

    @property
    def known_total(self) -> Decimal:
        return (self.interest or ZERO) + self.indemnity + self.principal


def accessories_after_principal(amount: Decimal, due: dt.date, kind: Kind,
                                payments: Sequence[tuple[dt.date, Decimal]], contract_rate: object = None,
                                notice: dt.date | None = None) -> Accessories:
    """Interest, indemnity (and principal left by imputation) still owed on the day of the last payment."""
    from relance.errors import RateMissingError

    plan = sorted(payments, key=lambda p: p[0])
    if not plan:
        raise RelanceError("no payment: the principal is not paid", "payments")
    *earlier, (last_day, last_amount) = plan
    rate: RateOption = None
    if kind == "b2b" and contract_rate is not None:
        rate = "legal-x3" if contract_rate == LEGAL_X3 else Decimal(str(contract_rate))
    try:
        st = compute(amount, due, last_day, kind, rate=rate, notice=notice, payments=earlier)
    except RateMissingError as exc:
        late = last_day > due
        return Accessories(None, INDEMNITY if late and kind != "b2c" else ZERO, missing=str(exc))
    left = max(st.remaining_principal - last_amount, ZERO)
    # An overpayment beyond the principal pays the accessories.
    extra = max(last_amount - st.remaining_principal, ZERO)
    interest = max(st.interest_unpaid - extra, ZERO)
    extra = max(extra - st.interest_unpaid, ZERO)
    indemnity = max(st.indemnity_unpaid - extra, ZERO)
    return Accessories(interest, indemnity, left, statement=st)
