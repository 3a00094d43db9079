"""IAM enforced on the embedded AWS: each handler's calls are checked against its own function's role.

moto enforces no IAM, so a handler that AWS would refuse runs green on a laptop. Here every AWS call a
handler makes while :meth:`EmbeddedAws.invoke` runs it is evaluated against the policies of that
function's execution role, *as the SAM transform generates it* from ``template.yaml`` (inline
statements, SAM policy templates expanded, AWS managed policies from moto's copy of them). Nothing is
listed by hand: change ``Policies:`` in the template and the embedded AWS follows.

A refused call fails as AWS fails it: the client raises the service's error (``AccessDenied`` for S3,
SQS and SES, ``AccessDeniedException`` for DynamoDB, Step Functions, Secrets Manager, Lambda,
``AuthorizationError`` for SNS) with AWS's message shape, before the request reaches moto.

The check is a botocore event hook (``before-parameter-build`` computes the decision from the API
parameters, ``before-call`` answers with the error response) registered on boto3's default session,
which every handler client comes from. Calls made outside a handler (the simulator, test set-up, the
Step Functions interpreter's own service tasks) are not checked.

Evaluation follows AWS's identity-policy logic: an explicit ``Deny`` wins, else an ``Allow`` whose
``Action``/``NotAction``, ``Resource``/``NotResource`` (``*`` and ``?`` wildcards) and ``Condition``
all match, else the call is implicitly denied. Calls that need several authorizations (DynamoDB
transactions item by item, S3 ``CopyObject``, an SES send from an identity through a configuration set)
need all of them. Two simplifications, both documented in ``docs/hardening.md``: the SES sending
identity may be the address or its domain (whichever the role names), and ``states:SendTask*`` calls
are checked on their action only (a task token does not say which state machine it belongs to).

Set ``RELANCE_IAM=off`` to switch enforcement off while debugging; it is on by default.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import json
import os
import re
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

if TYPE_CHECKING:
    from relance_dev.embedded.embedded import EmbeddedAws

SWITCH = "RELANCE_IAM"
"""Environment variable: ``off`` disables enforcement (debugging only). Anything else, or unset: on."""

_HOOK_ID = "relance-iam-enforcement"
_DENIED = "relance_iam_denied"

# IAM service prefixes that differ from botocore's signing name.
_PREFIXES = {"monitoring": "cloudwatch", "email": "ses"}


def enabled() -> bool:
    """Whether enforcement is on (it is, unless ``RELANCE_IAM=off``)."""
    return os.environ.get(SWITCH, "").strip().lower() not in ("off", "0", "false", "no")


# ---------------------------------------------------------------------- matching
@functools.lru_cache(maxsize=4096)
def _pattern(text: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(text), re.IGNORECASE if ignore_case else 0)


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's ``*``/``?`` matching (``[`` has no special meaning in IAM)."""
    escaped = pattern.replace("[", "[[]")
    return bool(_pattern(escaped, ignore_case).fullmatch(value))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


@dataclass(frozen=True)
class Request:
    """One authorization: an action on a resource, with the request's condition keys."""

    action: str
    resource: str
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Statement:
    """One statement of an identity policy, intrinsics already resolved."""

    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    condition: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    sid: str = ""

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Statement:
        return cls(
            effect=str(raw.get("Effect", "Allow")),
            actions=tuple(str(a) for a in _as_list(raw.get("Action"))),
            not_actions=tuple(str(a) for a in _as_list(raw.get("NotAction"))),
            resources=tuple(str(r) for r in _as_list(raw.get("Resource"))),
            not_resources=tuple(str(r) for r in _as_list(raw.get("NotResource"))),
            condition=dict(raw.get("Condition") or {}),
            sid=str(raw.get("Sid", "")),
        )

    def applies(self, request: Request) -> bool:
        if self.actions:
            if not any(wildcard_match(a, request.action, ignore_case=True) for a in self.actions):
                return False
        elif not self.not_actions or any(
            wildcard_match(a, request.action, ignore_case=True) for a in self.not_actions
        ):
            return False
        if self.resources:
            if not any(_resource_match(r, request.resource) for r in self.resources):
                return False
        elif not self.not_resources or any(_resource_match(r, request.resource) for r in self.not_resources):
            return False
        return all(
            condition_holds(operator, key, values, request.context)
            for operator, block in self.condition.items()
            for key, values in block.items()
        )


def _resource_match(pattern: str, resource: str) -> bool:
    if pattern == "*":
        return True
    if resource == "*":  # an action without a resource type: only "*" grants it
        return False
    return wildcard_match(pattern, resource)


