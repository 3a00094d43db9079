"""Shared fixtures: fake AWS credentials for the whole session, the embedded AWS, Lambda context, events.

The embedded AWS is deployed once and emptied between tests (relance_dev.embedded.shared); a test that
changes the infrastructure gets it redeployed for the next one. botocore's retries keep their decisions
and attempt counts but do not wait: a throttled call is retried at once.
"""

from __future__ import annotations

import json
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from relance_dev.embedded import EmbeddedAws, LambdaContext, fake_aws_environment
from relance_dev.embedded.shared import SHARED, SharedEmbeddedAws

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


@pytest.fixture(scope="session", autouse=True)
def shared_embedded() -> Iterator[SharedEmbeddedAws]:
    """The shared deployment (made at its first use), torn down at the end of the session."""
    yield SHARED
    SHARED.close()


@pytest.fixture
def embedded(shared_embedded: SharedEmbeddedAws) -> EmbeddedAws:
    """template.yaml deployed into moto (executing Step Functions, handlers run in-process), empty."""
    return shared_embedded.get()


@pytest.fixture(scope="session", autouse=True)
def retries_without_waiting() -> Iterator[None]:
    """botocore retries throttled calls as configured (runtime's adaptive mode), without sleeping."""
    import importlib.metadata
    import inspect

    from botocore import endpoint
    from botocore.retries import bucket

    from relance_dev.simulate.fastmoto import PINNED

    # Two botocore internals, checked before they are replaced: a botocore that moved them fails here, by name.
    installed = importlib.metadata.version("botocore")
    where = f"retries_without_waiting (tests/conftest.py), written for botocore {PINNED['botocore']}"
    if installed != PINNED["botocore"]:
        raise RuntimeError(f"{where}: botocore {installed} is installed")
    if getattr(endpoint, "time", None) is not time:
        raise RuntimeError(f"{where}: botocore.endpoint no longer sleeps through its module global 'time'")
    sleep_amount = getattr(bucket.TokenBucket, "_sleep_amount", None)
    if sleep_amount is None or list(inspect.signature(sleep_amount).parameters) != ["self", "amount"]:
        raise RuntimeError(f"{where}: botocore.retries.bucket.TokenBucket._sleep_amount(self, amount) changed")
    awake = types.SimpleNamespace(**{**vars(time), "sleep": lambda seconds: None})
    with mock.patch.object(endpoint, "time", awake), \
            mock.patch.object(bucket.TokenBucket, "_sleep_amount", lambda self, amount: 0):
        yield


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
