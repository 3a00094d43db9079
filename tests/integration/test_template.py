"""template.yaml: structure, least privilege, and cfn-lint on the SAM translation."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from relance.errors import RelanceError
from relance_dev.embedded.cfn import load_template
from relance_dev.embedded.embedded import resolve_parameters
from relance_dev.embedded.translate import lint, translate
from relance_dev.embedded.translate import main as translate_main

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    return translate(TEMPLATE)


def _statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for policy in resource["Properties"].get("Policies", []) for s in policy.get("Statement", [])]


def test_template_parses_short_form_tags(template: dict[str, Any]) -> None:
    # Given template.yaml; When it is read with its short-form tags; Then it is a SAM template
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    # And the tags became references and attributes
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["TABLE_NAME"] == {"Ref": "Table"}
    assert template["Resources"]["WorkQueue"]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["DeadLetterQueue", "Arn"]
    }


def test_globals_runtime_architecture_tracing_layer(template: dict[str, Any]) -> None:
    # Given template.yaml; When its function globals are read; Then functions run Python 3.13 on arm64, traced
    function = template["Globals"]["Function"]
    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["Tracing"] == "Active"
    # And they load the core layer
    assert function["Layers"] == [{"Ref": "CoreLayer"}]
    # And they log and count as relance and read policies and templates from the layer
    env = function["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "relance"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Relance"
    assert env["RELANCE_POLICIES_DIR"] == "/opt/policies"
    assert env["RELANCE_TEMPLATES_DIR"] == "/opt/letter_templates"


def test_every_parameter_is_described_and_constrained(template: dict[str, Any]) -> None:
    # Given template.yaml; When its parameters are read; Then each is described and constrained
    constraints = {"AllowedPattern", "AllowedValues", "MinLength", "MaxLength", "MinValue", "MaxValue"}
    for name, spec in template["Parameters"].items():
        assert spec.get("Description"), name
        assert constraints & set(spec), f"{name} has no constraint"
    # And the SMS sender and the shard count have their defaults and types
    assert template["Parameters"]["SmsSenderId"]["Default"] == "RELANCE"
    assert template["Parameters"]["DueShards"]["Type"] == "Number"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CompanySiren", "12345678"),
        ("CompanySiren", "12345678A"),
        ("CompanyIban", "DE89370400440532013000"),
        ("SmsSenderId", "AB"),
        ("SmsSenderId", "TOO-LONG-SENDER"),
        ("SenderEmail", "not-an-email"),
        ("DueShards", "0"),
    ],
)
def test_parameter_constraints_reject_bad_values(template: dict[str, Any], name: str, value: str) -> None:
    from relance_dev.embedded import LOCAL_PARAMETERS

    # Given the local parameters with one bad value; When they are resolved; Then the parameter is named
    with pytest.raises(RelanceError, match=f"parameter {name}"):
        resolve_parameters(template, {**LOCAL_PARAMETERS, name: value}, TEMPLATE)


def test_table_keys_index_and_protection(template: dict[str, Any]) -> None:
    # Given template.yaml; When the table's properties are read; Then it has its keys and its keys-only due index
    props = template["Resources"]["Table"]["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    (gsi,) = props["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "due" and gsi["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    # And it is on-demand, backed up, encrypted, protected from deletion, with a TTL
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["DeletionProtectionEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_work_queue_visibility_covers_six_dispatch_timeouts(template: dict[str, Any]) -> None:
    # Given template.yaml; When the work queue and the dispatch function are read
    resources = template["Resources"]
    timeout = resources["DispatchFunction"]["Properties"]["Timeout"]
    # Then a message stays invisible for six dispatch timeouts
    assert resources["WorkQueue"]["Properties"]["VisibilityTimeout"] >= 6 * timeout
    # And it goes to the dead-letter queue after three receives, kept 14 days
    assert resources["WorkQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 3
    assert resources["DeadLetterQueue"]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_dispatch_event_reports_batch_item_failures(template: dict[str, Any]) -> None:
    # Given template.yaml; When the dispatch function's SQS event is read
    props = template["Resources"]["DispatchFunction"]["Properties"]
    event = props["Events"]["Work"]
    # Then it takes batches of 10 and reports the failed items
    assert event["Type"] == "SQS"
    assert event["Properties"]["BatchSize"] == 10
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # And its concurrency is a parameter
    assert props["ReservedConcurrentExecutions"] == {"Ref": "DispatchConcurrency"}


def test_daily_schedule_is_8am_paris(template: dict[str, Any]) -> None:
    # Given template.yaml; When the daily run's schedule is read; Then it runs at 8:00, Paris time
    event = template["Resources"]["DailyRunFunction"]["Properties"]["Events"]["Daily"]
    assert event["Type"] == "ScheduleV2"
    assert event["Properties"]["ScheduleExpression"] == "cron(0 8 * * ? *)"
    assert event["Properties"]["ScheduleExpressionTimezone"] == "Europe/Paris"
    # And it passes the scheduled time as input
    assert "<aws.scheduler.scheduled-time>" in event["Properties"]["Input"]


def test_no_wildcard_actions_and_only_sms_on_any_resource(template: dict[str, Any]) -> None:
    # Given template.yaml; When every function's policy statements are read
    for logical, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for statement in _statements(resource):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            # Then no action has a wildcard
            assert all("*" not in action for action in actions), (logical, statement)
            # And only SMS publishing, with a condition, is on any resource
            if statement.get("Resource") == "*":
                assert actions == ["sns:Publish"] and statement.get("Condition"), (logical, statement)
            # And SMS goes only to phone numbers
            if "NotResource" in statement:   # SMS: everything but SNS ARNs, i.e. phone numbers only
                assert actions == ["sns:Publish"] and statement.get("Condition"), (logical, statement)
                assert statement["NotResource"] == {"Fn::Sub": "arn:${AWS::Partition}:sns:*:*:*"}


def test_daily_run_queries_the_due_index_and_never_scans(template: dict[str, Any]) -> None:
    # Given template.yaml; When the daily run's policy statements are read
    statements = {s["Sid"]: s for s in _statements(template["Resources"]["DailyRunFunction"])}
    # Then it queries the due index
    assert statements["QueryDueIndex"]["Action"] == "dynamodb:Query"
    assert statements["QueryDueIndex"]["Resource"] == {"Fn::Sub": "${Table.Arn}/index/due"}
    # And never scans nor batch-reads
    actions = [a for s in statements.values()
               for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
    assert "dynamodb:Scan" not in actions and "dynamodb:BatchGetItem" not in actions
    # And the approval sweep may only fail tasks of the escalation machine
    assert statements["ExpireApprovals"]["Resource"] == {"Ref": "EscalationStateMachine"}


def test_letters_bucket_is_private_encrypted_and_tls_only(template: dict[str, Any]) -> None:
    # Given template.yaml; When the letters bucket is read; Then it blocks public access, is encrypted and versioned
    props = template["Resources"]["LettersBucket"]["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert props["VersioningConfiguration"]["Status"] == "Enabled"
    # And its policy refuses plain HTTP
    (statement,) = template["Resources"]["LettersBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Condition"]["Bool"]["aws:SecureTransport"] == "false"


def test_layer_is_built_by_makefile_for_arm64(template: dict[str, Any]) -> None:
    # Given template.yaml; When the core layer is read; Then it is built by its Makefile for arm64
    layer = template["Resources"]["CoreLayer"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    # And the Makefile builds for manylinux aarch64
    makefile = (TEMPLATE.parent / layer["Properties"]["ContentUri"] / "Makefile").read_text()
    assert "build-CoreLayer:" in makefile and "manylinux2014_aarch64" in makefile


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_layer_makefile_finds_the_repository_from_a_scratch_directory(tmp_path: Path) -> None:
    # Given a scratch directory, as SAM runs `make -f <layers/relance/Makefile> build-CoreLayer` in one
    makefile = TEMPLATE.parent / "layers" / "relance" / "Makefile"
    artifacts = tmp_path / "artifacts"
    # When the layer's build is dry-run there
    dry_run = subprocess.run(
        ["make", "-n", "-f", str(makefile), "build-CoreLayer", f"ARTIFACTS_DIR={artifacts}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # Then it copies the policies and the letter templates from the repository
    root = TEMPLATE.parent
    assert f'cp -R "{root}/policies" "{artifacts}/policies"' in dry_run
    assert f'cp -R "{root}/letter_templates" "{artifacts}/letter_templates"' in dry_run
    # And it installs binary wheels into the artifacts
    assert f'--target "{artifacts}/python"' in dry_run and "--only-binary=:all:" in dry_run


def test_outputs(template: dict[str, Any]) -> None:
    # Given template.yaml; When its outputs are read; Then the table, queue, bucket and task topic are there
    assert {"TableName", "WorkQueueUrl", "LettersBucketName", "TaskTopicArn"} <= set(template["Outputs"])


def test_sam_translation_has_the_expected_resources(translated: dict[str, Any]) -> None:
    # Given the SAM translation; When its resource types are listed
    types = {resource["Type"] for resource in translated["Resources"].values()}
    # Then the functions, layer, schedule, event source, subscription and roles are there
    assert {
        "AWS::Lambda::Function",
        "AWS::Lambda::LayerVersion",
        "AWS::Scheduler::Schedule",
        "AWS::Lambda::EventSourceMapping",
        "AWS::SNS::Subscription",
        "AWS::IAM::Role",
    } <= types
    # And no Serverless resource is left
    assert not any(t.startswith("AWS::Serverless::") for t in types)


def test_cfn_lint_on_the_translation_finds_no_errors() -> None:
    # Given template.yaml; When cfn-lint checks its SAM translation; Then there is no error
    findings = lint(TEMPLATE)
    assert [str(f) for f in findings if f.is_error] == []


def test_cfn_lint_catches_errors_hidden_in_serverless_resources(tmp_path: Path) -> None:
    # Given a template with an unknown runtime and a wrong attribute inside Serverless resources
    broken = TEMPLATE.read_text().replace("Runtime: python3.13", "Runtime: python3.99", 1)
    broken = broken.replace("!GetAtt Table.Arn", "!GetAtt Table.Nope", 1)
    path = tmp_path / "template.yaml"
    path.write_text(broken)
    # When it is linted
    rules = {f.rule for f in lint(path) if f.is_error}
    # Then the lint command fails
    assert translate_main(["--lint", str(path)]) == 2
    # And both errors are found
    assert "E3030" in rules  # python3.99
    assert rules & {"E1010", "E1019", "E6101"}  # Table.Nope
