"""AWS implementations of the small ports: SES, SNS (SMS and topics), S3, SQS, Step Functions, secrets.

Each adapter holds a boto3 client and translates the provider's "no for good" errors into
:class:`relance.ports.Refused`; throttling and network errors propagate (the caller's retry decides).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from relance.ports import Refused

_SES_REFUSALS = frozenset({"MessageRejected", "MailFromDomainNotVerifiedException", "AccountSuspendedException",
                           "SendingPausedException", "BadRequestException"})
_SMS_REFUSALS = frozenset({"InvalidParameter", "OptedOut", "InvalidParameterValue"})
_THROTTLING = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException",
                         "ProvisionedThroughputExceededException", "RequestLimitExceeded"})


def is_throttling(exc: BaseException) -> bool:
    """Whether an exception is AWS telling us to slow down (the SQS retry will come back later)."""
    return isinstance(exc, ClientError) and exc.response["Error"]["Code"] in _THROTTLING


@dataclass
class SesMailer:
    """:class:`relance.ports.Mailer` on SES v2 (raw MIME)."""

    ses: Any

    def send_raw(self, *, sender: str, to: str, reply_to: str, mime: bytes, tags: Mapping[str, str],
                 configuration_set: str | None = None) -> str:
        request: dict[str, Any] = {
            "FromEmailAddress": sender,
            "Destination": {"ToAddresses": [to]},
            "ReplyToAddresses": [reply_to],
            "Content": {"Raw": {"Data": mime}},
            "EmailTags": [{"Name": k, "Value": v} for k, v in tags.items()],
        }
        if configuration_set:
            request["ConfigurationSetName"] = configuration_set
        try:
            return str(self.ses.send_email(**request)["MessageId"])
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code in _SES_REFUSALS:
                raise Refused(code, f"email refused: {code}") from exc
            raise

    def send_simple(self, *, sender: str, to: str, subject: str, text: str, html: str,
                    configuration_set: str | None = None) -> str:
        kwargs: dict[str, Any] = {"ConfigurationSetName": configuration_set} if configuration_set else {}
        resp = self.ses.send_email(
            FromEmailAddress=sender, Destination={"ToAddresses": [to]},
            Content={"Simple": {"Subject": {"Data": subject[:200], "Charset": "UTF-8"},
                                "Body": {"Text": {"Data": text, "Charset": "UTF-8"},
                                         "Html": {"Data": html, "Charset": "UTF-8"}}}}, **kwargs)
        return str(resp["MessageId"])


@dataclass
class SnsSms:
    """:class:`relance.ports.Sms` on SNS (transactional, with a sender ID)."""

    sns: Any

    def send_sms(self, phone: str, text: str, sender_id: str) -> str:
        try:
            resp = self.sns.publish(PhoneNumber=phone, Message=text, MessageAttributes={
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
                "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": sender_id},
            })
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code in _SMS_REFUSALS:
                raise Refused(code, f"SMS refused: {code}") from exc
            raise
        return str(resp["MessageId"])


SNS_SUBJECT_MAX = 99
"""SNS takes subjects of fewer than 100 characters, on one line."""


def sns_subject(text: str) -> str:
    """``text`` as an SNS subject: one line, cut at a word with « … » when too long (never mid-word)."""
    line = " ".join(text.split())
    if len(line) <= SNS_SUBJECT_MAX:
        return line
    kept = textwrap.shorten(line, width=SNS_SUBJECT_MAX - 2, placeholder="")
    return (kept.rstrip(" ,;:–-") or line[:SNS_SUBJECT_MAX - 2]) + " …"


@dataclass
class SnsTopic:
    """:class:`relance.ports.Topic` on an SNS topic."""

    sns: Any
    topic_arn: str

    def publish(self, subject: str, message: str, attributes: Mapping[str, str] | None = None) -> str:
        request: dict[str, Any] = {"TopicArn": self.topic_arn, "Subject": sns_subject(subject), "Message": message}
        if attributes:
            request["MessageAttributes"] = {k: {"DataType": "String", "StringValue": v}
                                            for k, v in attributes.items()}
        return str(self.sns.publish(**request)["MessageId"])


@dataclass
class S3Files:
    """:class:`relance.ports.Files` on one S3 bucket (server-side encrypted)."""

    s3: Any
    bucket: str

    def put(self, key: str, body: bytes, content_type: str, metadata: Mapping[str, str] | None = None) -> None:
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "Body": body, "ContentType": content_type,
                                   "ServerSideEncryption": "AES256"}
        if metadata:
            request["Metadata"] = dict(metadata)
        self.s3.put_object(**request)

    def get(self, key: str) -> bytes | None:
        try:
            return bytes(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except self.s3.exceptions.NoSuchKey:
            return None

    def size(self, key: str) -> int:
        return int(self.s3.head_object(Bucket=self.bucket, Key=key).get("ContentLength", 0))

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key)


@dataclass
class SqsQueue:
    """:class:`relance.ports.Queue` on an SQS queue: batches of 10, failed entries retried."""

    sqs: Any
    queue_url: str

    def send_all(self, bodies: Sequence[str]) -> int:
        sent = 0
        for start in range(0, len(bodies), 10):
            batch = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start:start + 10])]
            pending = batch
            for _ in range(5):
                resp = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=pending)
                failed = {f["Id"] for f in resp.get("Failed", [])}
                pending = [e for e in pending if e["Id"] in failed]
                if not pending:
                    break
            else:
                raise RuntimeError(f"SQS refused {len(pending)} messages after retries")
            sent += len(batch)
        return sent


@dataclass
class StepFunctionsWorkflow:
    """:class:`relance.ports.Workflow` on one Step Functions state machine."""

    sfn: Any
    state_machine_arn: str = ""

    def start(self, name: str, payload: Mapping[str, Any]) -> str:
        try:
            resp = self.sfn.start_execution(stateMachineArn=self.state_machine_arn, name=name,
                                            input=json.dumps(payload))
            return str(resp["executionArn"])
        except self.sfn.exceptions.ExecutionAlreadyExists:   # the same case was started before: a no-op
            return f"{self.state_machine_arn.replace(':stateMachine:', ':execution:')}:{name}"

    def succeed(self, token: str, output: Mapping[str, Any]) -> bool:
        try:
            self.sfn.send_task_success(taskToken=token, output=json.dumps(output))
        except (self.sfn.exceptions.TaskTimedOut, self.sfn.exceptions.TaskDoesNotExist):
            return False
        return True

    def fail(self, token: str, error: str, cause: Mapping[str, Any]) -> bool:
        try:
            self.sfn.send_task_failure(taskToken=token, error=error, cause=json.dumps(cause))
        except (self.sfn.exceptions.TaskTimedOut, self.sfn.exceptions.TaskDoesNotExist,
                self.sfn.exceptions.InvalidToken):
            return False
        return True


@dataclass
class SecretsManagerSecrets:
    """:class:`relance.ports.Secrets` through Powertools parameters (cached ``max_age`` seconds)."""

    client: Any
    max_age: int = 300

    def secret(self, name: str) -> str:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        provider = _providers.get(id(self.client))
        if provider is None or provider[0] is not self.client:
            provider = _providers[id(self.client)] = (self.client, SecretsProvider(boto3_client=self.client))
        return str(provider[1].get(name, max_age=self.max_age))


_providers: dict[int, tuple[Any, Any]] = {}


def forget_secrets() -> None:
    """Drop cached secrets (a rotated secret, a new embedded AWS)."""
    for _, provider in _providers.values():
        provider.clear_cache()
    _providers.clear()
