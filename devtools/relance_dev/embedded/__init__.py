"""The embedded AWS: template.yaml deployed into moto, real handlers run in-process.

Used by ``relance simulate``, the integration and scenario tests and the benchmarks::

    from relance_dev.embedded import embedded_aws

    with embedded_aws() as aws:
        table = aws.resources["Table"]
        aws.invoke("DailyRunFunction", event)
"""

from relance_dev.embedded.checks import check_function_env, describe
from relance_dev.embedded.embedded import (
    FAKE_ENV,
    LOCAL_PARAMETERS,
    MOTO_CONFIG,
    REGION,
    SUPPORTED_TYPES,
    TEMPLATE_PATH,
    EmbeddedAws,
    LambdaContext,
    embedded_aws,
    fake_aws_environment,
)

__all__ = [
    "FAKE_ENV",
    "LOCAL_PARAMETERS",
    "MOTO_CONFIG",
    "REGION",
    "SUPPORTED_TYPES",
    "TEMPLATE_PATH",
    "EmbeddedAws",
    "LambdaContext",
    "check_function_env",
    "describe",
    "embedded_aws",
    "fake_aws_environment",
]
