"""template.yaml deployed the CloudFormation way into moto: samtranslator, then ``create_stack``.

The embedded AWS (:mod:`relance_dev.embedded.embedded`) creates each resource with direct boto3 calls; this
module checks the other half of the deploy: that the *translated* template, as ``sam deploy`` hands it
to CloudFormation, creates a complete stack whose functions point at resources of that stack, and that
the deployed state machine runs. Every workaround moto needs is here, in :func:`moto_fixups` and
:func:`moto_cfn_backends` (toolchain.md §6):

1. API Gateway resources are dropped (moto's ``AWS::ApiGateway::RestApi`` needs ``Name`` and ignores
   ``Body``, then the deployment fails), with the Lambda permissions that name them; references to them
   become a placeholder id so that URLs built with ``Fn::Sub`` stay well-formed.
2. ``AWS::Scheduler::Schedule`` is dropped (moto skips it with a warning; nothing fires in moto anyway).
3. A state machine's ``DefinitionS3Location`` + ``DefinitionSubstitutions`` become a ``DefinitionString``
   ``Fn::Join`` (moto reads only ``DefinitionString``; its ``Fn::Sub`` would turn ``$$.Task.Token``
   into ``$.Task.Token``).
4. While the stack is created, moto's CloudFormation handler uses the *executing* Step Functions backend
   (``execute_state_machine``), else the machine is created where executions never run.
5. Function code is zipped into moto S3 under the placeholder URIs of the translation (what
   ``sam package`` uploads); the layer gets a zip of the relance package (moto ignores ``Layers``).
6. Types moto's CloudFormation skips with a mere warning (:data:`OUTSIDE_CFN`: secrets, SES
   configuration sets, alarms, dashboards, SNS subscriptions...) are taken out of the template and
   created with direct calls (the embedded AWS's provisioners): those nothing in the stack needs
   first, their references replaced by their ids; the others once the stack exists. Without this,
   moto silently drops every environment variable that refers to them. Resource policies are
   recorded as skipped (moto does not enforce them).

Use inside ``mock_aws(config=MOTO_CONFIG)`` with fake credentials, or through :func:`cfn_stack`.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from botocore.exceptions import ClientError

from relance.errors import RelanceError
from relance_dev.embedded.cfn import Unresolved, load_template, references
from relance_dev.embedded.embedded import (
    _PROVISIONERS,
    _SKIP_REASONS,
    LOCAL_PARAMETERS,
    MOTO_CONFIG,
    REGION,
    SENDER_PARAMETER,
    TEMPLATE_PATH,
    EmbeddedAws,
    _creation_order,
    fake_aws_environment,
    resolve_parameters,
)
from relance_dev.embedded.translate import PLACEHOLDER_BUCKET, local_definitions, translate

STACK_NAME = "relance"
DROPPED_PREFIXES = ("AWS::ApiGateway::", "AWS::ApiGatewayV2::")
DROPPED_TYPES = frozenset({"AWS::Scheduler::Schedule"})
PLACEHOLDER_API_ID = "apinotdeployed"
"""What a reference to a dropped API Gateway resource becomes (looks like a REST API id)."""


OUTSIDE_CFN = frozenset({
    "AWS::SecretsManager::Secret", "AWS::SES::ConfigurationSet", "AWS::SES::ConfigurationSetEventDestination",
    "AWS::SES::EmailIdentity", "AWS::SNS::Subscription", "AWS::CloudWatch::Alarm", "AWS::CloudWatch::Dashboard",
    "AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy",
})
"""Resource types moto 5.2's CloudFormation does not create (it warns and goes on without them)."""


class StackDeployError(RelanceError):
    """The stack did not reach CREATE_COMPLETE (the reason names the failed resources)."""


