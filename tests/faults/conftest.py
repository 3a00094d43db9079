"""Fixtures of the fault-injection tests: a driver on a fresh embedded AWS, faults disarmed around each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from faults_support import Season, seed

from relance import runtime
from relance_dev import faults
from relance_dev.embedded import EmbeddedAws
from relance_dev.simulate.driver import SeasonDriver


@pytest.fixture
def driver(embedded: EmbeddedAws) -> Iterator[SeasonDriver]:
    runtime.reset_clients()
    faults.disarm_all()
    driver = SeasonDriver(embedded)
    yield driver
    faults.disarm_all()
    runtime.reset_clients()


@pytest.fixture
def season(driver: SeasonDriver) -> Season:
    """C1 with invoices A1 and A2, both due 2026-04-16 (the standard ladder)."""
    seed(driver)
    return Season(driver)
