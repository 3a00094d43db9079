"""The embedded AWS shared by the tests: emptied between two tests, redeployed when a test changed it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from relance_dev.embedded import moto_internals
from relance_dev.embedded.moto_internals import PatchError
from relance_dev.embedded.shared import SHARED, empty, fingerprint


def test_what_a_test_wrote_is_gone_for_the_next_one_and_the_resources_stay() -> None:
    # Given a shared deployment a test wrote into everywhere
    aws = SHARED.get()
    deployments = SHARED.deployments
    table, bucket = aws.resources["Table"], aws.resources["LettersBucket"]
    ddb, s3, sqs = aws.client("dynamodb"), aws.client("s3"), aws.client("sqs")
    ddb.put_item(TableName=table, Item={"pk": {"S": "CUST#C1"}, "sk": {"S": "PROFILE"}})
    s3.put_object(Bucket=bucket, Key="letters/a.pdf", Body=b"%PDF")
    s3.put_object(Bucket=bucket, Key="letters/a.pdf", Body=b"%PDF v2")           # a second version
    sqs.send_message(QueueUrl=aws.resources["WorkQueue"], MessageBody="{}")
    aws.client("sns").publish(TopicArn=aws.resources["TaskTopic"], Message="call C1")
    aws.client("sns").publish(PhoneNumber="+33612345678", Message="hello")
    aws.client("sesv2").send_email(
        FromEmailAddress=aws.parameters["SenderEmail"], Destination={"ToAddresses": ["a@b.example"]},
        Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}})
    sfn = aws.client("stepfunctions")
    machine = aws.resources["EscalationStateMachine"]
    sfn.start_execution(stateMachineArn=machine, name="case-1", input=json.dumps({"case_id": "case-1"}))
    assert sfn.list_executions(stateMachineArn=machine)["executions"]
    aws.extra_env = {"X": "1"}

    # When the next test asks for it
    again = SHARED.get()

    # Then it is the same deployment, emptied
    assert again is aws and SHARED.deployments == deployments
    assert ddb.scan(TableName=table)["Items"] == []
    assert s3.list_object_versions(Bucket=bucket).get("Versions", []) == []
    assert "Messages" not in sqs.receive_message(QueueUrl=aws.resources["WorkQueue"], WaitTimeSeconds=0)
    assert sfn.list_executions(stateMachineArn=machine)["executions"] == []
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends
    assert ses_backends[aws.account_id][aws.region].sent_messages == []
    sns = sns_backends[aws.account_id][aws.region]
    assert sns.topics[aws.resources["TaskTopic"]].sent_notifications == [] and not sns.sms_messages
    assert again.extra_env == {}
    assert ddb.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"]      # resources kept


def test_a_test_that_changes_the_infrastructure_gets_a_fresh_deployment_next() -> None:
    # Given a shared deployment whose queue a test reconfigured
    aws = SHARED.get()
    deployments = SHARED.deployments
    aws.client("sqs").set_queue_attributes(QueueUrl=aws.resources["WorkQueue"],
                                           Attributes={"VisibilityTimeout": "5"})
    # When the next test asks for it
    fresh = SHARED.get()
    # Then the deployment was thrown away and made again, with the template's configuration
    assert fresh is not aws and SHARED.deployments == deployments + 1
    attributes = fresh.client("sqs").get_queue_attributes(
        QueueUrl=fresh.resources["WorkQueue"], AttributeNames=["VisibilityTimeout"])["Attributes"]
    assert attributes["VisibilityTimeout"] != "5"


def test_a_task_still_running_when_the_test_ends_writes_before_the_next_test_is_emptied(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an execution whose first task (a handler, in moto's thread) is still running as the test ends
    aws = SHARED.get()
    table = aws.resources["Table"]
    entered, release = threading.Event(), threading.Event()

    def slow_task(logical_id: str) -> Callable[[Any, Any], Any]:
        def handler(event: Any, context: Any) -> Any:
            entered.set()
            release.wait(10)
            aws.client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "LATE"}, "sk": {"S": "WRITE"}})
            return {}
        return handler

    monkeypatch.setattr(aws, "handler", slow_task)
    aws.client("stepfunctions").start_execution(
        stateMachineArn=aws.resources["EscalationStateMachine"], name="late", input=json.dumps({"case_id": "late"}))
    assert entered.wait(10)
    threading.Timer(0.3, release.set).start()      # the task ends a moment after the next test started

    # When the next test asks for the deployment
    again = SHARED.get()

    # Then the late write landed before the emptying, not in the next test's data
    assert release.is_set()
    assert again.client("dynamodb").scan(TableName=table)["Items"] == []


def test_emptying_refuses_a_moto_it_was_not_written_for(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the shared deployment, on the pinned moto
    aws = SHARED.get()
    from moto.sqs.models import sqs_backends

    # When moto is not the pinned one, or a store emptying reads has moved
    monkeypatch.setattr(moto_internals, "PINNED_MOTO", "0.0.1")
    with pytest.raises(PatchError, match=r"emptying the shared embedded AWS .* moto 5\.2\.5 is installed"):
        empty(aws)
    with pytest.raises(PatchError, match="emptying"):
        fingerprint(aws)
    monkeypatch.undo()
    queue = next(iter(sqs_backends[aws.account_id][aws.region].queues.values()))
    monkeypatch.delattr(queue, "_messages")

    # Then emptying raises, naming the store, never a silent half-emptying
    with pytest.raises(PatchError, match="_messages"):
        empty(aws)
    monkeypatch.undo()
    empty(aws)
