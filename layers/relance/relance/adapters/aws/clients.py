"""boto3 clients, cached per (service, endpoint, region) in the process as a warm Lambda keeps them."""

from __future__ import annotations

import functools
import os
from typing import Any

import boto3
from botocore.config import Config

# Standard retry mode with more attempts: throttling (SES rate, DynamoDB bursts) backs off and retries.
_BOTO_CONFIG = Config(retries={"max_attempts": 8, "mode": "adaptive"})


def client(service: str) -> Any:
    return _client(service, os.environ.get("AWS_ENDPOINT_URL", ""), os.environ.get("AWS_DEFAULT_REGION", ""))


@functools.lru_cache(maxsize=64)
def _client(service: str, endpoint: str, region: str) -> Any:
    return boto3.client(service, region_name=region or None, endpoint_url=endpoint or None, config=_BOTO_CONFIG)


def reset_clients() -> None:
    """Forget cached clients (a new embedded AWS was started in this process)."""
    _client.cache_clear()


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, else None."""
    from botocore.exceptions import ClientError

    return str(exc.response["Error"]["Code"]) if isinstance(exc, ClientError) else None


def provider_failure(exc: BaseException) -> str | None:
    """One line for an AWS failure (refused call, unreachable endpoint, no credentials), else None."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"AWS refused the call: {error.get('Code')}: {error.get('Message')}"
    if isinstance(exc, BotoCoreError):
        return f"cannot reach AWS: {exc}"
    return None