# ---------------------------------------------------------------------- conditions
def condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, Any]) -> bool:
    """One ``Condition`` entry evaluated like IAM does (the key is looked up case-insensitively)."""
    qualifier, _, op = operator.rpartition(":")
    if_exists = op.endswith("IfExists")
    op = op.removesuffix("IfExists")
    present = {k.lower(): v for k, v in context.items()}
    wanted = [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(expected)]
    if op == "Null":
        is_null = key.lower() not in present
        return any((w.lower() == "true") == is_null for w in wanted)
    if key.lower() not in present:
        # as in AWS: ForAllValues holds for a key the request does not carry (no value to disagree)
        return if_exists or qualifier == "ForAllValues" or op.startswith(("StringNot", "ArnNot",
                                                                          "NumericNotEquals", "DateNot"))
    actual = [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(present[key.lower()])]
    test = _OPERATORS.get(op)
    if test is None:
        return False  # an operator this evaluator does not know never grants
    if qualifier == "ForAllValues":
        return all(any(test(a, w) for w in wanted) for a in actual)
    negated = "Not" in op
    if negated:  # every actual value must differ from every expected one
        return all(all(test(a, w) for w in wanted) for a in actual)
    return any(test(a, w) for a in actual for w in wanted)


def _number(text: str) -> float:
    return float(text)


_OPERATORS: dict[str, Any] = {
    "StringEquals": lambda a, w: a == w,
    "StringNotEquals": lambda a, w: a != w,
    "StringEqualsIgnoreCase": lambda a, w: a.lower() == w.lower(),
    "StringNotEqualsIgnoreCase": lambda a, w: a.lower() != w.lower(),
    "StringLike": lambda a, w: wildcard_match(w, a),
    "StringNotLike": lambda a, w: not wildcard_match(w, a),
    "ArnEquals": lambda a, w: a == w,
    "ArnLike": lambda a, w: wildcard_match(w, a),
    "ArnNotEquals": lambda a, w: a != w,
    "ArnNotLike": lambda a, w: not wildcard_match(w, a),
    "Bool": lambda a, w: a.lower() == w.lower(),
    "NumericEquals": lambda a, w: _number(a) == _number(w),
    "NumericNotEquals": lambda a, w: _number(a) != _number(w),
    "NumericLessThan": lambda a, w: _number(a) < _number(w),
    "NumericLessThanEquals": lambda a, w: _number(a) <= _number(w),
    "NumericGreaterThan": lambda a, w: _number(a) > _number(w),
    "NumericGreaterThanEquals": lambda a, w: _number(a) >= _number(w),
}


# ---------------------------------------------------------------------- roles
@dataclass
class Role:
    """A function's execution role: its ARN, the session it runs as and its statements."""

    function: str
    arn: str
    principal: str
    statements: list[Statement]

    def decide(self, request: Request) -> bool:
        """AWS's identity-policy evaluation: explicit deny, else an allow, else implicit deny."""
        matching = [s for s in self.statements if s.applies(request)]
        if any(s.effect == "Deny" for s in matching):
            return False
        return any(s.effect == "Allow" for s in matching)


def managed_policy(arn: str) -> list[dict[str, Any]]:
    """The statements of an AWS managed policy, from the copy moto ships (none if unknown)."""
    try:
        from moto.iam.aws_managed_policies import aws_managed_policies_data
    except ImportError:  # pragma: no cover - moto always ships it
        return []
    name = arn.rsplit("/", 1)[-1]
    document = json.loads(aws_managed_policies_data).get(name)
    if not document:
        return []
    return _as_list(document.get("Document", {}).get("Statement"))


