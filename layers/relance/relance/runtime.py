"""Former name of :mod:`relance.wiring`, kept for the tests and the simulator outside the layer's core.

New code imports :mod:`relance.wiring`; this module only re-exports it (no factory of its own).
"""

from __future__ import annotations

from relance.wiring import *  # noqa: F403
from relance.wiring import __all__  # noqa: F401
