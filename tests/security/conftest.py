"""Security tests reuse the API and escalation helpers (tests/integration) and the fault helpers."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for folder in ("integration", "faults"):
    if str(TESTS / folder) not in sys.path:
        sys.path.insert(0, str(TESTS / folder))


from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402

from relance import runtime  # noqa: E402
from relance_dev import faults  # noqa: E402
from relance_dev.embedded import EmbeddedAws  # noqa: E402
from relance_dev.simulate.driver import SeasonDriver  # noqa: E402


@pytest.fixture
def driver(embedded: EmbeddedAws) -> Iterator[SeasonDriver]:
    runtime.reset_clients()
    faults.disarm_all()
    yield SeasonDriver(embedded)
    faults.disarm_all()
    runtime.reset_clients()
