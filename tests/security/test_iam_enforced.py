"""IAM enforced on the embedded AWS (issue 14, point 1): each handler runs with its own function's role.

The roles come from the SAM translation of template.yaml (relance_dev.embedded.iam); a denied call fails as AWS
fails it, and a season shows the consequence.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from relance import runtime
from relance_dev.embedded import EmbeddedAws, embedded_aws
from relance_dev.embedded.cfn import load_template
from relance_dev.embedded.iam import Statement, condition_holds, requests_for
from relance_dev.simulate import runner
from relance_dev.simulate.scenario import load_scenario

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "events"

# A short season that reaches the registered letter (formal notice: letter + email copy) for two customers
# (the third has no postal address: email only), with a policy ladder shortened to two steps.
POLICY = """
name: standard
description: Two steps, to reach the registered letter in a week
timezone: Europe/Paris
calendar: {country: FR, skip_weekends: true, skip_holidays: true}
min_gap_days: 5
min_balance: "10.00"
steps:
  - {id: due, at: due+0d, channels: [email], template: due}
  - {id: formal_notice, at: due+5d, channels: [letter, email], template: formal_notice}
"""
SEASON = """
start: 2026-04-29
end: 2026-05-06
policy: {policy}
company: {{name: Menuiserie Exemple SAS, email: compta@menuiserie.example}}
customers:
  - {{id: C1, name: Boulangerie Exemple SARL, kind: b2b, email: compta@boulangerie.example,
     address: "4 rue des Lilas, 69003 Lyon"}}
  - {{id: C2, name: Garage Martin, kind: b2b, email: garage@martin.example,
     address: "2 avenue Foch, 75016 Paris"}}
  - {{id: C3, name: Atelier Lefèvre, kind: b2b, email: contact@lefevre.example}}
invoices:
  - {{id: A1, customer: C1, issued: 2026-03-30, due: 2026-04-29, amount: "1800.00"}}
  - {{id: B1, customer: C2, issued: 2026-03-30, due: 2026-04-29, amount: "950.00"}}
  - {{id: C1-1, customer: C3, issued: 2026-03-30, due: 2026-04-29, amount: "400.00"}}