# ---------------------------------------------------------------------- fixups 1-3
def moto_fixups(template: dict[str, Any], definitions: Mapping[str, dict[str, Any]]) -> dict[str, str]:
    """Rewrite a translated template in place for moto's CloudFormation; return ``{logical id: what}``.

    ``definitions`` maps state machine logical ids to their ASL (see :func:`local_definitions`).
    """
    resources: dict[str, Any] = template["Resources"]
    applied: dict[str, str] = {}
    dropped = {
        logical for logical, res in resources.items()
        if res.get("Type", "").startswith(DROPPED_PREFIXES) or res.get("Type") in DROPPED_TYPES
    }
    # permissions that let API Gateway invoke a function go with the API
    dropped |= {
        logical for logical, res in resources.items()
        if res.get("Type") == "AWS::Lambda::Permission"
        and "apigateway" in json.dumps((res.get("Properties") or {}).get("Principal", ""))
    }
    for logical in sorted(dropped):
        applied[logical] = f"dropped: {resources.pop(logical)['Type']} is not deployable in moto"
    _replace_references(template, dropped)
    for logical, definition in definitions.items():
        props = template["Resources"][logical]["Properties"]
        substitutions = props.pop("DefinitionSubstitutions", {}) or {}
        props.pop("DefinitionS3Location", None)
        props["DefinitionString"] = definition_join(definition, substitutions)
        applied[logical] = "DefinitionS3Location + DefinitionSubstitutions inlined as Fn::Join"
    return applied


def definition_join(definition: Mapping[str, Any], substitutions: Mapping[str, Any]) -> dict[str, Any]:
    """``{"Fn::Join": ["", [text, value, text, ...]]}`` for the ASL with each ``${Key}`` substituted."""
    text = json.dumps(definition, indent=1)
    parts: list[Any] = []
    pattern = re.compile(r"\$\{(" + "|".join(re.escape(k) for k in substitutions) + r")\}") if substitutions else None
    position = 0
    for match in pattern.finditer(text) if pattern else ():
        parts.append(text[position : match.start()])
        parts.append(copy.deepcopy(substitutions[match.group(1)]))
        position = match.end()
    parts.append(text[position:])
    return {"Fn::Join": ["", [p for p in parts if p != ""]]}


def _replace_references(
    template: dict[str, Any], dropped: set[str], value: Callable[[str, str | None], str] | None = None
) -> None:
    """References to ``dropped`` resources become literals; ``DependsOn`` forgets them.

    ``value(logical, attribute or None)`` gives the literal (default :data:`PLACEHOLDER_API_ID`).
    """
    literal = value or (lambda logical, attribute: PLACEHOLDER_API_ID)

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref" and arg in dropped:
                return literal(arg, None)
            if key == "Fn::GetAtt":
                target, attribute = (arg[0], arg[1]) if isinstance(arg, list) else str(arg).split(".", 1)
                if target in dropped:
                    return literal(target, str(attribute))
            if key == "Fn::Sub":
                text, local = (arg, None) if isinstance(arg, str) else (arg[0], arg[1])
                for name in dropped:
                    text = re.sub(r"\$\{" + re.escape(name) + r"(?:\.([^}]*))?\}",
                                  lambda m, n=name: literal(n, m.group(1)), text)
                return {"Fn::Sub": text if local is None else [text, walk(local)]}
        return {key: walk(value) for key, value in node.items()}

    for section in ("Resources", "Outputs"):
        template[section] = walk(template.get(section) or {})
    for resource in template["Resources"].values():
        depends = resource.get("DependsOn")
        if isinstance(depends, str) and depends in dropped:
            resource.pop("DependsOn")
        elif isinstance(depends, list):
            resource["DependsOn"] = [d for d in depends if d not in dropped]


# ---------------------------------------------------------------------- fixup 4
@contextlib.contextmanager
def moto_cfn_backends() -> Iterator[None]:
    """moto's CloudFormation handler creates state machines in the executing Step Functions backend."""
    import moto.stepfunctions.models as sfn_models
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    original = sfn_models.stepfunctions_backends
    sfn_models.stepfunctions_backends = cast(Any, stepfunctions_parser_backends)
    try:
        yield
    finally:
        sfn_models.stepfunctions_backends = original


