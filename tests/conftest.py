"""Shared fixtures: fake AWS credentials for the whole session, the embedded AWS, Lambda context, events."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from relance.local import EmbeddedAws, LambdaContext, embedded_aws, fake_aws_environment

REPO_ROOT = Path(__file__).resolve().parents[1]
EVENTS_DIR = REPO_ROOT / "events"


@pytest.fixture(scope="session", autouse=True)
def aws_credentials() -> Iterator[None]:
    """Fake credentials and Region (eu-west-3) for every test: no test can reach a real account."""
    import os

    # the demo's partners (policies/partners/partners.yaml ships empty: partners are the user's data)
    os.environ.setdefault("RELANCE_PARTNERS_FILE", str(EVENTS_DIR / "partners.yaml"))
    with fake_aws_environment():
        yield


@pytest.fixture
def embedded() -> Iterator[EmbeddedAws]:
    """template.yaml deployed into a fresh moto (executing Step Functions, handlers run in-process)."""
    with embedded_aws() as aws:
        yield aws


@pytest.fixture
def lambda_context() -> LambdaContext:
    """A Lambda-like context object (what Powertools' inject_lambda_context reads)."""
    return LambdaContext(
        function_name="relance-test",
        memory_limit_in_mb=512,
        timeout_seconds=60,
        invoked_function_arn="arn:aws:lambda:eu-west-3:123456789012:function:relance-test",
    )


@pytest.fixture
def load_event() -> Callable[[str], Any]:
    """``load_event("scheduled")`` reads events/scheduled.json (the events ``sam local invoke -e`` uses)."""

    def load(name: str) -> Any:
        path = EVENTS_DIR / (name if name.endswith(".json") else f"{name}.json")
        return json.loads(path.read_text(encoding="utf-8"))

    return load