"""


# ---------------------------------------------------------------------- the evaluator
def test_statement_matching_follows_iam() -> None:
    allow = Statement.parse({"Effect": "Allow", "Action": ["s3:PutObject"],
                             "Resource": "arn:aws:s3:::bucket/letters/*"})
    put = requests_for("s3", "PutObject", {"Bucket": "bucket", "Key": "letters/2026/a.pdf"}, "eu-west-3", "1")
    elsewhere = requests_for("s3", "PutObject", {"Bucket": "bucket", "Key": "print-queue/a.json"}, "eu-west-3", "1")
    head = requests_for("s3", "HeadObject", {"Bucket": "bucket", "Key": "letters/a.pdf"}, "eu-west-3", "1")
    assert allow.applies(put[0]) and not allow.applies(elsewhere[0])
    assert head[0].action == "s3:GetObject"
    # actions are case-insensitive, resources are not
    assert Statement.parse({"Effect": "Allow", "Action": "S3:putobject", "Resource": "*"}).applies(put[0])
    assert not Statement.parse({"Effect": "Allow", "Action": "s3:*",
                                "Resource": "arn:aws:s3:::BUCKET/*"}).applies(put[0])


def test_transactions_are_authorized_item_by_item() -> None:
    items = [{"Put": {"TableName": "t"}}, {"Delete": {"TableName": "t"}}, {"ConditionCheck": {"TableName": "t"}}]
    needs = requests_for("dynamodb", "TransactWriteItems", {"TransactItems": items}, "eu-west-3", "1")
    assert [n.action for n in needs] == ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"]
    assert {n.resource for n in needs} == {"arn:aws:dynamodb:eu-west-3:1:table/t"}


def test_conditions_missing_keys_and_negations() -> None:
    context = {"ses:FromAddress": "a@b.example"}
    assert condition_holds("StringEquals", "ses:FromAddress", "a@b.example", context)
    assert not condition_holds("StringEquals", "ses:FromAddress", "x@b.example", context)
    assert not condition_holds("StringEquals", "aws:SourceVpc", "vpc-1", context)       # key absent
    assert condition_holds("StringEqualsIfExists", "aws:SourceVpc", "vpc-1", context)
    assert condition_holds("StringNotEquals", "aws:SourceVpc", "vpc-1", context)
    assert condition_holds("Null", "aws:SourceVpc", "true", context)
    assert condition_holds("StringLike", "ses:FromAddress", "*@b.example", context)


# ---------------------------------------------------------------------- the embedded AWS
def test_enforcement_is_on_by_default_and_off_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RELANCE_IAM", raising=False)
    with embedded_aws() as aws:
        assert aws.iam is not None
        assert set(aws.iam.roles) == set(aws.functions)
    monkeypatch.setenv("RELANCE_IAM", "off")
    with embedded_aws() as aws:
        assert aws.iam is None


def test_a_call_outside_the_role_is_denied_like_aws(embedded: EmbeddedAws) -> None:
    runtime.reset_clients()
    bucket, table = embedded.resources["LettersBucket"], embedded.resources["Table"]
    s3, ddb = runtime.client("s3"), runtime.client("dynamodb")
    principal = embedded.iam.roles["WeeklyDigestFunction"].principal
    with embedded.iam.acting_as("WeeklyDigestFunction"):
        with pytest.raises(ClientError) as denied:
            s3.put_object(Bucket=bucket, Key="letters/x.pdf", Body=b"%PDF")
        with pytest.raises(ClientError) as denied_ddb:
            ddb.delete_item(TableName=table, Key={"pk": {"S": "C#1"}, "sk": {"S": "PROFILE"}})
        ddb.get_item(TableName=table, Key={"pk": {"S": "C#1"}, "sk": {"S": "PROFILE"}})   # in its role
    error = denied.value.response
    assert error["Error"]["Code"] == "AccessDenied" and error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Error"]["Message"] == (
        f"User: {principal} is not authorized to perform: s3:PutObject on resource: "
        f"arn:aws:s3:::{bucket}/letters/x.pdf because no identity-based policy allows the s3:PutObject action")
    assert denied_ddb.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "dynamodb:DeleteItem" in denied_ddb.value.response["Error"]["Message"]
    # Nothing was written; outside a handler (set-up, checks) calls are not checked.
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    assert [d.action for d in embedded.iam.denied] == ["s3:PutObject", "dynamodb:DeleteItem"]


def test_dispatch_may_send_sms_but_publish_only_to_the_task_topic(embedded: EmbeddedAws) -> None:
    runtime.reset_clients()
    sns = runtime.client("sns")
    with embedded.iam.acting_as("DispatchFunction"):
        sns.publish(PhoneNumber="+33612345678", Message="Rappel")
        sns.publish(TopicArn=embedded.resources["TaskTopic"], Message="Tâche")
        with pytest.raises(sns.exceptions.AuthorizationErrorException):
            sns.publish(TopicArn=embedded.resources["AlarmTopic"], Message="not its topic")


def test_a_bounce_is_recorded_by_the_ses_events_role(embedded: EmbeddedAws) -> None:
    """SesEvents reads the customer and writes the history: GetItem and PutItem are in its role."""
    runtime.reset_clients()
    from relance_dev.simulate.driver import SeasonDriver

    driver = SeasonDriver(embedded)
    ledger = driver.ledger()
    _seed_customer(ledger)
    event = json.loads((EVENTS / "ses-bounce.json").read_text(encoding="utf-8"))
    result = embedded.invoke("SesEventsFunction", event)
    assert result == {"marked": 1}
    assert not embedded.iam.denied
    assert driver.store().get_customer_raw("C1").get("email_bounced") is True


def _seed_customer(ledger: Any) -> None:
    ledger.upsert_customer({"id": "C1", "name": "Boulangerie Exemple SARL", "kind": "b2b",
                            "email": "compta@boulangerie.example"})
    ledger.create_invoice({"id": "A1", "customer": "C1", "issued": "2026-03-17", "due": "2026-04-16",
                           "amount": "1800.00"}, dt.date(2026, 3, 30))


# ---------------------------------------------------------------------- a season, with and without a right
def _template_without_letters_put(tmp: Path) -> Path:
    """A copy of template.yaml whose DispatchFunction may not s3:PutObject (next to links to the code)."""
    template = load_template(REPO / "template.yaml")
    policies = template["Resources"]["DispatchFunction"]["Properties"]["Policies"]
    for policy in policies:
        policy["Statement"] = [s for s in policy["Statement"]
                               if "s3:PutObject" not in json.dumps(s.get("Action"))]
    for name in ("functions", "layers", "statemachines", "policies", "letter_templates"):
        (tmp / name).symlink_to(REPO / name)
    path = tmp / "template.yaml"
    path.write_text(json.dumps(template, indent=1), encoding="utf-8")
    return path


def _season(tmp: Path, template: Path | None, monkeypatch: pytest.MonkeyPatch) -> tuple[list[dict[str, Any]], Any]:
    scenario_path = tmp / "season.yaml"
    (tmp / "standard.yaml").write_text(POLICY, encoding="utf-8")
    scenario_path.write_text(SEASON.format(policy=tmp / "standard.yaml"), encoding="utf-8")
    if template is not None:
        monkeypatch.setattr(runner, "embedded_aws", functools.partial(embedded_aws, template_path=template))
    result = runner.run_season(load_scenario(scenario_path), tmp / "out")
    lines = [json.loads(line) for line in (tmp / "out" / "log.jsonl").read_text(encoding="utf-8").splitlines()]
    return lines, result


def _sent(lines: list[dict[str, Any]]) -> Counter[str]:
    """Messages to the customers and the team, by channel; the daily batch of letters to post (a team task the
    day after the letters, through the daily run's own role) is counted apart."""
    return Counter(line["channel"] for line in lines
                   if line.get("kind") == "sent" and line.get("step") != "letters_to_post")


def test_a_season_sends_its_registered_letters_with_iam_enforced(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    lines, _ = _season(tmp_path, None, monkeypatch)
    sent = _sent(lines)
    assert sent == {"letter": 2, "email": 6}, sent
    assert not [line for line in lines if line.get("kind") == "flagged"]
    assert list((tmp_path / "out" / "sent").glob("*-letter.pdf"))


def test_without_s3_put_no_letter_each_failure_reported_emails_still_sent(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    template = _template_without_letters_put(tmp_path)
    lines, _ = _season(tmp_path, template, monkeypatch)
    sent = _sent(lines)
    assert sent["letter"] == 0, sent
    assert not list((tmp_path / "out" / "sent").glob("*-letter.pdf"))
    # the emails still go, the formal notice's email copy included
    notices = {line["customer"] for line in lines
               if line.get("kind") == "sent" and line["channel"] == "email" and line["step"] == "formal_notice"}
    assert notices == {"C1", "C2", "C3"}, lines
    assert sent["email"] == 6, sent
    # each refused letter is reported: flagged for the team (with a task), and logged as an error
    flagged = {line["customer"]: line for line in lines if line.get("kind") == "flagged"}
    assert set(flagged) == {"C1", "C2"}, lines
    assert all("AccessDenied (s3:PutObject)" in line["reason"] for line in flagged.values())
    assert sent["task"] == 2, sent
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"].count("send failed") == 2


def test_a_factur_x_invoice_is_imported_then_reminded_with_its_pdf(embedded: EmbeddedAws) -> None:
    """ImportFunction keeps the PDF under invoices/; Dispatch reads it back to attach it (s3:GetObject)."""
    import sys
    from email import message_from_string

    from moto.ses.models import ses_backends

    from relance_dev.simulate.driver import SeasonDriver

    sys.path.insert(0, str(REPO / "tests" / "unit"))
    from test_facturx import facturx_pdf

    runtime.reset_clients()
    bucket, key, pdf = embedded.resources["LettersBucket"], "imports/F-2026-001.pdf", facturx_pdf()
    embedded.client("s3").put_object(Bucket=bucket, Key=key, Body=pdf)
    event = json.loads((EVENTS / "s3-import.json").read_text(encoding="utf-8"))
    event["detail"]["bucket"]["name"], event["detail"]["object"]["key"] = bucket, key
    embedded.invoke("ImportFunction", event)
    driver = SeasonDriver(embedded)
    record = driver.ledger().invoice("F-2026-001")
    assert record.attachment_key == "invoices/F-2026-001.pdf"
    ses = ses_backends[embedded.account_id][embedded.region]
    assert record.next_action is not None
    for offset in range(4):        # the first step due (weekends skipped)
        driver.run_day(record.next_action + dt.timedelta(days=offset))
        if ses.sent_messages:
            break
    assert not embedded.iam.denied, embedded.iam.denied
    attached = [part.get_payload(decode=True) for message in ses.sent_messages
                if type(message).__name__ == "RawMessage"
                for part in message_from_string(message.raw_data).walk()
                if part.get_content_type() == "application/pdf"]
    assert pdf in attached


def test_api_routes_and_the_weekly_digest_run_within_their_roles(embedded: EmbeddedAws) -> None:
    runtime.reset_clients()
    statuses = []
    for name in ("create-customer", "create-invoice", "get-invoice", "payment", "dispute", "lifecycle"):
        event = json.loads((EVENTS / f"api-{name}.json").read_text(encoding="utf-8"))
        statuses.append((name, embedded.invoke("ApiFunction", event)["statusCode"]))
    assert all(code < 300 for _, code in statuses), statuses
    event = json.loads((EVENTS / "scheduled-daily.json").read_text(encoding="utf-8"))
    embedded.invoke("WeeklyDigestFunction", event)
    assert not embedded.iam.denied, embedded.iam.denied