@functools.lru_cache(maxsize=8)
def _translated(template_path: str, mtime: float, parameters: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    from relance_dev.embedded.translate import translate

    return translate(Path(template_path), dict(parameters))


def roles_of(aws: EmbeddedAws) -> dict[str, Role]:
    """``{function logical id: Role}`` from the SAM translation of the deployed template."""
    path = aws.template_path
    translated = _translated(str(path), path.stat().st_mtime, tuple(sorted(aws.parameters.items())))
    resources: dict[str, Any] = translated["Resources"]
    roles: dict[str, Role] = {}
    for logical in aws.functions:
        function = resources.get(logical) or {}
        role_ref = (function.get("Properties") or {}).get("Role")
        role_logical = None
        if isinstance(role_ref, dict) and "Fn::GetAtt" in role_ref:
            target = role_ref["Fn::GetAtt"]
            role_logical = target[0] if isinstance(target, list) else str(target).split(".")[0]
        role = resources.get(role_logical or "") or {}
        props = role.get("Properties") or {}
        statements: list[Statement] = []
        for policy in props.get("Policies") or []:
            document = aws.resolver.resolve(policy.get("PolicyDocument") or {})
            statements += [Statement.parse(s) for s in _as_list(document.get("Statement"))]
        for arn in props.get("ManagedPolicyArns") or []:
            statements += [Statement.parse(s) for s in managed_policy(str(aws.resolver.resolve(arn)))]
        role_name = aws.resources.get(role_logical or "", f"{logical}Role")
        arn = f"arn:aws:iam::{aws.account_id}:role/{role_name}"
        principal = f"arn:aws:sts::{aws.account_id}:assumed-role/{role_name}/{aws.resources[logical]}"
        roles[logical] = Role(logical, arn, principal, statements)
    return roles


# ---------------------------------------------------------------------- what a call needs
def requests_for(prefix: str, operation: str, params: Mapping[str, Any], region: str,
                 account: str, queue_arns: Mapping[str, str] | None = None) -> list[Request]:
    """The authorizations AWS checks for one API call (action, resource ARN, condition keys).

    ``queue_arns`` maps the deployed queues' URLs to their ARNs (a URL alone does not say the Region
    the embedded AWS gave the queue's ARN).
    """
    base = {"aws:RequestedRegion": region, "aws:SecureTransport": "true"}
    builder = _BUILDERS.get(prefix)
    if prefix == "sqs" and queue_arns and params.get("QueueUrl") in queue_arns:
        params = {**params, "QueueArn": queue_arns[params["QueueUrl"]]}
    found = builder(operation, params, region, account) if builder else None
    if not found:
        found = [(f"{prefix}:{operation}", "*", {})]
    return [Request(action, resource, {**base, **extra}) for action, resource, extra in found]


Needs = list[tuple[str, str, dict[str, Any]]]


def _dynamodb(operation: str, params: Mapping[str, Any], region: str, account: str) -> Needs:
    def table(name: str) -> str:
        return name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{name}"

    if operation in ("TransactWriteItems", "TransactGetItems"):
        names = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                 "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
        needs: Needs = []
        for item in params.get("TransactItems") or []:
            for kind, body in item.items():
                needs.append((f"dynamodb:{names.get(kind, kind)}", table(body["TableName"]), {}))
        return needs
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(f"dynamodb:{operation}", table(name), {}) for name in params.get("RequestItems") or {}]
    if "TableName" not in params:
        return []
    resource = table(params["TableName"])
    if params.get("IndexName"):
        resource += f"/index/{params['IndexName']}"
    leading = _leading_keys(operation, params)
    return [(f"dynamodb:{operation}", resource, {"dynamodb:LeadingKeys": leading} if leading else {})]


def _leading_keys(operation: str, params: Mapping[str, Any]) -> list[str]:
    """``dynamodb:LeadingKeys``: the partition key values a call touches (the table's hash key is ``pk``)."""
    item = params.get("Key") or params.get("Item") or {}
    if "pk" in item:
        return [str(next(iter(item["pk"].values())))]
    if operation == "Query" and not params.get("IndexName"):
        match = re.search(r"\bpk\s*=\s*(:\w+)", str(params.get("KeyConditionExpression", "")))
        value = (params.get("ExpressionAttributeValues") or {}).get(match.group(1)) if match else None
        if isinstance(value, Mapping):
            return [str(next(iter(value.values())))]
    return []


_S3_ACTIONS = {
    "HeadObject": "GetObject", "ListObjectsV2": "ListBucket", "ListObjects": "ListBucket",
    "HeadBucket": "ListBucket", "CreateMultipartUpload": "PutObject", "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject", "AbortMultipartUpload": "AbortMultipartUpload",
    "ListObjectVersions": "ListBucketVersions", "DeleteObjects": "DeleteObject",
}


def _s3(operation: str, params: Mapping[str, Any], region: str, account: str) -> Needs:
    bucket = params.get("Bucket")
    if not bucket:
        return []
    action = f"s3:{_S3_ACTIONS.get(operation, operation)}"
    if operation == "DeleteObjects":
        keys = [o["Key"] for o in (params.get("Delete") or {}).get("Objects") or []]
        return [(action, f"arn:aws:s3:::{bucket}/{key}", {}) for key in keys]
    if operation == "CopyObject":
        source = params.get("CopySource")
        if isinstance(source, Mapping):
            source = f"{source.get('Bucket')}/{source.get('Key')}"
        source = str(source).lstrip("/").split("?versionId=")[0]
        return [("s3:PutObject", f"arn:aws:s3:::{bucket}/{params['Key']}", {}),
                ("s3:GetObject", f"arn:aws:s3:::{source}", {})]
    if "Key" in params and operation not in ("ListObjectsV2", "ListObjects"):
        return [(action, f"arn:aws:s3:::{bucket}/{params['Key']}", {})]
    extra = {"s3:prefix": params["Prefix"]} if "Prefix" in params else {}
    return [(action, f"arn:aws:s3:::{bucket}", extra)]


