"""Least privilege on the SAM-translated template (what CloudFormation deploys), and the bucket's lock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from relance_dev.embedded import EmbeddedAws
from relance_dev.embedded.translate import translate

REPO = Path(__file__).resolve().parents[2]
# Actions that take no resource ARN (IAM requires "*"): X-Ray segments, CloudWatch metrics.
UNSCOPABLE = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
              "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries", "cloudwatch:PutMetricData"}


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    translated: dict[str, Any] = translate(REPO / "template.yaml")
    return translated["Resources"]


def _statements(resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for logical, resource in resources.items():
        if resource["Type"] == "AWS::IAM::Role":
            for policy in resource["Properties"].get("Policies", []):
                found += [(logical, s) for s in policy["PolicyDocument"]["Statement"]]
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            found += [(logical, s) for s in resource["Properties"]["PolicyDocument"]["Statement"]]
    return found


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_roles_exist_for_every_function(resources: dict[str, Any]) -> None:
    functions = [k for k, r in resources.items() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) >= 6
    assert len(_statements(resources)) > 10


def test_no_wildcard_action_in_any_statement(resources: dict[str, Any]) -> None:
    offending = [(logical, s) for logical, s in _statements(resources)
                 if s.get("Effect") == "Allow" and any("*" in str(a) for a in _list(s["Action"]))]
    assert not offending, offending


def test_no_star_resource_where_one_can_be_named(resources: dict[str, Any]) -> None:
    offending = []
    for logical, statement in _statements(resources):
        if statement.get("Effect") != "Allow" or "*" not in _list(statement.get("Resource")):
            continue
        actions = set(_list(statement["Action"]))
        if actions <= UNSCOPABLE:
            continue
        # The known exception: SMS go to phone numbers, which have no ARN; held to this Region by a condition.
        if actions == {"sns:Publish"} and statement.get("Condition"):
            continue
        offending.append((logical, statement))
    assert not offending, offending


def test_only_aws_managed_basics_are_attached(resources: dict[str, Any]) -> None:
    allowed = {"AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess", "AWSXRayDaemonWriteAccess",
               "AWSLambdaSQSQueueExecutionRole"}
    for logical, resource in resources.items():
        if resource["Type"] == "AWS::IAM::Role":
            for arn in resource["Properties"].get("ManagedPolicyArns", []) or []:
                assert str(arn).rsplit("/", 1)[-1] in allowed, (logical, arn)


def test_the_bucket_is_private_encrypted_and_tls_only_in_the_translation(resources: dict[str, Any]) -> None:
    bucket = resources["LettersBucket"]["Properties"]
    block = bucket["PublicAccessBlockConfiguration"]
    assert block == {"BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
                     "RestrictPublicBuckets": True}
    rules = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rules[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert "AccessControl" not in bucket or bucket["AccessControl"] == "Private"
    statements = resources["LettersBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert not [s for s in statements if s["Effect"] == "Allow" and s.get("Principal") in ("*", {"AWS": "*"})]
    assert any(s["Effect"] == "Deny" and s["Condition"]["Bool"]["aws:SecureTransport"] == "false"
               for s in statements)


def test_the_deployed_bucket_is_private_and_encrypted(embedded: EmbeddedAws) -> None:
    s3 = embedded.client("s3")
    bucket = embedded.resources["LettersBucket"]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()), block
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    assert not [g for g in grants if "AllUsers" in str(g) or "AuthenticatedUsers" in str(g)]
