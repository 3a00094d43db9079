"""French late-payment law: rate table, penalties and indemnity, limitation periods.

Public API:

- :func:`compute` (penalties.py) -> :class:`PenaltyStatement`
- :func:`reference_ecb_rate`, :func:`legal_rate` (rates.py), backed by ``relance/data/rates.yaml``
- :func:`limitation_date` (limitation.py) -> :class:`Limitation`
"""

from relance.law.limitation import Limitation, limitation_date
from relance.law.penalties import INDEMNITY, KINDS, LEGAL_X3, PenaltyStatement, Period, compute
from relance.law.rates import Semester, legal_rate, reference_ecb_rate

__all__ = [
    "INDEMNITY",
    "KINDS",
    "LEGAL_X3",
    "Limitation",
    "PenaltyStatement",
    "Period",
    "Semester",
    "compute",
    "legal_rate",
    "limitation_date",
    "reference_ecb_rate",
]
