"""The penalty table a debtor can check: one row per invoice and period, each row multiplying out.

A row is one semester (or the part of it between two payments, since a payment changes the base the next
day): ``amount = base × rate × days / 365`` rounded half-up to the cent. The statement itself rounds once
per stretch between payments (K8, K10), so the rounded rows may differ from the total interest by a cent or
two: that difference is shown as its own line (« arrondi »), never hidden in a row. The payments are listed
with their imputation (C. civ. 1343-1: interest first, then the 40 € indemnity, then the principal), so the
remaining principal and the interest still due can be followed from the rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from relance.law.penalties import DAYS_PER_YEAR, Imputation, PenaltyStatement
from relance.money import ZERO, cents


@dataclass(frozen=True)
class PenaltyRow:
    """``days`` days (``start`` to ``end``, both counted) at ``rate`` on ``base``: ``amount``."""

    invoice: str
    start: dt.date
    end: dt.date
    days: int
    base: Decimal
    rate: Decimal
    amount: Decimal

    @property
    def checks(self) -> bool:
        """The row multiplies out: base × rate × days / 365, rounded half-up to the cent."""
        return cents(self.base * self.rate * self.days / DAYS_PER_YEAR) == self.amount


@dataclass(frozen=True)
class PenaltyTable:
    """The rows of one invoice, the rounding line, the payments and what remains due on the statement day."""

    invoice: str
    rows: tuple[PenaltyRow, ...]
    rounding: Decimal            # statement interest - Σ rounded rows (0.00 in most cases)
    interest: Decimal            # = Σ rows + rounding = `relance penalties` "interest"
    indemnity: Decimal
    imputations: tuple[Imputation, ...]
    interest_unpaid: Decimal
    indemnity_unpaid: Decimal
    principal_unpaid: Decimal

    @property
    def rows_total(self) -> Decimal:
        return cents(sum((r.amount for r in self.rows), ZERO))


def penalty_table(invoice: str, statement: PenaltyStatement) -> PenaltyTable:
    """Rows of ``statement`` for the letter of ``invoice``; their sum + rounding equals its interest."""
    rows = tuple(PenaltyRow(invoice, p.start, p.end, p.days, cents(p.base), p.annual_rate, cents(p.exact))
                 for p in statement.periods)
    rows_total = cents(sum((r.amount for r in rows), ZERO))
    return PenaltyTable(invoice=invoice, rows=rows, rounding=cents(statement.interest - rows_total),
                        interest=statement.interest, indemnity=statement.indemnity,
                        imputations=tuple(statement.imputations), interest_unpaid=statement.interest_unpaid,
                        indemnity_unpaid=statement.indemnity_unpaid,
                        principal_unpaid=statement.remaining_principal)
