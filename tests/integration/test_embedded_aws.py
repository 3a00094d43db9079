"""The embedded AWS: template.yaml deployed into moto, handlers run in-process."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from relance.errors import RelanceError
from relance_dev.embedded import EmbeddedAws, check_function_env, embedded_aws

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def _wait(sfn: Any, execution_arn: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.05)


# --------------------------------------------------------------------------- the real template
def test_table_has_due_index_and_ttl(embedded: EmbeddedAws) -> None:
    # Given the template deployed into moto; When its table is described
    ddb = boto3.client("dynamodb")
    table = ddb.describe_table(TableName=embedded.resources["Table"])["Table"]
    # Then it has its keys and the keys-only due index
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"pk": "HASH", "sk": "RANGE"}
    (gsi,) = table["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "due"
    assert {k["AttributeName"]: k["KeyType"] for k in gsi["KeySchema"]} == {
        "due_pk": "HASH",
        "due_sk": "RANGE",
    }
    assert gsi["Projection"]["ProjectionType"] == "KEYS_ONLY"
    # And it is on-demand and protected from deletion
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["DeletionProtectionEnabled"] is True
    # And its TTL and point-in-time recovery are on
    ttl = ddb.describe_time_to_live(TableName=embedded.resources["Table"])["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    backups = ddb.describe_continuous_backups(TableName=embedded.resources["Table"])
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"


def test_work_queue_redrives_to_the_dead_letter_queue(embedded: EmbeddedAws) -> None:
    # Given the deployed work queue; When its attributes are read
    sqs = boto3.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=embedded.resources["WorkQueue"], AttributeNames=["All"])[
        "Attributes"
    ]
    # Then it redrives to the dead-letter queue after three receives
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == embedded.attr("DeadLetterQueue", "Arn")
    assert int(redrive["maxReceiveCount"]) == 3
    # And a message stays invisible for six dispatch timeouts
    assert int(attributes["VisibilityTimeout"]) == 360
    # And the dead-letter queue keeps messages 14 days
    dlq = sqs.get_queue_attributes(
        QueueUrl=embedded.resources["DeadLetterQueue"], AttributeNames=["MessageRetentionPeriod"]
    )
    assert dlq["Attributes"]["MessageRetentionPeriod"] == "1209600"


def test_letters_bucket_is_encrypted_and_private(embedded: EmbeddedAws) -> None:
    # Given the template deployed into moto; When its letters bucket is read
    s3 = boto3.client("s3")
    bucket = embedded.resources["LettersBucket"]
    # Then it is encrypted
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # And blocks every kind of public access
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    # And is versioned
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    # The TLS-only statement stays in template.yaml (test_template checks it); in-process moto calls have no
    # transport, so the embedded bucket leaves it out instead of refusing every write.
    # And it has no bucket policy
    with pytest.raises(ClientError):
        s3.get_bucket_policy(Bucket=bucket)


def test_topics_ses_configuration_and_verified_sender(embedded: EmbeddedAws) -> None:
    # Given the template deployed into moto; When its topics are read; Then each exists
    sns = boto3.client("sns")
    for logical in ("TaskTopic", "AlarmTopic", "SesEventsTopic"):
        sns.get_topic_attributes(TopicArn=embedded.resources[logical])
    # And the SES configuration set sends bounces, complaints, deliveries and rejects to its topic
    ses = boto3.client("ses")
    described = ses.describe_configuration_set(
        ConfigurationSetName=embedded.resources["SesConfigurationSet"],
        ConfigurationSetAttributeNames=["eventDestinations"],
    )
    (destination,) = described["EventDestinations"]
    assert destination["SNSDestination"]["TopicARN"] == embedded.resources["SesEventsTopic"]
    assert set(destination["MatchingEventTypes"]) == {"bounce", "complaint", "delivery", "reject"}
    # And the sender is a verified identity
    assert embedded.parameters["SenderEmail"] in ses.list_identities()["Identities"]


def test_sender_can_send_through_the_configuration_set(embedded: EmbeddedAws) -> None:
    # Given the dispatch function's environment
    env = embedded.function_env("DispatchFunction")
    # When an email is sent from its sender through its configuration set; Then SES accepts it
    boto3.client("sesv2").send_email(
        FromEmailAddress=env["SENDER_EMAIL"],
        Destination={"ToAddresses": ["client@exemple.example"]},
        Content={"Simple": {"Subject": {"Data": "Relance"}, "Body": {"Text": {"Data": "Bonjour"}}}},
        ConfigurationSetName=env["SES_CONFIGURATION_SET"],
    )


def test_functions_are_created_with_layer_and_arm64(embedded: EmbeddedAws) -> None:
    # Given the deployed functions; When their configurations are read
    lam = boto3.client("lambda")
    for logical in ("DailyRunFunction", "DispatchFunction", "SesEventsFunction"):
        config = lam.get_function_configuration(FunctionName=embedded.resources[logical])
        # Then each runs Python 3.13 on arm64 with the layer and its environment
        assert config["Runtime"] == "python3.13"
        assert config["Architectures"] == ["arm64"]
        assert [layer["Arn"] for layer in config["Layers"]] == [embedded.resources["CoreLayer"]]
        assert config["Environment"]["Variables"] == embedded.function_env(logical)
    # And the dispatch function has its reserved concurrency
    concurrency = lam.get_function_concurrency(FunctionName=embedded.resources["DispatchFunction"])
    assert concurrency["ReservedConcurrentExecutions"] == 5


def test_function_env_resolves_to_existing_resources(embedded: EmbeddedAws) -> None:
    # Given the template deployed into moto; When the functions' environments are read
    daily = embedded.function_env("DailyRunFunction")
    # Then the daily run has the queue and one shard
    assert daily["QUEUE_URL"] == embedded.resources["WorkQueue"]
    assert daily["DUE_SHARDS"] == "1"
    dispatch = embedded.function_env("DispatchFunction")
    # And the dispatch function's table, topic and queue exist
    boto3.client("dynamodb").describe_table(TableName=dispatch["TABLE_NAME"])
    boto3.client("sns").get_topic_attributes(TopicArn=dispatch["TASK_TOPIC_ARN"])
    boto3.client("sqs").get_queue_attributes(QueueUrl=daily["QUEUE_URL"])
    # And the pointers match the stack's outputs
    assert dispatch["LETTERS_BUCKET"] == embedded.outputs["LettersBucketName"]
    assert embedded.function_env("SesEventsFunction")["TABLE_NAME"] == embedded.outputs["TableName"]
    # And the environment check finds no problem
    assert check_function_env(embedded) == []


def test_outputs_and_skipped_are_reported(embedded: EmbeddedAws) -> None:
    # Given the template deployed into moto; When its outputs are read; Then they are the resources
    assert embedded.outputs["TaskTopicArn"] == embedded.resources["TaskTopic"]
    # And the resources it does not create are reported as skipped
    assert "SesEventsTopicPolicy" in embedded.skipped
    assert "DispatchFunction.Events.Work" in embedded.skipped


def test_parameters_are_overridable_and_validated() -> None:
    # Given parameters overriding the shard count and the SMS sender; When deployed
    with embedded_aws({"DueShards": "3", "SmsSenderId": "MENUISERIE"}) as aws:
        # Then the functions get them
        env = aws.function_env("DispatchFunction")
        assert env["DUE_SHARDS"] == "3" and env["SMS_SENDER_ID"] == "MENUISERIE"
    # And a SIREN too short is refused, naming the parameter
    with pytest.raises(RelanceError, match="parameter CompanySiren"), embedded_aws({"CompanySiren": "12"}):
        pass


def test_broken_env_pointers_are_detected(tmp_path: Path) -> None:
    # Given a template whose functions point at a queue, a topic, a table and a folder that do not exist
    broken = TEMPLATE.read_text()
    broken = broken.replace(
        "QUEUE_URL: !Ref WorkQueue",
        'QUEUE_URL: !Sub "https://sqs.${AWS::Region}.amazonaws.com/${AWS::AccountId}/no-such-queue"',
    )
    broken = broken.replace(
        "TASK_TOPIC_ARN: !Ref TaskTopic",
        'TASK_TOPIC_ARN: !Sub "arn:aws:sns:${AWS::Region}:${AWS::AccountId}:no-such-topic"',
    )
    broken = broken.replace("TABLE_NAME: !Ref Table", "TABLE_NAME: no-such-table")
    broken = broken.replace(
        "RELANCE_TEMPLATES_DIR: /opt/letter_templates", "RELANCE_TEMPLATES_DIR: /opt/nowhere"
    )
    path = tmp_path / "template.yaml"
    path.write_text(broken)
    shutil.copytree(TEMPLATE.parent / "statemachines", tmp_path / "statemachines")  # DefinitionUri
    # When it is deployed and its environments checked
    with embedded_aws(template_path=path) as aws:
        problems = check_function_env(aws)
        functions = len(aws.functions)
    # Then each wrong pointer is reported, the table once per function
    text = "\n".join(problems)
    assert "DailyRunFunction: QUEUE_URL=" in text
    assert "DispatchFunction: TASK_TOPIC_ARN=" in text
    assert sum("TABLE_NAME='no-such-table'" in p for p in problems) == functions
    assert "RELANCE_TEMPLATES_DIR='/opt/nowhere'" in text
    # And a function without a queue is not reported for it
    assert "SesEventsFunction: QUEUE_URL" not in text


# --------------------------------------------------------------------------- a tiny template
TINY_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting:
    Type: String
    Default: bonjour
Conditions:
  WithSecret: !Equals [!Ref Greeting, bonjour]
Globals:
  Function:
    Runtime: python3.13
    Handler: app.lambda_handler
    Timeout: 10
    Environment:
      Variables:
        GREETING: !Ref Greeting
        RELANCE_POLICIES_DIR: /opt/policies
Resources:
  Cases:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/echo
      MemorySize: 256
      Environment:
        Variables:
          CASES_TABLE: !Ref Cases
          SIGNING_SECRET_ARN: !If [WithSecret, !Ref Signing, !Ref AWS::NoValue]
      Policies:              # IAM is enforced on the embedded AWS: the handler writes the case
        - DynamoDBWritePolicy:
            TableName: !Ref Cases
  Signing:
    Type: AWS::SecretsManager::Secret
    Condition: WithSecret
    Properties:
      GenerateSecretString:
        SecretStringTemplate: '{"kid": "1"}'
        GenerateStringKey: key
        PasswordLength: 48
        ExcludePunctuation: true
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: machine.asl.json
      DefinitionSubstitutions:
        EchoArn: !GetAtt Echo.Arn
        CasesTable: !Ref Cases
        ApprovalUrl: !Sub "https://${Api}.execute-api.${AWS::Region}.amazonaws.com/v1"
"""

