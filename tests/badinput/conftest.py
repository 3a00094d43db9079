"""The bad-input catalogue reuses the API helpers (tests/integration) and the Factur-X builders (tests/unit)."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for folder in ("integration", "unit"):
    if str(TESTS / folder) not in sys.path:
        sys.path.insert(0, str(TESTS / folder))
