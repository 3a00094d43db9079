"""Checks that a deployed template is wired right: every function's environment points at real things."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from relance.errors import RelanceError
from relance_dev.embedded.embedded import NOT_EMULATED, OPT_MOUNTS, EmbeddedAws

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_function_env(embedded: EmbeddedAws) -> list[str]:
    """Problems with the environment of every function (empty when all is well).

    A value is checked by what it looks like or by its variable's name: table names, queue URLs,
    topic / state machine / secret / function ARNs, bucket names, the SES configuration set must name a
    resource *of this deployment* (by its id, name, URL or ARN) that exists; ``/opt`` folders (the
    layer's content), email addresses (``SENDER_EMAIL`` must be a verified SES identity), and anything
    that points at a resource the embedded AWS did not emulate are checked too.
    """
    problems: list[str] = []
    known = _identifiers(embedded)
    for logical in embedded.functions:
        for var, value in sorted(embedded.function_env(logical).items()):
            problem = _problem(embedded, var, value, known)
            if problem:
                problems.append(f"{logical}: {var}={value!r}: {problem}")
    return problems


OPTIONAL_PREFIXES = ("COMPANY_LEGAL_FORM", "COMPANY_SHARE_CAPITAL", "COMPANY_RCS_CITY", "COMPANY_SIGNATORY",
                     "MEDIATOR_")


def _identifiers(aws: EmbeddedAws) -> set[str]:
    """Every way a value may name a resource of the deployment: physical ids and attributes (ARN, name, URL)."""
    known = set(aws.resources.values())
    for logical in aws.resources:
        for attribute in ("Arn", "Name", "QueueName", "QueueUrl", "TopicName", "TopicArn", "Id"):
            try:
                known.add(aws.attr(logical, attribute))
            except RelanceError:
                continue
    return known


def _problem(aws: EmbeddedAws, var: str, value: str, known: set[str]) -> str | None:
    if NOT_EMULATED in value:
        return "points at a resource the embedded AWS does not emulate"
    if not value:
        # the creditor's optional mentions (legal form, capital, RCS, signatory, consumer mediator) may be
        # left empty in a deploy: the letters then leave the line out
        return None if var.startswith(OPTIONAL_PREFIXES) else "is empty"
    check = _check_for(var, value)
    if check is None:
        return None
    kind = _KINDS.get(check)
    if kind is not None and value not in known:
        return f"is no {kind} of stack {aws.stack_name}"
    try:
        return check(aws, value)
    except ClientError as exc:
        return f"{exc.response['Error'].get('Code', 'error')}: {exc.response['Error'].get('Message', '')}"


def _check_for(var: str, value: str) -> Callable[[EmbeddedAws, str], str | None] | None:
    """Pick the check by the value's shape first, then by the variable's name."""
    if value.startswith("arn:"):
        service = value.split(":")[2]
        return _ARN_CHECKS.get(service, _unknown_arn)
    if value.startswith("https://sqs.") or var.endswith("QUEUE_URL"):
        return _queue
    if value.startswith("/opt"):
        return _opt_dir
    if var.endswith("TABLE_NAME") or var.endswith("_TABLE"):
        return _table
    if var.endswith("BUCKET") or var.endswith("BUCKET_NAME"):
        return _bucket
    if var.endswith("CONFIGURATION_SET"):
        return _configuration_set
    if var == "SENDER_EMAIL":
        return _verified_sender
    if var.endswith("_EMAIL"):
        return _email
    return None


def _table(aws: EmbeddedAws, value: str) -> str | None:
    aws.client("dynamodb").describe_table(TableName=value.rsplit("/", 1)[-1])
    return None


def _queue(aws: EmbeddedAws, value: str) -> str | None:
    if value.startswith("arn:"):
        aws.client("sqs").get_queue_url(QueueName=value.rsplit(":", 1)[-1])
    else:
        aws.client("sqs").get_queue_attributes(QueueUrl=value, AttributeNames=["QueueArn"])
    return None


def _topic(aws: EmbeddedAws, value: str) -> str | None:
    aws.client("sns").get_topic_attributes(TopicArn=value)
    return None


def _state_machine(aws: EmbeddedAws, value: str) -> str | None:
    aws.client("stepfunctions").describe_state_machine(stateMachineArn=value)
    return None


def _secret(aws: EmbeddedAws, value: str) -> str | None:
    aws.client("secretsmanager").describe_secret(SecretId=value)
    return None


def _function(aws: EmbeddedAws, value: str) -> str | None:
    aws.client("lambda").get_function(FunctionName=value)
    return None


def _bucket(aws: EmbeddedAws, value: str) -> str | None:
    name = value.removeprefix("arn:aws:s3:::")
    names = {bucket["Name"] for bucket in aws.client("s3").list_buckets().get("Buckets", [])}
    return None if name in names else "no such S3 bucket"


def _configuration_set(aws: EmbeddedAws, value: str) -> str | None:
    aws.client("ses").describe_configuration_set(ConfigurationSetName=value)
    return None


def _opt_dir(aws: EmbeddedAws, value: str) -> str | None:
    for mount, local in OPT_MOUNTS.items():
        if value == mount or value.startswith(mount + "/"):
            path = Path(str(local) + value[len(mount) :])
            return None if path.is_dir() else f"the layer would not contain it ({path} is missing)"
    return "no layer puts anything there (see layers/relance/Makefile)"


def _email(aws: EmbeddedAws, value: str) -> str | None:
    return None if _EMAIL.match(value) else "not an email address"


def _verified_sender(aws: EmbeddedAws, value: str) -> str | None:
    if problem := _email(aws, value):
        return problem
    identities = aws.client("ses").list_identities()["Identities"]
    domain = value.split("@", 1)[1]
    return None if value in identities or domain in identities else "not a verified SES identity"


def _unknown_arn(aws: EmbeddedAws, value: str) -> str | None:
    return None


_ARN_CHECKS: dict[str, Callable[[EmbeddedAws, str], str | None]] = {
    "dynamodb": _table,
    "sqs": _queue,
    "sns": _topic,
    "states": _state_machine,
    "secretsmanager": _secret,
    "lambda": _function,
    "s3": _bucket,
}


_KINDS: dict[Callable[[EmbeddedAws, str], str | None], str] = {
    _table: "table",
    _queue: "queue",
    _topic: "topic",
    _state_machine: "state machine",
    _secret: "secret",
    _function: "function",
    _bucket: "bucket",
    _configuration_set: "configuration set",
}
"""The checks whose value must name a resource of the deployment, and what they call it."""


def describe(aws: EmbeddedAws) -> dict[str, Any]:
    """A JSON-able summary of what was deployed and what was skipped (for logs and reports)."""
    return {
        "region": aws.region,
        "resources": dict(aws.resources),
        "skipped": dict(aws.skipped),
        "outputs": dict(aws.outputs),
    }
