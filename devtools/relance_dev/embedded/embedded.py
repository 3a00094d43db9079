"""The embedded AWS: ``template.yaml`` deployed into moto, and the real handlers run in-process.

Resources are created from what the template declares, with real boto3 calls against moto, so
the simulator, the tests and the benchmarks run against the same tables, queues and topics as
production. Use it inside ``mock_aws`` (see :func:`embedded_aws`).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import os
import secrets
import string
import sys
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import boto3
import yaml

from relance.errors import RelanceError
from relance_dev.embedded.cfn import Resolver, Unresolved, load_template, references

REPO_ROOT = Path(__file__).resolve().parents[3]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
REGION = "eu-west-3"
ACCOUNT_ID = "123456789012"  # moto's default account
STACK_NAME = "relance"

MOTO_CONFIG: dict[str, Any] = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}
"""The ``mock_aws`` config the embedded AWS needs: executing Step Functions, Lambda without Docker."""

FAKE_ENV: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "RELANCE_WEBHOOK_SENDER": "record",
}
"""Fake credentials and Region: nothing run against the embedded AWS can reach a real account; partners'
webhooks are recorded (relance.escalation.partners.RECORDED), never posted."""

UNSAFE_ENV = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")
"""Variables that could point boto3 at a real account or another endpoint; unset while embedded."""

LOCAL_PARAMETERS: dict[str, str] = {
    "CompanyName": "Menuiserie Exemple SAS",
    "CompanySiren": "123456782",
    "CompanyAddress": "12 rue de l'Exemple, 69003 Lyon",
    "SenderEmail": "relances@menuiserie.example",
    "ReplyToEmail": "compta@menuiserie.example",
    "CompanyIban": "FR7630006000011234567890189",
    "CompanyBic": "AGRIFRPP",
    "TeamEmail": "equipe@menuiserie.example",
    "ApproverEmail": "direction@menuiserie.example",
}
"""Values for the template parameters that have no default (a fictitious company)."""

SENDER_PARAMETER = "SenderEmail"
"""The parameter naming the SES sender; the stack does not create the identity, so we verify it."""

OPT_MOUNTS: dict[str, Path] = {
    "/opt/policies": REPO_ROOT / "policies",
    "/opt/letter_templates": REPO_ROOT / "letter_templates",
}
"""Where the layer's ``/opt`` folders come from (layers/relance/Makefile copies them there)."""

NOT_EMULATED = "not-emulated:"
"""Prefix of the value ``Ref``/``GetAtt`` give for a resource the embedded AWS skipped."""

_FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")


@dataclass
class LambdaContext:
    """The parts of the Lambda context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 128
    timeout_seconds: int = 3
    invoked_function_arn: str = ""
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    _started: float = field(default_factory=time.monotonic, repr=False)

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout, as Lambda reports it."""
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


def _suffix(*parts: str, length: int = 12) -> str:
    """A stable pseudo-random suffix, like the one CloudFormation appends to generated names."""
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest().upper()
    return digest[:length]


def _dummy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def _as_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