def _ses(operation: str, params: Mapping[str, Any], region: str, account: str) -> Needs:
    if not operation.startswith("Send"):
        return []
    sender = (params.get("FromEmailAddress") or params.get("Source") or "")
    address = parseaddr(sender)[1] or sender
    action = "ses:SendRawEmail" if operation == "SendRawEmail" else f"ses:{operation}"
    context = {"ses:FromAddress": address}
    # The sending identity is the address or its domain, whichever is verified: one of them must be granted.
    identities = [f"arn:aws:ses:{region}:{account}:identity/{address}"]
    if "@" in address:
        identities.append(f"arn:aws:ses:{region}:{account}:identity/{address.split('@', 1)[1]}")
    needs: Needs = [(action, "|".join(identities), context)]
    if config := params.get("ConfigurationSetName"):
        needs.append((action, f"arn:aws:ses:{region}:{account}:configuration-set/{config}", context))
    return needs


def _sns(operation: str, params: Mapping[str, Any], region: str, account: str) -> Needs:
    arn = params.get("TopicArn") or params.get("TargetArn")
    action = "sns:Publish" if operation == "PublishBatch" else f"sns:{operation}"
    if arn:
        return [(action, str(arn), {})]
    return [(action, "*", {})]  # an SMS to a phone number has no resource ARN


def _sqs(operation: str, params: Mapping[str, Any], region: str, account: str) -> Needs:
    action = "sqs:" + operation.removesuffix("Batch")
    url = params.get("QueueUrl")
    if params.get("QueueArn"):
        return [(action, str(params["QueueArn"]), {})]
    if url:
        parts = urlparse(str(url)).path.strip("/").split("/")
        if len(parts) >= 2:
            return [(action, f"arn:aws:sqs:{region}:{parts[-2]}:{parts[-1]}", {})]
    if params.get("QueueName"):
        return [(action, f"arn:aws:sqs:{region}:{account}:{params['QueueName']}", {})]
    return []


def _states(operation: str, params: Mapping[str, Any], region: str, account: str) -> Needs:
    if operation.startswith("SendTask"):
        return [(f"states:{operation}", "?task-token", {})]
    arn = params.get("stateMachineArn") or params.get("executionArn")
    return [(f"states:{operation}", str(arn), {})] if arn else []


def _secrets(operation: str, params: Mapping[str, Any], region: str, account: str) -> Needs:
    secret = params.get("SecretId")
    if not secret:
        return []
    if not str(secret).startswith("arn:"):  # by name: AWS matches the full ARN, six random characters appended
        secret = f"arn:aws:secretsmanager:{region}:{account}:secret:{secret}-??????"
    return [(f"secretsmanager:{operation}", str(secret), {})]


def _lambda(operation: str, params: Mapping[str, Any], region: str, account: str) -> Needs:
    name = params.get("FunctionName")
    if not name:
        return []
    arn = name if str(name).startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{name}"
    action = "lambda:InvokeFunction" if operation in ("Invoke", "InvokeAsync") else f"lambda:{operation}"
    return [(action, str(arn), {})]


def _cloudwatch(operation: str, params: Mapping[str, Any], region: str, account: str) -> Needs:
    extra = {"cloudwatch:namespace": params["Namespace"]} if "Namespace" in params else {}
    return [(f"cloudwatch:{operation}", "*", extra)]


def _sts(operation: str, params: Mapping[str, Any], region: str, account: str) -> Needs:
    return [("sts:GetCallerIdentity", "", {})] if operation == "GetCallerIdentity" else []


_BUILDERS: dict[str, Any] = {
    "dynamodb": _dynamodb, "s3": _s3, "ses": _ses, "sns": _sns, "sqs": _sqs, "states": _states,
    "secretsmanager": _secrets, "lambda": _lambda, "cloudwatch": _cloudwatch, "sts": _sts,
}

# AWS's error for a refused call, per service: (code, HTTP status).
_ERRORS = {
    "s3": ("AccessDenied", 403), "sqs": ("AccessDenied", 403), "ses": ("AccessDenied", 403),
    "cloudwatch": ("AccessDenied", 403), "sns": ("AuthorizationError", 403),
    "lambda": ("AccessDeniedException", 403),
}