ECHO_HANDLER = """\
import os

import boto3


def lambda_handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    boto3.client("dynamodb").put_item(
        TableName=os.environ["CASES_TABLE"], Item={"pk": {"S": event.get("case", "none")}}
    )
    return {
        "greeting": os.environ["GREETING"],
        "event": event,
        "function_name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "remaining_ok": 0 < context.get_remaining_time_in_millis() <= 10_000,
        "policies_dir": os.environ["RELANCE_POLICIES_DIR"],
    }
"""

MACHINE = {
    "StartAt": "Echo",
    "States": {
        "Echo": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {
                "FunctionName": "${EchoArn}",
                "Payload": {"case.$": "$.case", "fail.$": "$.fail", "execution.$": "$$.Execution.Name"},
            },
            "ResultSelector": {"result.$": "$.Payload"},
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
            "End": True,
        },
        "Failed": {
            "Type": "Pass",
            "Parameters": {"table": "${CasesTable}", "url": "${ApprovalUrl}"},
            "End": True,
        },
    },
}


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    (tmp_path / "fn" / "echo").mkdir(parents=True)
    (tmp_path / "fn" / "echo" / "app.py").write_text(ECHO_HANDLER)
    (tmp_path / "machine.asl.json").write_text(json.dumps(MACHINE))
    path = tmp_path / "template.yaml"
    path.write_text(TINY_TEMPLATE)
    return path