# ---------------------------------------------------------------------- fixup 5
def zip_folder(folder: Path, prefix: str = "") -> bytes:
    """``folder`` as zip bytes (``__pycache__`` left out), entries under ``prefix``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, prefix + path.relative_to(folder).as_posix())
    return buffer.getvalue()


def upload_artifacts(s3: Any, template: Mapping[str, Any], root: Path) -> dict[str, str]:
    """Put the code every translated function and layer names under the placeholder bucket into moto S3.

    Functions get their code folder (``root/<CodeUri>``); a layer gets the relance package under
    ``python/`` (moto does not attach layers to functions; the handlers run in-process anyway).
    """
    s3.create_bucket(Bucket=PLACEHOLDER_BUCKET, CreateBucketConfiguration={"LocationConstraint": s3.meta.region_name})
    uploaded: dict[str, str] = {}
    for logical, resource in template["Resources"].items():
        props = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Lambda::Function":
            location = props.get("Code") or {}
            body = zip_folder(root / location.get("S3Key", ""))
        elif resource.get("Type") == "AWS::Lambda::LayerVersion":
            location = props.get("Content") or {}
            body = zip_folder(root / "layers" / "relance" / "relance", prefix="python/relance/")
        else:
            continue
        if location.get("S3Bucket") != PLACEHOLDER_BUCKET:
            continue
        s3.put_object(Bucket=PLACEHOLDER_BUCKET, Key=location["S3Key"], Body=body)
        uploaded[logical] = f"s3://{PLACEHOLDER_BUCKET}/{location['S3Key']}"
    return uploaded


# ---------------------------------------------------------------------- the stack
@dataclass
class CfnStack:
    """A stack created by moto's CloudFormation from the translated template."""

    name: str
    stack_id: str
    template_path: Path
    template: dict[str, Any]
    """The translated template, fixed up, exactly as given to ``create_stack``."""
    parameters: dict[str, str]
    region: str
    resources: dict[str, str] = field(default_factory=dict)
    """Logical id -> physical id, as ``list_stack_resources`` gives them."""
    types: dict[str, str] = field(default_factory=dict)
    fixups: dict[str, str] = field(default_factory=dict)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def client(self, service: str) -> Any:
        import boto3

        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=self.region)
        return self._clients[service]

    def of_type(self, kind: str) -> dict[str, str]:
        """``{logical id: physical id}`` of the stack's resources of one type."""
        return {logical: self.resources[logical] for logical, t in self.types.items() if t == kind}

    @property
    def functions(self) -> dict[str, str]:
        return self.of_type("AWS::Lambda::Function")

    def function_env(self, logical: str) -> dict[str, str]:
        """Environment variables of a deployed function, as Lambda reports them."""
        configuration = self.client("lambda").get_function_configuration(FunctionName=self.resources[logical])
        env: dict[str, Any] = (configuration.get("Environment") or {}).get("Variables") or {}
        return {key: str(value) for key, value in env.items()}  # moto keeps a Number parameter's int

    # -------------------------------------------------------------- checks
    def check_function_env(self) -> list[str]:
        """Problems with the environment of every deployed function (empty when all is well).

        A variable that names a table, queue, topic, bucket, state machine, secret, function or SES
        configuration set (by its value's shape or its name, as :mod:`relance_dev.embedded.checks` does) must
        name a resource *of this stack* that exists.
        """
        problems: list[str] = []
        known = self._stack_identifiers()
        for logical in sorted(self.functions):
            env = self.function_env(logical)
            declared = ((self.template["Resources"][logical]["Properties"].get("Environment") or {})
                        .get("Variables") or {})
            # moto drops a variable whose value refers to something it did not create
            problems += [f"{logical}: {var} is missing from the deployed environment"
                         for var in sorted(set(declared) - set(env))]
            for var, value in sorted(env.items()):
                kind = _kind_of(var, value)
                if kind is None:
                    continue
                if not value:
                    problems.append(f"{logical}: {var} is empty")
                    continue
                candidates = known.get(kind, {})
                if value not in candidates:
                    problems.append(f"{logical}: {var}={value!r} is no {kind} of stack {self.name}")
                    continue
                exists = _EXISTS[kind]
                try:
                    exists(self, candidates[value])
                except ClientError as exc:
                    problems.append(f"{logical}: {var}={value!r}: {exc.response['Error'].get('Code', 'error')}")
        return problems

    def _stack_identifiers(self) -> dict[str, dict[str, str]]:
        """For each kind, every way a variable may name a stack resource (name, URL, ARN) -> physical id."""
        account = self.stack_id.split(":")[4]
        out: dict[str, dict[str, str]] = {}

        def add(kind: str, physical: str, *aliases: str) -> None:
            for alias in (physical, *aliases):
                out.setdefault(kind, {})[alias] = physical

        for physical in self.of_type("AWS::DynamoDB::Table").values():
            add("table", physical, f"arn:aws:dynamodb:{self.region}:{account}:table/{physical}")
        for physical in self.of_type("AWS::SQS::Queue").values():
            arn = self.client("sqs").get_queue_attributes(QueueUrl=physical, AttributeNames=["QueueArn"])
            add("queue", physical, arn["Attributes"]["QueueArn"])
        for physical in self.of_type("AWS::SNS::Topic").values():
            add("topic", physical)
        for physical in self.of_type("AWS::S3::Bucket").values():
            add("bucket", physical, f"arn:aws:s3:::{physical}")
        for physical in self.of_type("AWS::StepFunctions::StateMachine").values():
            add("state machine", physical)
        for physical in self.of_type("AWS::SecretsManager::Secret").values():
            add("secret", physical)
        for physical in self.functions.values():
            add("function", physical, f"arn:aws:lambda:{self.region}:{account}:function:{physical}")
        for physical in self.of_type("AWS::SES::ConfigurationSet").values():
            add("configuration set", physical)
        return out

    # -------------------------------------------------------------- running handlers
    def embedded(self) -> EmbeddedAws:
        """An :class:`EmbeddedAws` view of the stack's functions, to run their real handlers in-process.

        ``with stack.embedded().in_process_lambdas():`` makes moto's Lambda (and Step Functions
        ``lambda:invoke`` tasks) run the handler of ``<CodeUri>/app.py`` with the deployed environment.
        """
        view = EmbeddedAws(self.template_path, load_template(self.template_path), self.parameters,
                           self.region, self.name)
        source = view.template["Resources"]
        for logical, name in self.functions.items():
            configuration = self.client("lambda").get_function_configuration(FunctionName=name)
            props = source.get(logical, {}).get("Properties") or {}
            # the same bookkeeping EmbeddedAws._function does when it creates a function itself
            view.resources[logical] = name
            view._attrs[logical] = {"Arn": configuration["FunctionArn"]}
            view._function_env[logical] = self.function_env(logical)
            view._function_props[logical] = {
                "CodeUri": props.get("CodeUri", "."),
                "Handler": configuration.get("Handler", "app.lambda_handler"),
                "MemorySize": configuration.get("MemorySize", 128),
                "Timeout": configuration.get("Timeout", 3),
            }
            view._function_by_name[name] = logical
        for logical, physical in self.resources.items():
            if logical not in view.resources:
                view.resources[logical] = physical
        return view


