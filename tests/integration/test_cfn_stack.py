"""template.yaml as `sam deploy` hands it to CloudFormation: translated, created as a stack in moto.

The fixups moto needs are all in relance_dev.embedded.cfn_stack (API Gateway dropped, Scheduler dropped, the
state machine definition inlined as Fn::Join, the executing Step Functions backend, code zipped to S3,
resources moto's CloudFormation skips created with direct calls).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_escalation_support import (
    APPROVER,
    dispatch,
    fresh,
    in_state,
    mails,
    seed,
    text_of,
    the_case_id,
    wait_for,
)

from relance.errors import RelanceError
from relance_dev.embedded.cfn_stack import (
    PLACEHOLDER_API_ID,
    CfnStack,
    StackDeployError,
    cfn_stack,
    definition_join,
    moto_fixups,
)
from relance_dev.embedded.translate import local_definitions, translate

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"


@pytest.fixture
def stack() -> Iterator[CfnStack]:
    with cfn_stack() as deployed:
        yield deployed


def _copy_with(tmp_path: Path, old: str, new: str) -> Path:
    """template.yaml with one text replaced, next to links to the code it names."""
    text = TEMPLATE.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    for name in ("functions", "statemachines", "layers", "policies", "letter_templates"):
        (tmp_path / name).symlink_to(REPO / name)
    copy = tmp_path / "template.yaml"
    copy.write_text(text.replace(old, new), encoding="utf-8")
    return copy


DISPATCH_ENV = "          STATE_MACHINE_ARN: !Ref EscalationStateMachine\n"  # only DispatchFunction has it


# ---------------------------------------------------------------------- the stack
def test_stack_is_created_complete_with_every_function(stack: CfnStack) -> None:
    status = stack.client("cloudformation").describe_stacks(StackName=stack.name)["Stacks"][0]["StackStatus"]
    assert status == "CREATE_COMPLETE"
    translated = translate(TEMPLATE)
    declared = {k for k, r in translated["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
    assert declared and declared == set(stack.functions)
    for kind in ("AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::S3::Bucket",
                 "AWS::StepFunctions::StateMachine", "AWS::SecretsManager::Secret"):
        assert stack.of_type(kind), kind


def test_every_function_environment_points_at_resources_of_the_stack(stack: CfnStack) -> None:
    assert stack.check_function_env() == []
    dispatch_env = stack.function_env("DispatchFunction")
    assert dispatch_env["TABLE_NAME"] == stack.resources["Table"]
    assert dispatch_env["QUEUE_URL" if "QUEUE_URL" in dispatch_env else "STATE_MACHINE_ARN"]
    assert dispatch_env["STATE_MACHINE_ARN"] == stack.resources["EscalationStateMachine"]
    assert dispatch_env["SES_CONFIGURATION_SET"] == stack.resources["SesConfigurationSet"]
    escalation_env = stack.function_env("EscalationFunction")
    assert escalation_env["APPROVAL_SECRET_ARN"] == stack.resources["ApprovalSigningSecret"]
    assert escalation_env["APPROVAL_BASE_URL"].startswith(f"https://{PLACEHOLDER_API_ID}.execute-api.")
    assert stack.function_env("DailyRunFunction")["QUEUE_URL"] == stack.resources["WorkQueue"]


def test_fixups_are_listed(stack: CfnStack) -> None:
    fixups = stack.fixups
    assert fixups["EscalationStateMachine"].startswith("DefinitionS3Location")
    assert fixups["DailyRunFunctionDaily"].startswith("dropped: AWS::Scheduler::Schedule")
    assert fixups["ApprovalApi"].startswith("dropped: AWS::ApiGateway::RestApi")
    assert all(not k.startswith("ApprovalFunction") or "Permission" in k or "code" in v for k, v in fixups.items())
    assert "created outside CloudFormation" in fixups["ApprovalSigningSecret"]
    assert not [r for r in stack.template["Resources"].values() if r["Type"].startswith("AWS::ApiGateway")]


def test_alarms_and_dashboard_exist_and_point_at_the_alarm_topic(stack: CfnStack) -> None:
    alarms = stack.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert alarms
    assert all(a["AlarmActions"] == [stack.resources["AlarmTopic"]] for a in alarms), alarms
    dashboards = stack.of_type("AWS::CloudWatch::Dashboard")
    for name in dashboards.values():
        body = json.loads(stack.client("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"])
        assert body["widgets"]


def test_definition_join_keeps_the_task_token_path() -> None:
    ((_, asl),) = local_definitions(TEMPLATE).values()
    joined = definition_join(asl, {"EscalationFunctionArn": {"Fn::GetAtt": ["EscalationFunction", "Arn"]},
                                   "TaskTopicArn": {"Ref": "TaskTopic"}})
    parts = joined["Fn::Join"][1]
    text = "".join(p for p in parts if isinstance(p, str))
    assert "$$.Task.Token" in text and "${" not in text
    assert {"Ref": "TaskTopic"} in parts and {"Fn::GetAtt": ["EscalationFunction", "Arn"]} in parts


def test_moto_fixups_drop_api_permissions_and_rewrite_references() -> None:
    translated = translate(TEMPLATE)
    definitions = {k: asl for k, (_, asl) in local_definitions(TEMPLATE).items()}
    moto_fixups(translated, definitions)
    resources = translated["Resources"]
    assert not [k for k, r in resources.items() if r["Type"] == "AWS::Lambda::Permission"
                and "apigateway" in json.dumps(r["Properties"].get("Principal"))]
    text = json.dumps(translated)
    assert '"Ref": "ApprovalApi"' not in text and "${ApprovalApi" not in text and "ApprovalApi\"," not in text
    assert "DefinitionString" in resources["EscalationStateMachine"]["Properties"]


# ---------------------------------------------------------------------- the deployed machine runs
def test_the_deployed_state_machine_runs_to_the_approval_wait(stack: CfnStack) -> None:
    aws = stack.embedded()
    fresh(aws)
    with aws.in_process_lambdas():
        seed(aws)
        dispatch(aws)                      # the deployed DispatchFunction starts the deployed machine
        case_id = the_case_id(aws)
        in_state(aws, case_id, "RequestApproval")
        (mail,) = wait_for(lambda: mails(aws, APPROVER), what="the approval email")
    assert re.search(rf"https://{PLACEHOLDER_API_ID}\S+/approvals/[A-Za-z0-9_-]+\?sig=", text_of(mail))
    execution = aws.client("stepfunctions").list_executions(
        stateMachineArn=stack.resources["EscalationStateMachine"])["executions"][0]
    assert execution["status"] == "RUNNING"  # waiting for the approver's task token


# ---------------------------------------------------------------------- a broken template is caught
def test_env_var_naming_a_table_outside_the_stack_fails_the_check(tmp_path: Path) -> None:
    broken = _copy_with(tmp_path, DISPATCH_ENV, DISPATCH_ENV + "          TABLE_NAME: relance-table-typo\n")
    with cfn_stack(template_path=broken) as deployed:
        problems = deployed.check_function_env()
    assert problems == ["DispatchFunction: TABLE_NAME='relance-table-typo' is no table of stack relance"]


def test_env_var_referring_to_a_resource_that_does_not_exist_fails(tmp_path: Path) -> None:
    broken = _copy_with(tmp_path, DISPATCH_ENV, DISPATCH_ENV + "          TABLE_NAME: !Ref NotATable\n")
    with pytest.raises(RelanceError) as raised, cfn_stack(template_path=broken) as deployed:
        problems = deployed.check_function_env()
        raise StackDeployError("; ".join(problems) or "the check passed")
    assert "NotATable" in str(raised.value)