def test_invoke_runs_the_handler_with_env_and_context(tiny: Path) -> None:
    # Given a tiny template deployed, its function with a table, a secret, an API and a state machine
    with embedded_aws(template_path=tiny, in_process=False) as aws:
        # When its function is invoked
        result = aws.invoke("Echo", {"case": "C1"})
        # Then the handler ran with the template's environment and Lambda's context
        assert result["greeting"] == "bonjour"
        assert result["function_name"] == aws.resources["Echo"]
        assert result["memory"] == 256 and result["remaining_ok"]
        # And its local policies folder, not /opt
        assert result["policies_dir"].endswith("/policies") and not result["policies_dir"].startswith("/opt")
        # And it wrote into the table under its role
        item = boto3.client("dynamodb").get_item(TableName=aws.resources["Cases"], Key={"pk": {"S": "C1"}})
        assert "Item" in item
        # And the function's environment did not leak into the test's
        assert "GREETING" not in __import__("os").environ
        # And a handler's exception reaches the caller
        with pytest.raises(ValueError, match="asked to fail"):
            aws.invoke("Echo", {"fail": True})


def test_conditions_secrets_and_placeholders(tiny: Path) -> None:
    # Given the tiny template deployed with its condition true
    with embedded_aws(template_path=tiny, in_process=False) as aws:
        # Then the generated secret has its template and a generated key
        secret = boto3.client("secretsmanager").get_secret_value(SecretId=aws.resources["Signing"])
        value = json.loads(secret["SecretString"])
        assert value["kid"] == "1" and len(value["key"]) == 48 and value["key"].isalnum()
        # And the function gets its ARN
        assert aws.function_env("Echo")["SIGNING_SECRET_ARN"] == aws.resources["Signing"]
        # And the API is skipped, not created
        assert "Api" in aws.skipped and "Api" not in aws.resources
    # When deployed with the condition false
    with embedded_aws({"Greeting": "salut"}, template_path=tiny, in_process=False) as aws:
        # Then the secret is skipped and the function has no pointer to it
        assert "Signing" in aws.skipped
        assert "SIGNING_SECRET_ARN" not in aws.function_env("Echo")