_KINDS_BY_ARN = {
    "dynamodb": "table", "sqs": "queue", "sns": "topic", "states": "state machine", "secretsmanager": "secret",
    "lambda": "function", "s3": "bucket",
}


_KINDS_BY_SUFFIX = (
    ("STATE_MACHINE_ARN", "state machine"), ("TOPIC_ARN", "topic"), ("SECRET_ARN", "secret"),
    ("FUNCTION_ARN", "function"),
)


def _kind_of(var: str, value: str) -> str | None:
    """What kind of resource an environment variable names, or None for plain settings."""
    if value.startswith("arn:"):
        return _KINDS_BY_ARN.get(value.split(":")[2])
    if value.startswith("https://sqs.") or var.endswith("QUEUE_URL"):
        return "queue"
    if var.endswith(("TABLE_NAME", "_TABLE")):
        return "table"
    if var.endswith(("BUCKET", "BUCKET_NAME")):
        return "bucket"
    if var.endswith("CONFIGURATION_SET"):
        return "configuration set"
    for suffix, kind in _KINDS_BY_SUFFIX:
        if var.endswith(suffix):
            return kind
    return None


_EXISTS: dict[str, Callable[[CfnStack, str], Any]] = {
    "table": lambda s, p: s.client("dynamodb").describe_table(TableName=p),
    "queue": lambda s, p: s.client("sqs").get_queue_attributes(QueueUrl=p, AttributeNames=["QueueArn"]),
    "topic": lambda s, p: s.client("sns").get_topic_attributes(TopicArn=p),
    "bucket": lambda s, p: s.client("s3").head_bucket(Bucket=p),
    "state machine": lambda s, p: s.client("stepfunctions").describe_state_machine(stateMachineArn=p),
    "secret": lambda s, p: s.client("secretsmanager").describe_secret(SecretId=p),
    "function": lambda s, p: s.client("lambda").get_function(FunctionName=p),
    "configuration set": lambda s, p: s.client("ses").describe_configuration_set(ConfigurationSetName=p),
}