class EmbeddedAws:
    """A SAM template deployed into moto. Build it with :meth:`deploy` inside an active ``mock_aws``.

    ``resources`` maps each created logical id to its physical id (what ``Ref`` gives);
    ``skipped`` maps what was not emulated (resource types, function events) to the reason.
    """

    def __init__(
        self,
        template_path: Path,
        template: dict[str, Any],
        parameters: dict[str, str],
        region: str,
        stack_name: str,
    ) -> None:
        self.template_path = template_path
        self.template_dir = template_path.parent
        self.template = template
        self.parameters = parameters
        self.region = region
        self.account_id = ACCOUNT_ID
        self.stack_name = stack_name
        self.resources: dict[str, str] = {}
        self.skipped: dict[str, str] = {}
        self.outputs: dict[str, str] = {}
        self.extra_env: dict[str, str] = {}
        """Set on top of ``function_env`` for every :meth:`invoke` (e.g. a scenario's policy folder)."""
        self._attrs: dict[str, dict[str, str]] = {}
        self._placeholders: dict[str, str] = {}
        self._function_env: dict[str, dict[str, str]] = {}
        self._function_props: dict[str, dict[str, Any]] = {}
        self._function_by_name: dict[str, str] = {}
        self._modules: dict[str, ModuleType] = {}
        self._lock = threading.RLock()
        self.invocations_in_flight = 0
        """Handlers running now (a Step Functions execution's task runs one in moto's thread)."""
        self._clients: dict[str, Any] = {}
        self.iam: Any = None
        """The IAM enforcer (``relance_dev.embedded.iam``) while :func:`embedded_aws` enforces the roles."""
        self.resolver = Resolver(
            pseudo={
                "AWS::Region": region,
                "AWS::AccountId": self.account_id,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::StackName": stack_name,
                "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT_ID}:stack/{stack_name}/"
                + str(uuid.UUID(_suffix(stack_name, length=32).lower())),
                "AWS::NotificationARNs": "",
            },
            parameters=parameters,
            ref=self._ref,
            getatt=self.attr,
            conditions=template.get("Conditions"),
            mappings=template.get("Mappings"),
        )

    # ------------------------------------------------------------------ deploy
    @classmethod
    def deploy(
        cls,
        template_path: Path = TEMPLATE_PATH,
        parameters: Mapping[str, str] | None = None,
        region: str = REGION,
        *,
        stack_name: str = STACK_NAME,
    ) -> EmbeddedAws:
        """Create every supported resource of ``template_path`` in moto (must be inside ``mock_aws``).

        ``parameters`` override the template defaults and :data:`LOCAL_PARAMETERS`; each value is
        checked against the parameter's constraints like CloudFormation does.
        """
        template_path = Path(template_path).resolve()
        template = load_template(template_path)
        values = resolve_parameters(template, {**LOCAL_PARAMETERS, **(parameters or {})}, template_path)
        aws = cls(template_path, template, values, region, stack_name)
        aws._deploy()
        return aws

    def _deploy(self) -> None:
        resources: dict[str, Any] = self.template["Resources"]
        if sender := self.parameters.get(SENDER_PARAMETER):
            self.client("ses").verify_email_identity(EmailAddress=sender)
        for logical in _creation_order(resources, self.template.get("Globals") or {}):
            resource = resources[logical]
            kind = resource.get("Type", "")
            condition = resource.get("Condition")
            if condition and not self.resolver.condition(condition):
                self.skipped[logical] = f"condition {condition} is false"
                continue
            provision = _PROVISIONERS.get(kind)
            if provision is None:
                self.skipped[logical] = _SKIP_REASONS.get(kind, f"{kind} is not emulated by relance_dev.embedded")
                self._placeholders[logical] = _placeholder(logical, kind)
                continue
            try:
                props = self.resolver.resolve(self._with_globals(kind, resource.get("Properties") or {}))
                physical, attrs = provision(self, logical, props)
            except Unresolved as exc:
                raise RelanceError(str(exc), where=f"{self.template_path}: resource {logical}") from exc
            self.resources[logical] = physical
            self._attrs[logical] = attrs
        for name, output in (self.template.get("Outputs") or {}).items():
            with contextlib.suppress(Unresolved):
                self.outputs[name] = _as_str(self.resolver.resolve(output.get("Value")))

    def _with_globals(self, kind: str, props: dict[str, Any]) -> dict[str, Any]:
        """SAM ``Globals`` merged into a serverless resource's properties (maps merged, lists added)."""
        section = {"AWS::Serverless::Function": "Function", "AWS::Serverless::StateMachine": "StateMachine"}
        defaults = (self.template.get("Globals") or {}).get(section.get(kind, ""), {})
        merged = dict(defaults)
        for key, value in props.items():
            base = merged.get(key)
            if key == "Environment" and isinstance(base, dict):
                variables = {**base.get("Variables", {}), **value.get("Variables", {})}
                merged[key] = {**base, **value, "Variables": variables}
            elif isinstance(base, list) and isinstance(value, list):
                merged[key] = base + value
            else:
                merged[key] = value
        return merged

    # ------------------------------------------------------------------ lookups
    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` in the embedded Region (cached)."""
        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=self.region)
        return self._clients[service]

    def _ref(self, logical: str) -> str:
        if logical in self.resources:
            return self.resources[logical]
        if logical in self._placeholders:
            return self._placeholders[logical]
        raise Unresolved(f"!Ref {logical}: no such parameter or resource")

    def attr(self, logical_id: str, attribute: str) -> str:
        """What ``!GetAtt logical_id.attribute`` gives."""
        if logical_id in self._placeholders:
            return f"{self._placeholders[logical_id]}.{attribute}"
        attrs = self._attrs.get(logical_id)
        if attrs is None:
            raise Unresolved(f"!GetAtt {logical_id}.{attribute}: no such resource (yet)")
        if attribute not in attrs:
            raise Unresolved(f"!GetAtt {logical_id}.{attribute}: unknown attribute (known: {sorted(attrs)})")
        return attrs[attribute]

    def function_env(self, logical_id: str) -> dict[str, str]:
        """Environment variables of a function: Globals + its own, resolved (as deployed)."""
        try:
            return dict(self._function_env[logical_id])
        except KeyError:
            raise RelanceError(f"no function {logical_id} in {self.template_path.name}") from None

    @property
    def functions(self) -> list[str]:
        """Logical ids of the functions created."""
        return list(self._function_env)

    def name_of(self, logical_id: str) -> str:
        """Physical name of a resource (same as ``resources[logical_id]`` for most types)."""
        return self._attrs.get(logical_id, {}).get("Name", self.resources[logical_id])

    # ------------------------------------------------------------------ run handlers
    def local_env(self, logical_id: str) -> dict[str, str]:
        """What :meth:`invoke` puts in ``os.environ``: the function env with ``/opt`` mapped to the repo,
        the Lambda runtime's own variables, and :attr:`extra_env`."""
        env = self.function_env(logical_id)
        for key, value in env.items():
            for mount, local in OPT_MOUNTS.items():
                if value == mount or value.startswith(mount + "/"):
                    env[key] = str(local) + value[len(mount) :]
        props = self._function_props[logical_id]
        env.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": self.resources[logical_id],
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(props.get("MemorySize", 128)),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                # X-Ray has no daemon here; Powertools would try to emit segments.
                "POWERTOOLS_TRACE_DISABLED": "true",
                "RELANCE_WEBHOOK_SENDER": FAKE_ENV["RELANCE_WEBHOOK_SENDER"],
            }
        )
        env.update(self.extra_env)
        return env

    def make_context(self, logical_id: str) -> LambdaContext:
        """A fresh Lambda-like context object for one invocation of ``logical_id``."""
        props = self._function_props[logical_id]
        name = self.resources[logical_id]
        return LambdaContext(
            function_name=name,
            memory_limit_in_mb=int(props.get("MemorySize", 128)),
            timeout_seconds=int(props.get("Timeout", 3)),
            invoked_function_arn=self.attr(logical_id, "Arn"),
            log_group_name=f"/aws/lambda/{name}",
            log_stream_name=f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}",
        )

    def handler(self, logical_id: str) -> Callable[[Any, Any], Any]:
        """The function's handler, imported from ``<CodeUri>/<module>.py`` under a unique module name."""
        props = self._function_props.get(logical_id)
        if props is None:
            raise RelanceError(f"no function {logical_id} in {self.template_path.name}")
        module_path, _, attribute = str(props.get("Handler", "app.lambda_handler")).rpartition(".")
        module = self._modules.get(logical_id)
        if module is None:
            code_dir = self.template_dir / str(props.get("CodeUri", "."))
            source = code_dir / (module_path.replace(".", "/") + ".py")
            if not source.is_file():
                raise RelanceError(f"handler module not found: {source}", where=f"function {logical_id}")
            name = f"_relance_fn_{logical_id}_{module_path.replace('.', '_')}"
            spec = importlib.util.spec_from_file_location(name, source)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            with patched_environ(self.local_env(logical_id)):
                sys.modules[name] = module
                sys.path.insert(0, str(code_dir))
                try:
                    spec.loader.exec_module(module)
                except BaseException:
                    sys.modules.pop(name, None)
                    raise
                finally:
                    sys.path.remove(str(code_dir))
            self._modules[logical_id] = module
        function: Callable[[Any, Any], Any] = getattr(module, attribute)
        return function

    def invoke(self, logical_id: str, event: Any, *, context: Any = None) -> Any:
        """Run the function's real handler in-process with its environment set, return its result.

        Exceptions raised by the handler propagate. Calls are serialized: ``os.environ`` is shared.
        """
        with self._lock:
            handler = self.handler(logical_id)
            context = context or self.make_context(logical_id)
            acting = self.iam.acting_as(logical_id) if self.iam else contextlib.nullcontext()
            self.invocations_in_flight += 1
            try:
                with patched_environ(self.local_env(logical_id)), acting:
                    return handler(event, context)
            finally:
                self.invocations_in_flight -= 1

    @contextlib.contextmanager
    def in_process_lambdas(self) -> Iterator[EmbeddedAws]:
        """Make moto's Lambda (no-Docker backend) run this template's real handlers through :meth:`invoke`.

        Covers ``lambda.invoke`` from boto3 and Step Functions ``lambda:invoke`` tasks. A handler that
        raises gives ``FunctionError: Unhandled`` with the Lambda error payload, as in AWS.
        Functions this template does not declare keep moto's echo behaviour. The patched moto method is
        checked first (:func:`relance_dev.embedded.moto_internals.check_lambda_invoke`: PatchError if
        it cannot apply).
        """
        from relance_dev.embedded.moto_internals import check_lambda_invoke

        check_lambda_invoke()
        from moto.awslambda_simple.models import LambdaSimpleBackend

        original = LambdaSimpleBackend.invoke
        embedded = self

        def invoke(
            backend: LambdaSimpleBackend,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> str | bytes | None:
            try:
                name = backend.get_function(function_name, qualifier).function_name
            except Exception:  # unknown to moto: let moto answer
                name = function_name
            logical = embedded._function_by_name.get(name)
            if logical is None:
                return original(backend, function_name, qualifier, body, headers, response_headers)
            raw = body.decode() if isinstance(body, bytes) else body
            event = json.loads(raw) if raw else {}
            try:
                result = embedded.invoke(logical, event)
            except Exception as exc:
                response_headers["x-amz-function-error"] = "Unhandled"
                payload = {
                    "errorMessage": str(exc),
                    "errorType": type(exc).__name__,
                    "stackTrace": traceback.format_exception(exc)[1:],
                }
                return json.dumps(payload).encode()
            return json.dumps(result, default=str).encode()

        invoke.__wrapped__ = original  # type: ignore[attr-defined]  # what a nested check inspects
        LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign,assignment]
        try:
            yield self
        finally:
            LambdaSimpleBackend.invoke = original  # type: ignore[method-assign]

    # ------------------------------------------------------------------ naming
    def _physical_name(self, logical: str, max_length: int = 64, lower: bool = False) -> str:
        suffix = _suffix(self.stack_name, logical)
        head = f"{self.stack_name}-{logical}"[: max_length - len(suffix) - 1]
        name = f"{head}-{suffix}"
        return name.lower() if lower else name

    def _role(self, logical: str, service: str) -> str:
        """Create the execution role SAM would generate (``<logical>Role``) and return its ARN."""
        role_logical = f"{logical}Role"
        name = self._physical_name(role_logical)
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
        arn: str = self.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))[
            "Role"
        ]["Arn"]
        self.resources[role_logical] = name
        self._attrs[role_logical] = {"Arn": arn, "RoleId": name}
        return arn


# ---------------------------------------------------------------------- parameters
def resolve_parameters(
    template: Mapping[str, Any], given: Mapping[str, str], template_path: Path
) -> dict[str, str]:
    """Parameter values (given, else default) checked against each parameter's constraints."""
    declared: dict[str, Any] = template.get("Parameters") or {}
    values: dict[str, str] = {}
    for name, spec in declared.items():
        raw = given.get(name, spec.get("Default"))
        where = f"{template_path.name}: parameter {name}"
        if raw is None:
            raise RelanceError("no value given and no default", where=where)
        value = _as_str(raw)
        problem = _parameter_problem(spec, value)
        if problem:
            hint = spec.get("ConstraintDescription")
            raise RelanceError(f"{value!r} {problem}" + (f" ({hint})" if hint else ""), where=where)
        values[name] = value
    return values


def _parameter_problem(spec: Mapping[str, Any], value: str) -> str | None:
    import re

    if "AllowedValues" in spec and value not in [_as_str(v) for v in spec["AllowedValues"]]:
        return f"is not one of {spec['AllowedValues']}"
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            return "is not a number"
        if "MinValue" in spec and number < float(spec["MinValue"]):
            return f"is below MinValue {spec['MinValue']}"
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            return f"is above MaxValue {spec['MaxValue']}"
        return None
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        return f"is shorter than MinLength {spec['MinLength']}"
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        return f"is longer than MaxLength {spec['MaxLength']}"
    if "AllowedPattern" in spec and not re.fullmatch(str(spec["AllowedPattern"]), value):
        return f"does not match AllowedPattern {spec['AllowedPattern']}"
    return None


# ---------------------------------------------------------------------- ordering
def _creation_order(resources: Mapping[str, Any], globals_: Mapping[str, Any]) -> list[str]:
    """Logical ids so that every resource comes after the ones it refers to (DependsOn and Globals too)."""
    global_refs = {
        "AWS::Serverless::Function": references(globals_.get("Function") or {}),
        "AWS::Serverless::StateMachine": references(globals_.get("StateMachine") or {}),
    }
    deps: dict[str, set[str]] = {}
    for logical, resource in resources.items():
        depends_on = resource.get("DependsOn") or []
        wanted = (
            references(resource.get("Properties") or {})
            | set([depends_on] if isinstance(depends_on, str) else depends_on)
            | global_refs.get(resource.get("Type", ""), set())
        )
        # SAM implicit resources (FooRole) come with their function
        deps[logical] = {
            name if name in resources else name.removesuffix("Role")
            for name in wanted
            if name in resources or name.removesuffix("Role") in resources
        } - {logical}
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(logical: str, path: tuple[str, ...]) -> None:
        if state.get(logical) == 2:
            return
        if state.get(logical) == 1:
            raise RelanceError("circular dependency: " + " -> ".join((*path, logical)))
        state[logical] = 1
        for dep in sorted(deps[logical]):
            visit(dep, (*path, logical))
        state[logical] = 2
        order.append(logical)

    for logical in resources:
        visit(logical, ())
    return order


_SKIP_REASONS = {
    "AWS::SNS::TopicPolicy": "resource policies are not enforced by moto",
    "AWS::SQS::QueuePolicy": "resource policies are not enforced by moto",
    "AWS::Lambda::Permission": "resource policies are not enforced by moto",
    "AWS::Scheduler::Schedule": "nothing fires on a schedule in moto: the simulator sends the events",
    "AWS::Events::Rule": "nothing fires on a schedule in moto: the simulator sends the events",
    "AWS::Serverless::Api": "API Gateway is not emulated: call the handler with an API Gateway event",
    "AWS::Serverless::HttpApi": "API Gateway is not emulated: call the handler with an API Gateway event",
    "AWS::ApiGateway::RestApi": "API Gateway is not emulated: call the handler with an API Gateway event",
}


def _placeholder(logical: str, kind: str) -> str:
    if kind in ("AWS::Serverless::Api", "AWS::Serverless::HttpApi", "AWS::ApiGateway::RestApi"):
        # Looks like a REST API id so that URLs built with !Sub stay well-formed.
        return _suffix(logical, length=10).lower()
    return f"{NOT_EMULATED}{logical}"


# ---------------------------------------------------------------------- provisioners
Provisioner = Callable[[EmbeddedAws, str, dict[str, Any]], tuple[str, dict[str, str]]]


def _table(aws: EmbeddedAws, logical: str, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    name = props.get("TableName") or aws._physical_name(logical, 255)
    args: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "ProvisionedThroughput"):
        if key in props:
            args[key] = props[key]
    if "StreamSpecification" in props:
        args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    if "SSESpecification" in props:
        sse = props["SSESpecification"]
        args["SSESpecification"] = {"Enabled": bool(sse.get("SSEEnabled"))} | (
            {"SSEType": sse["SSEType"]} if "SSEType" in sse else {}
        )
    if "DeletionProtectionEnabled" in props:
        args["DeletionProtectionEnabled"] = bool(props["DeletionProtectionEnabled"])
    if props.get("Tags"):
        args["Tags"] = props["Tags"]
    ddb = aws.client("dynamodb")
    description = ddb.create_table(**args)["TableDescription"]
    if ttl := props.get("TimeToLiveSpecification"):
        ddb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": bool(ttl["Enabled"])},
        )
    pitr = props.get("PointInTimeRecoverySpecification") or {}
    if pitr.get("PointInTimeRecoveryEnabled"):
        ddb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    attrs = {"Arn": description["TableArn"], "Name": name}
    if "LatestStreamArn" in description:
        attrs["StreamArn"] = description["LatestStreamArn"]
    return name, attrs


_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "RedrivePolicy",
    "RedriveAllowPolicy",
)


def _queue(aws: EmbeddedAws, logical: str, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    fifo = bool(props.get("FifoQueue"))
    name = props.get("QueueName") or aws._physical_name(logical, 80 - (5 if fifo else 0)) + (
        ".fifo" if fifo else ""
    )
    attributes = {key: _as_str(props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
    sqs = aws.client("sqs")
    url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, {"Arn": arn, "QueueName": name, "QueueUrl": url}


def _topic(aws: EmbeddedAws, logical: str, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    fifo = bool(props.get("FifoTopic"))
    name = props.get("TopicName") or aws._physical_name(logical, 256 - (5 if fifo else 0)) + (
        ".fifo" if fifo else ""
    )
    attributes = {
        key: _as_str(props[key])
        for key in ("DisplayName", "KmsMasterKeyId", "FifoTopic", "ContentBasedDeduplication")
        if key in props
    }
    sns = aws.client("sns")
    arn: str = sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]
    for subscription in props.get("Subscription") or []:
        sns.subscribe(TopicArn=arn, Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"])
    return arn, {"TopicArn": arn, "TopicName": name}


def _subscription(aws: EmbeddedAws, logical: str, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    attributes = {
        key: _as_str(props[key])
        for key in ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy")
        if key in props
    }
    arn: str = aws.client("sns").subscribe(
        TopicArn=props["TopicArn"],
        Protocol=props["Protocol"],
        Endpoint=props["Endpoint"],
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    return arn, {"Arn": arn}


def _bucket(aws: EmbeddedAws, logical: str, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    name = props.get("BucketName") or aws._physical_name(logical, 63, lower=True)
    s3 = aws.client("s3")
    create: dict[str, Any] = {"Bucket": name}
    if aws.region != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": aws.region}
    s3.create_bucket(**create)
    if encryption := props.get("BucketEncryption"):
        # CloudFormation names differ from the API's: Rules, ApplyServerSideEncryptionByDefault
        rules = [
            {
                ("ApplyServerSideEncryptionByDefault" if k == "ServerSideEncryptionByDefault" else k): v
                for k, v in rule.items()
            }
            for rule in encryption["ServerSideEncryptionConfiguration"]
        ]
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
    if block := props.get("PublicAccessBlockConfiguration"):
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block)
    if versioning := props.get("VersioningConfiguration"):
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=versioning)
    if ownership := props.get("OwnershipControls"):
        s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=ownership)
    arn = f"arn:aws:s3:::{name}"
    return name, {
        "Arn": arn,
        "DomainName": f"{name}.s3.amazonaws.com",
        "RegionalDomainName": f"{name}.s3.{aws.region}.amazonaws.com",
    }


def _bucket_policy(aws: EmbeddedAws, logical: str, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """Apply the bucket policy, less its TLS-only statements.

    In-process moto calls carry no transport, so moto reads ``aws:SecureTransport`` as false and the
    deny-non-TLS statement would refuse every write; real AWS clients always use HTTPS.
    """
    document = dict(props["PolicyDocument"])
    document["Statement"] = [s for s in document.get("Statement", [])
                             if "aws:SecureTransport" not in json.dumps(s.get("Condition", {}))]
    if document["Statement"]:
        aws.client("s3").put_bucket_policy(Bucket=props["Bucket"], Policy=json.dumps(document))
    return props["Bucket"], {}


def _configuration_set(aws: EmbeddedAws, logical: str, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    name = props.get("Name") or aws._physical_name(logical, 64)
    aws.client("ses").create_configuration_set(ConfigurationSet={"Name": name})
    return name, {"Name": name}


def _event_destination(aws: EmbeddedAws, logical: str, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    destination = dict(props["EventDestination"])
    name = destination.get("Name") or aws._physical_name(logical, 64)
    spec: dict[str, Any] = {
        "Name": name,
        "Enabled": bool(destination.get("Enabled", False)),
        "MatchingEventTypes": destination["MatchingEventTypes"],
    }
    if "SnsDestination" in destination:
        spec["SNSDestination"] = {"TopicARN": destination["SnsDestination"]["TopicARN"]}
    aws.client("ses").create_configuration_set_event_destination(
        ConfigurationSetName=props["ConfigurationSetName"], EventDestination=spec
    )
    return name, {}


def _email_identity(aws: EmbeddedAws, logical: str, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    identity = props["EmailIdentity"]
    ses = aws.client("ses")
    if "@" in identity:
        ses.verify_email_identity(EmailAddress=identity)
    else:
        ses.verify_domain_identity(Domain=identity)
    return identity, {}


def _secret(aws: EmbeddedAws, logical: str, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    name = props.get("Name") or aws._physical_name(logical, 256)
    value = props.get("SecretString")
    if value is None:
        generate = dict(props.get("GenerateSecretString") or {})
        template, key = generate.pop("SecretStringTemplate", None), generate.pop("GenerateStringKey", None)
        password = _random_password(generate)
        value = password
        if template is not None and key is not None:
            document = json.loads(template)
            document[key] = password
            value = json.dumps(document)
    args: dict[str, Any] = {"Name": name, "SecretString": value}
    if props.get("Description"):
        args["Description"] = props["Description"]
    arn: str = aws.client("secretsmanager").create_secret(**args)["ARN"]
    return arn, {"Id": arn, "Name": name}


def _random_password(options: Mapping[str, Any]) -> str:
    """A password following ``GenerateSecretString`` options (Secrets Manager's defaults otherwise)."""
    alphabet = ""
    if not options.get("ExcludeLowercase"):
        alphabet += string.ascii_lowercase
    if not options.get("ExcludeUppercase"):
        alphabet += string.ascii_uppercase
    if not options.get("ExcludeNumbers"):
        alphabet += string.digits
    if not options.get("ExcludePunctuation"):
        alphabet += string.punctuation
    if options.get("IncludeSpace"):
        alphabet += " "
    excluded = set(str(options.get("ExcludeCharacters", "")))
    alphabet = "".join(c for c in alphabet if c not in excluded) or string.ascii_letters
    length = int(options.get("PasswordLength", 32))
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _state_machine(aws: EmbeddedAws, logical: str, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    name = props.get("Name") or props.get("StateMachineName") or aws._physical_name(logical, 80)
    if "Definition" in props:
        body = json.dumps(props["Definition"])
    elif "DefinitionString" in props:
        body = str(props["DefinitionString"])
    elif "DefinitionUri" in props and isinstance(props["DefinitionUri"], str):
        path = aws.template_dir / props["DefinitionUri"]
        try:
            body = json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")))
        except OSError as exc:
            raise RelanceError(f"cannot read DefinitionUri: {exc.strerror}", where=str(path)) from exc
    else:
        raise RelanceError("needs Definition, DefinitionString or a local DefinitionUri", where=logical)
    # Substitute only the declared ${Key}s, textually (like SAM / CloudFormation do). moto's own
    # Fn::Sub would also eat the "$$" of "$$.Task.Token".
    for key, value in (props.get("DefinitionSubstitutions") or {}).items():
        body = body.replace("${" + key + "}", json.dumps(_as_str(value))[1:-1])
    for event_name, event in (props.get("Events") or {}).items():
        aws.skipped[f"{logical}.Events.{event_name}"] = (
            f"{event.get('Type')} event source not wired: start executions with boto3"
        )
    role = props.get("Role") or aws._role(logical, "states.amazonaws.com")
    arn: str = aws.client("stepfunctions").create_state_machine(
        name=name,
        definition=body,
        roleArn=role,
        type=props.get("Type", props.get("StateMachineType", "STANDARD")),
    )["stateMachineArn"]
    return arn, {"Arn": arn, "Name": name}


def _layer(aws: EmbeddedAws, logical: str, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    name = props.get("LayerName") or logical
    args: dict[str, Any] = {"LayerName": name, "Content": {"ZipFile": _dummy_zip()}}
    for key in ("CompatibleRuntimes", "CompatibleArchitectures", "Description"):
        if key in props:
            args[key] = props[key]
    arn: str = aws.client("lambda").publish_layer_version(**args)["LayerVersionArn"]
    return arn, {"LayerVersionArn": arn}


def _function(aws: EmbeddedAws, logical: str, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    name = props.get("FunctionName") or aws._physical_name(logical, 64)
    env = {
        key: _as_str(value)
        for key, value in ((props.get("Environment") or {}).get("Variables") or {}).items()
    }
    role = props.get("Role") or aws._role(logical, "lambda.amazonaws.com")
    args: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": props.get("Runtime", "python3.13"),
        "Role": role,
        "Handler": props.get("Handler", "app.lambda_handler"),
        "Code": {"ZipFile": _dummy_zip()},
        "Timeout": int(props.get("Timeout", 3)),
        "MemorySize": int(props.get("MemorySize", 128)),
        "Environment": {"Variables": env},
    }
    for key in ("Architectures", "Layers", "Description"):
        if props.get(key):
            args[key] = props[key]
    if tracing := props.get("Tracing"):
        args["TracingConfig"] = {"Mode": tracing} if isinstance(tracing, str) else tracing
    lam = aws.client("lambda")
    arn: str = lam.create_function(**args)["FunctionArn"]
    if "ReservedConcurrentExecutions" in props:
        lam.put_function_concurrency(
            FunctionName=name, ReservedConcurrentExecutions=int(props["ReservedConcurrentExecutions"])
        )
    for event_name, event in (props.get("Events") or {}).items():
        aws.skipped[f"{logical}.Events.{event_name}"] = (
            f"{event.get('Type')} event source not wired: the simulator and the tests call the handler"
        )
    aws._function_env[logical] = env
    aws._function_props[logical] = props
    aws._function_by_name[name] = logical
    return name, {"Arn": arn}


def _log_group(aws: EmbeddedAws, logical: str, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    name = props.get("LogGroupName") or aws._physical_name(logical, 512)
    logs = aws.client("logs")
    logs.create_log_group(logGroupName=name)
    if "RetentionInDays" in props:
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
    return name, {"Arn": f"arn:aws:logs:{aws.region}:{aws.account_id}:log-group:{name}:*"}


def _role_resource(aws: EmbeddedAws, logical: str, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    name = props.get("RoleName") or aws._physical_name(logical, 64)
    iam = aws.client("iam")
    role = iam.create_role(
        RoleName=name,
        Path=props.get("Path", "/"),
        AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]),
    )["Role"]
    for policy in props.get("Policies") or []:
        iam.put_role_policy(
            RoleName=name,
            PolicyName=policy["PolicyName"],
            PolicyDocument=json.dumps(policy["PolicyDocument"]),
        )
    return name, {"Arn": role["Arn"], "RoleId": role["RoleId"]}


_ALARM_KEYS = (
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "Metrics",
)


def _alarm(aws: EmbeddedAws, logical: str, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    name = props.get("AlarmName") or aws._physical_name(logical, 255)
    args = {key: props[key] for key in _ALARM_KEYS if key in props}
    for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
        if key in args:
            args[key] = int(args[key])
    if "Threshold" in args:
        args["Threshold"] = float(args["Threshold"])
    aws.client("cloudwatch").put_metric_alarm(AlarmName=name, **args)
    return name, {"Arn": f"arn:aws:cloudwatch:{aws.region}:{aws.account_id}:alarm:{name}"}


def _dashboard(aws: EmbeddedAws, logical: str, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """``put_dashboard``, after checking the body is JSON with widgets (what CloudWatch refuses otherwise)."""
    name = str(props.get("DashboardName") or aws._physical_name(logical, 255))
    body = str(props["DashboardBody"])
    try:
        widgets = json.loads(body)["widgets"]
    except (ValueError, KeyError, TypeError) as exc:
        raise RelanceError(f"DashboardBody is not a dashboard: {exc}", where=logical) from exc
    if not isinstance(widgets, list) or not widgets:
        raise RelanceError("DashboardBody has no widgets", where=logical)
    aws.client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=body)
    return name, {"DashboardName": name}


_PROVISIONERS: dict[str, Provisioner] = {
    "AWS::DynamoDB::Table": _table,
    "AWS::SQS::Queue": _queue,
    "AWS::SNS::Topic": _topic,
    "AWS::SNS::Subscription": _subscription,
    "AWS::S3::Bucket": _bucket,
    "AWS::S3::BucketPolicy": _bucket_policy,
    "AWS::SES::ConfigurationSet": _configuration_set,
    "AWS::SES::ConfigurationSetEventDestination": _event_destination,
    "AWS::SES::EmailIdentity": _email_identity,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::Serverless::StateMachine": _state_machine,
    "AWS::StepFunctions::StateMachine": _state_machine,
    "AWS::Serverless::LayerVersion": _layer,
    "AWS::Lambda::LayerVersion": _layer,
    "AWS::Serverless::Function": _function,
    "AWS::Lambda::Function": _function,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::IAM::Role": _role_resource,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::CloudWatch::Dashboard": _dashboard,
}
SUPPORTED_TYPES = frozenset(_PROVISIONERS)


# ---------------------------------------------------------------------- entry point
@contextlib.contextmanager
def fake_aws_environment() -> Iterator[None]:
    """Fake credentials and the embedded Region in ``os.environ``; the previous values come back after."""
    with patched_environ(FAKE_ENV, remove=UNSAFE_ENV):
        yield


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str], *, remove: Iterable[str] = ()) -> Iterator[None]:
    """Set ``values`` (and unset ``remove``) in ``os.environ`` for the block; the previous values come back."""
    keys = (*values, *remove)
    saved = {key: os.environ.get(key) for key in keys}
    for key in remove:
        os.environ.pop(key, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def embedded_aws(
    parameters: Mapping[str, str] | None = None,
    *,
    template_path: Path = TEMPLATE_PATH,
    region: str = REGION,
    in_process: bool = True,
) -> Iterator[EmbeddedAws]:
    """Start moto with the right config and fake credentials, deploy the template, yield it.

    With ``in_process`` (default) Step Functions ``lambda:invoke`` tasks and ``lambda.invoke`` run the
    real handlers (see :meth:`EmbeddedAws.in_process_lambdas`). Everything is torn down on exit.
    Dispatchers built meanwhile are wrapped for fault injection (:func:`relance_dev.faults.installed`:
    a pass-through unless a test or a scenario arms a point).
    """
    from moto import mock_aws

    from relance_dev import faults
    from relance_dev.embedded.iam import enforce
    from relance_dev.embedded.shared import SHARED

    SHARED.close()              # moto's backends are process-wide: one deployment at a time
    with fake_aws_environment(), mock_aws(config=cast(Any, MOTO_CONFIG)), faults.installed():
        aws = EmbeddedAws.deploy(template_path, parameters, region)
        with enforce(aws):  # each handler's calls are checked against its own role (RELANCE_IAM=off: not)
            if in_process:
                with aws.in_process_lambdas():
                    yield aws
            else:
                yield aws