def test_state_machine_lambda_task_runs_the_real_handler(tiny: Path) -> None:
    # Given the tiny template deployed with in-process Lambdas
    with embedded_aws(template_path=tiny) as aws:
        # When an execution of its state machine starts
        sfn = boto3.client("stepfunctions")
        execution = sfn.start_execution(
            stateMachineArn=aws.resources["Machine"],
            name="case-C7",
            input=json.dumps({"case": "C7", "fail": False}),
        )
        # Then it succeeds with the handler's result
        described = _wait(sfn, execution["executionArn"])
        assert described["status"] == "SUCCEEDED", described
        result = json.loads(described["output"])["result"]
        assert result["greeting"] == "bonjour"
        # And the payload had the execution's name from the context object
        assert result["event"] == {"case": "C7", "fail": False, "execution": "case-C7"}  # $$ survived
        # And the handler wrote into the table
        item = boto3.client("dynamodb").get_item(TableName=aws.resources["Cases"], Key={"pk": {"S": "C7"}})
        assert "Item" in item


def test_state_machine_sees_handler_errors_and_substitutions(tiny: Path) -> None:
    # Given the tiny template deployed with in-process Lambdas
    with embedded_aws(template_path=tiny) as aws:
        # When an execution asks the handler to fail
        sfn = boto3.client("stepfunctions")
        execution = sfn.start_execution(
            stateMachineArn=aws.resources["Machine"],
            name="case-C8",
            input=json.dumps({"case": "C8", "fail": True}),
        )
        # Then the machine catches it and succeeds
        described = _wait(sfn, execution["executionArn"])
        assert described["status"] == "SUCCEEDED", described
        # And the substitutions gave the table and the API's URL
        output = json.loads(described["output"])
        assert output["table"] == aws.resources["Cases"]
        assert (
            output["url"].startswith("https://")
            and ".execute-api.eu-west-3.amazonaws.com/v1" in output["url"]
        )
        # And the history has the task's failure with its cause
        history = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
        failed = [e for e in history if e["type"] == "TaskFailed"]
        assert failed and "asked to fail" in failed[0]["taskFailedEventDetails"]["cause"]


def test_boto3_lambda_invoke_runs_the_handler_in_process(tiny: Path) -> None:
    # Given the tiny template deployed with in-process Lambdas
    with embedded_aws(template_path=tiny) as aws:
        # When the function is invoked through boto3
        lam = boto3.client("lambda")
        response = lam.invoke(FunctionName=aws.resources["Echo"], Payload=json.dumps({"case": "C9"}))
        # Then the handler's result comes back
        assert json.loads(response["Payload"].read())["event"] == {"case": "C9"}
        # When the handler raises
        response = lam.invoke(FunctionName=aws.resources["Echo"], Payload=json.dumps({"fail": True}))
        # Then the reply is an unhandled ValueError
        assert response["FunctionError"] == "Unhandled"
        assert json.loads(response["Payload"].read())["errorType"] == "ValueError"


def test_outside_in_process_lambdas_moto_echoes(tiny: Path) -> None:
    # Given the tiny template deployed without in-process Lambdas
    with embedded_aws(template_path=tiny, in_process=False) as aws:
        # When the function is invoked through boto3; Then moto echoes the payload
        response = boto3.client("lambda").invoke(FunctionName=aws.resources["Echo"], Payload=b'{"x": 1}')
        assert json.loads(response["Payload"].read()) == {"x": 1}


def test_missing_handler_module_is_a_clear_error(tiny: Path) -> None:
    # Given the tiny template without its handler's module
    (tiny.parent / "fn" / "echo" / "app.py").unlink()
    # When the function is invoked; Then the error names the handler
    with (
        embedded_aws(template_path=tiny, in_process=False) as aws,
        pytest.raises(RelanceError, match="handler"),
    ):
        aws.invoke("Echo", {})