def deploy_stack(
    template_path: Path | str = TEMPLATE_PATH,
    parameters: Mapping[str, str] | None = None,
    *,
    region: str = REGION,
    stack_name: str = STACK_NAME,
    timeout: float = 60.0,
) -> CfnStack:
    """Translate ``template_path`` and create it as a CloudFormation stack in moto (inside ``mock_aws``).

    The fixups of the module docstring are applied and listed in :attr:`CfnStack.fixups`.

    Raises :class:`StackDeployError` when the stack does not reach ``CREATE_COMPLETE``.
    """
    import boto3

    template_path = Path(template_path).resolve()
    values = resolve_parameters(load_template(template_path), {**LOCAL_PARAMETERS, **(parameters or {})},
                                template_path)
    translated = translate(template_path, values, region=region)
    # fixups 1-3
    definitions = {logical: asl for logical, (_, asl) in local_definitions(template_path).items()}
    fixups = moto_fixups(translated, definitions)
    outside = {
        logical: translated["Resources"].pop(logical)
        for logical in list(translated["Resources"])
        if translated["Resources"][logical].get("Type") in OUTSIDE_CFN
    }
    s3 = boto3.client("s3", region_name=region)
    for logical, uri in upload_artifacts(s3, translated, template_path.parent).items():
        fixups.setdefault(logical, f"code zipped to {uri}")
    if sender := values.get(SENDER_PARAMETER):  # the stack does not create the SES identity: the user does
        boto3.client("ses", region_name=region).verify_email_identity(EmailAddress=sender)
    # fixup 6, first half: what nothing in the stack needs, before the stack; references become ids
    view = EmbeddedAws(template_path, load_template(template_path), values, region, stack_name)
    order = _creation_order(outside, {})
    early: list[str] = []
    for logical in order:
        if references(outside[logical].get("Properties") or {}) - set(values) <= set(early):
            early.append(logical)
    for logical in early:
        _provision_outside(view, logical, outside[logical], fixups)
    _replace_references(translated, set(early), lambda logical, attribute: view.resources[logical]
                        if attribute is None else view._attrs[logical][attribute])
    late = set(outside) - set(early)
    for output in [name for name, spec in (translated.get("Outputs") or {}).items() if references(spec) & late]:
        translated["Outputs"].pop(output)
        fixups[f"Outputs.{output}"] = "left out: it refers to a resource created after the stack (fixup 6)"
    cfn = boto3.client("cloudformation", region_name=region)
    declared = load_template(template_path).get("Parameters") or {}
    # CloudFormation validates this before it creates anything; moto raises a KeyError mid-way instead
    unresolved = references([translated["Resources"], translated.get("Outputs") or {}]) - set(
        translated["Resources"]) - set(declared)
    if unresolved:
        raise StackDeployError(f"Template format error: Unresolved resource dependencies {sorted(unresolved)} "
                               "in the Resources block of the template", where=str(template_path))
    with moto_cfn_backends():
        stack_id = cfn.create_stack(
            StackName=stack_name,
            TemplateBody=json.dumps(translated),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items() if k in declared],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        )["StackId"]
        status = _wait(cfn, stack_id, timeout)
    if status != "CREATE_COMPLETE":
        failed = [
            f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}"
            for e in cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
            if e.get("ResourceStatus", "").endswith("FAILED")
        ]
        raise StackDeployError(f"stack {stack_name} is {status}: " + "; ".join(failed), where=str(template_path))
    stack = CfnStack(stack_name, stack_id, template_path, translated, values, region, fixups=fixups)
    paginator = cfn.get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=stack_id):
        for summary in page["StackResourceSummaries"]:
            stack.resources[summary["LogicalResourceId"]] = summary["PhysicalResourceId"]
            stack.types[summary["LogicalResourceId"]] = summary["ResourceType"]
    # fixup 6, second half: the rest, now that what they refer to exists
    for logical, physical in stack.resources.items():
        view.resources[logical] = physical
        view._attrs[logical] = _attributes(stack, logical)
    for logical in order:
        if logical not in early:
            _provision_outside(view, logical, outside[logical], fixups)
    for logical, resource in outside.items():
        if logical in view.resources:
            stack.resources[logical] = view.resources[logical]
            stack.types[logical] = resource["Type"]
    return stack


