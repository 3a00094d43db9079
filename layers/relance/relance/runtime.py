"""Former name of :mod:`relance.wiring`, kept for the tests and the simulator outside the layer's core.

New code imports :mod:`relance.wiring`; this module only re-exports it (no factory of its own).
"""

from __future__ import annotations

from relance.ledger import Ledger  # noqa: F401
from relance.settings import Settings  # noqa: F401
from relance.wiring import *  # noqa: F403