def denial(prefix: str, principal: str, request: Request) -> dict[str, Any]:
    """The parsed error response AWS gives for a refused call."""
    code, status = _ERRORS.get(prefix, ("AccessDeniedException", 400))
    resource = request.resource.split("|")[0]
    message = (f"User: {principal} is not authorized to perform: {request.action} on resource: {resource} "
               f"because no identity-based policy allows the {request.action} action")
    return {
        "Error": {"Code": code, "Message": message, "Type": "Sender"},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}, "RequestId": str(uuid.uuid4()),
                             "RetryAttempts": 0},
    }


# ---------------------------------------------------------------------- enforcement
@dataclass
class Decision:
    function: str
    action: str
    resource: str
    allowed: bool


class Enforcer:
    """Checks the calls of the handler running in each thread against that function's role."""

    def __init__(self, aws: EmbeddedAws) -> None:
        self.aws = aws
        self.roles = roles_of(aws)
        self.queue_arns = {physical: aws.attr(logical, "Arn") for logical, physical in aws.resources.items()
                           if physical.startswith("https://")
                           and _has_attr(aws, logical, "QueueUrl")}
        self.denied: list[Decision] = []
        """Every call refused so far (a season's report and the tests read it)."""
        self._local = threading.local()

    @property
    def current(self) -> str | None:
        return getattr(self._local, "function", None)

    @contextlib.contextmanager
    def acting_as(self, function: str | None) -> Iterator[None]:
        """Check the calls made by this thread in the block as ``function``'s role (``None``: unchecked)."""
        previous = self.current
        self._local.function = function
        try:
            yield
        finally:
            self._local.function = previous

    def check(self, prefix: str, operation: str, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """``None`` if the running handler's role allows the call, else the error response to give."""
        function = self.current
        if function is None:
            return None
        role = self.roles.get(function)
        if role is None:
            return None
        for request in requests_for(prefix, operation, params, self.aws.region, self.aws.account_id,
                                    self.queue_arns):
            if request.resource == "?task-token":
                allowed = any(s.effect == "Allow" and s.applies(Request(request.action, r, request.context))
                              for s in role.statements for r in (s.resources or ["*"]))
            elif request.action == "sts:GetCallerIdentity":
                allowed = True
            else:
                allowed = any(role.decide(Request(request.action, r, request.context))
                              for r in request.resource.split("|"))
            if not allowed:
                self.denied.append(Decision(function, request.action, request.resource.split("|")[0], False))
                return denial(prefix, role.principal, request)
        return None


def _has_attr(aws: EmbeddedAws, logical: str, attribute: str) -> bool:
    from relance_dev.embedded.cfn import Unresolved

    try:
        aws.attr(logical, attribute)
    except Unresolved:  # not that kind of resource
        return False
    return True


_active: Enforcer | None = None
_lock = threading.Lock()


def _before_parameter_build(params: Mapping[str, Any], model: Any, context: dict[str, Any],
                            **_: Any) -> None:
    enforcer = _active
    if enforcer is None or enforcer.current is None:
        return
    signing = model.service_model.signing_name or model.service_model.endpoint_prefix
    prefix = _PREFIXES.get(signing, signing)
    response = enforcer.check(prefix, model.name, params)
    if response is not None:
        context[_DENIED] = response


def _before_call(context: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
    response = context.pop(_DENIED, None) if isinstance(context, dict) else None
    if response is None:
        return None
    from botocore.awsrequest import AWSResponse

    status = response["ResponseMetadata"]["HTTPStatusCode"]
    return AWSResponse("https://iam.embedded.invalid/", status, {}, None), response


def install_hooks() -> None:
    """Register the hooks on boto3's default session (clients created from it afterwards carry them)."""
    import boto3

    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    events = boto3.DEFAULT_SESSION.events
    events.register("before-parameter-build", _before_parameter_build, unique_id=_HOOK_ID + "-params")
    events.register("before-call", _before_call, unique_id=_HOOK_ID + "-call")


@contextlib.contextmanager
def enforce(aws: EmbeddedAws) -> Iterator[Enforcer | None]:
    """Enforce each function's role on the calls its handler makes through :meth:`EmbeddedAws.invoke`.

    Yields ``None`` (and checks nothing) when ``RELANCE_IAM=off``.
    """
    global _active
    if not enabled():
        yield None
        return
    enforcer = Enforcer(aws)
    install_hooks()
    with contextlib.suppress(ImportError, AttributeError):
        from relance import runtime

        runtime.reset_clients()  # cached clients made before the hooks would bypass them
    with _lock:
        previous, _active = _active, enforcer
    aws.iam = enforcer
    try:
        yield enforcer
    finally:
        aws.iam = None
        with _lock:
            _active = previous