def _provision_outside(view: EmbeddedAws, logical: str, resource: Mapping[str, Any], fixups: dict[str, str]) -> None:
    """Create one resource moto's CloudFormation would skip, with the embedded AWS's provisioner."""
    kind = resource["Type"]
    where = f"{view.template_path}: resource {logical}"
    if kind in _SKIP_REASONS:
        fixups[logical] = f"skipped: {_SKIP_REASONS[kind]}"
        return
    try:
        props = view.resolver.resolve(resource.get("Properties") or {})
    except Unresolved as exc:
        raise StackDeployError(str(exc), where=where) from exc
    if kind == "AWS::CloudWatch::Dashboard":
        physical, attrs = _dashboard(view, logical, props)
    else:
        physical, attrs = _PROVISIONERS[kind](view, logical, props)
    view.resources[logical] = physical
    view._attrs[logical] = attrs
    fixups[logical] = f"created outside CloudFormation ({kind}: moto's CloudFormation skips it)"


def _dashboard(view: EmbeddedAws, logical: str, props: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """``put_dashboard``, after checking the body is JSON with widgets (what CloudWatch refuses otherwise)."""
    name = str(props.get("DashboardName") or view._physical_name(logical, 255))
    body = str(props["DashboardBody"])
    try:
        widgets = json.loads(body)["widgets"]
    except (ValueError, KeyError, TypeError) as exc:
        raise StackDeployError(f"DashboardBody is not a dashboard: {exc}", where=logical) from exc
    if not isinstance(widgets, list) or not widgets:
        raise StackDeployError("DashboardBody has no widgets", where=logical)
    view.client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=body)
    return name, {"DashboardName": name}


def _attributes(stack: CfnStack, logical: str) -> dict[str, str]:
    """The ``Fn::GetAtt`` attributes of a stack resource that the outside resources may name."""
    physical, kind = stack.resources[logical], stack.types[logical]
    account = stack.stack_id.split(":")[4]
    if kind == "AWS::SQS::Queue":
        arn = stack.client("sqs").get_queue_attributes(QueueUrl=physical, AttributeNames=["QueueArn"])
        queue_arn = arn["Attributes"]["QueueArn"]
        return {"Arn": queue_arn, "QueueName": queue_arn.rsplit(":", 1)[-1], "QueueUrl": physical}
    if kind == "AWS::SNS::Topic":
        return {"TopicArn": physical, "TopicName": physical.rsplit(":", 1)[-1]}
    if kind == "AWS::Lambda::Function":
        return {"Arn": f"arn:aws:lambda:{stack.region}:{account}:function:{physical}"}
    if kind == "AWS::DynamoDB::Table":
        return {"Arn": f"arn:aws:dynamodb:{stack.region}:{account}:table/{physical}"}
    if kind == "AWS::S3::Bucket":
        return {"Arn": f"arn:aws:s3:::{physical}"}
    if kind == "AWS::StepFunctions::StateMachine":
        return {"Arn": physical, "Name": physical.rsplit(":", 1)[-1]}
    return {}


def _wait(cfn: Any, stack_id: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = str(cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"])
        if not status.endswith("IN_PROGRESS") or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


@contextlib.contextmanager
def cfn_stack(
    parameters: Mapping[str, str] | None = None,
    *,
    template_path: Path | str = TEMPLATE_PATH,
    region: str = REGION,
    stack_name: str = STACK_NAME,
) -> Iterator[CfnStack]:
    """Fake credentials, ``mock_aws`` with :data:`MOTO_CONFIG`, the stack deployed; torn down on exit."""
    from moto import mock_aws

    from relance_dev.embedded.shared import SHARED

    SHARED.close()              # moto's backends are process-wide: one deployment at a time
    with fake_aws_environment(), mock_aws(config=cast(Any, MOTO_CONFIG)):
        yield deploy_stack(template_path, parameters, region=region, stack_name=stack_name)
