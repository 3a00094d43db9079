"""Helpers shared by the escalation and approval tests (no tests here): seed a case, read what AWS received."""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import json
import re
import time
from collections.abc import Callable, Iterator
from email.message import Message
from typing import Any
from zoneinfo import ZoneInfo

from relance import runtime
from relance.escalation import approvals, partners
from relance.escalation.services import Services
from relance.settings import Settings
from relance.store import SentStep
from relance_dev.embedded import EmbeddedAws
from relance_dev.inputs import api_event, person_form

RUN = dt.date(2026, 6, 5)          # handoff date of an invoice due 2026-04-16 (policies/standard.yaml)
DUE = dt.date(2026, 4, 16)
APPROVER = "direction@menuiserie.example"
PRIOR_STEPS = (("courtesy", "2026-04-09", ("email",)), ("due", "2026-04-16", ("email",)),
               ("call", "2026-04-23", ("email", "task")), ("firm", "2026-05-04", ("email", "sms")),
               ("formal_notice", "2026-05-18", ("letter", "email")), ("final_notice", "2026-05-26", ("email",)))
PARIS = ZoneInfo("Europe/Paris")


@contextlib.contextmanager
def function_env(aws: EmbeddedAws, logical: str = "EscalationFunction") -> Iterator[Services]:
    """The escalation services with the settings ``logical`` gets once deployed.

    os.environ is left alone: executions run handlers in a background thread that sets it per invocation.
    """
    yield Services.from_settings(Settings.from_env(aws.local_env(logical)))


def fresh(aws: EmbeddedAws) -> None:
    """Forget what a previous embedded AWS left in process caches."""
    runtime.reset_clients()
    approvals.forget_keys()
    partners.RECORDED.requests.clear()


def seed(aws: EmbeddedAws, customer: str = "C1", invoices: dict[str, str] | None = None, kind: str = "b2b",
         name: str = "Boulangerie Exemple SARL") -> None:
    """A customer whose invoices went through every amicable step: the next action is the handoff on RUN."""
    invoices = invoices or {"A1": "1800.00"}
    with function_env(aws, "DispatchFunction") as services:
        ledger = services.ledger
        ledger.upsert_customer({"id": customer, "name": name, "kind": kind, "email": "compta@boulangerie.example",
                                "phone": "+33612345678", "address": "4 rue des Lilas, 69003 Lyon"})
        for invoice_id, amount in invoices.items():
            ledger.create_invoice({"id": invoice_id, "customer": customer, "issued": "2026-03-17",
                                   "due": DUE.isoformat(), "amount": amount}, dt.date(2026, 3, 17))
            record = ledger.invoice(invoice_id)
            sent = tuple(SentStep(step, dt.date.fromisoformat(day), channels) for step, day, channels in PRIOR_STEPS)
            events = [(dt.date.fromisoformat(day), "sent",
                       {"step": step, "channel": channels[0], "message_id": f"msg-{step}",
                        **({"key": f"letters/{day}/{customer}/{step}-{invoice_id}.pdf"} if "letter" in channels
                           else {})})
                      for step, day, channels in PRIOR_STEPS]
            services.store.update_invoice_state(record, changes={"sent": sent}, next_action=RUN, events=events)


def sqs_event(customer: str, day: dt.date) -> dict[str, Any]:
    return {"Records": [{"messageId": f"m-{customer}-{day}", "receiptHandle": "r", "body": json.dumps(
        {"customer": customer, "run_date": day.isoformat()}), "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-3:123456789012:q", "awsRegion": "eu-west-3"}]}


def dispatch(aws: EmbeddedAws, customer: str = "C1", day: dt.date = RUN) -> Any:
    return aws.invoke("DispatchFunction", sqs_event(customer, day))


def wait_for(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def executions(aws: EmbeddedAws) -> list[dict[str, Any]]:
    sfn = aws.client("stepfunctions")
    found: list[dict[str, Any]] = sfn.list_executions(
        stateMachineArn=aws.resources["EscalationStateMachine"])["executions"]
    return found


def execution_arn(aws: EmbeddedAws, case_id: str) -> str:
    return aws.resources["EscalationStateMachine"].replace(":stateMachine:", ":execution:") + f":{case_id}"


def finished(aws: EmbeddedAws, case_id: str, timeout: float = 30.0) -> dict[str, Any]:
    sfn = aws.client("stepfunctions")
    arn = execution_arn(aws, case_id)

    def done() -> dict[str, Any] | None:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        return described if described["status"] != "RUNNING" else None

    result: dict[str, Any] = wait_for(done, timeout, f"execution {case_id} to finish")
    return result


def states_entered(aws: EmbeddedAws, case_id: str) -> list[str]:
    events = aws.client("stepfunctions").get_execution_history(executionArn=execution_arn(aws, case_id))["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def in_state(aws: EmbeddedAws, case_id: str, state: str, timeout: float = 30.0) -> None:
    wait_for(lambda: state in states_entered(aws, case_id), timeout, f"{case_id} to enter {state}")


def mails(aws: EmbeddedAws, to: str | None = None) -> list[Message]:
    """Every email the embedded SES received (parsed MIME), optionally for one recipient."""
    from moto.ses.models import ses_backends

    out = []
    for sent in ses_backends[aws.account_id][aws.region].sent_messages:
        raw = getattr(sent, "raw_data", None)
        if raw is None:
            continue
        message = email.message_from_string(raw if isinstance(raw, str) else raw.decode(), policy=email.policy.default)
        if to is None or to in str(message["To"]):
            out.append(message)
    return out


def text_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    return ""


def pdfs_of(message: Message) -> dict[str, bytes]:
    found = {}
    for part in message.walk():
        if part.get_content_type() == "application/pdf":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found[str(part.get_filename())] = payload
    return found


LINK = re.compile(r"https://\S+/approvals/[A-Za-z0-9_-]+\?sig=[0-9]+\.[A-Za-z0-9_-]+")


def approval_link(aws: EmbeddedAws, index: int = -1) -> str:
    found = wait_for(lambda: [LINK.search(text_of(m)) for m in mails(aws, APPROVER)
                              if "approval_request" in str(m["X-Relance-Step"])], what="the approval email")
    match = found[index]
    assert match is not None
    return match.group(0)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=PARIS)


def follow(aws: EmbeddedAws, method: str, link: str, form: dict[str, str] | None = None,
           day: dt.date = RUN, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """What a person's browser does with the link: an API Gateway event to ApprovalFunction."""
    result: dict[str, Any] = aws.invoke("ApprovalFunction", api_event(
        method, link, form, when=at(day), headers=headers))
    return result


def approve(aws: EmbeddedAws, link: str, day: dt.date = RUN, decision: str = "approve",
            reason: str = "") -> dict[str, Any]:
    page = follow(aws, "GET", link, day=day)
    assert page["statusCode"] == 200, page["body"]
    form = person_form(page["body"], decision, reason)       # the code typed, like a person
    assert form.get("sig") and form.get("form") and form.get("confirm"), form
    return follow(aws, "POST", link, form, day=day)


def topic_messages(aws: EmbeddedAws) -> list[str]:
    from moto.sns.models import sns_backends

    topic = sns_backends[aws.account_id][aws.region].topics[aws.resources["TaskTopic"]]
    return [n[1] for n in topic.sent_notifications]


def the_case_id(aws: EmbeddedAws) -> str:
    (execution,) = wait_for(lambda: executions(aws), what="an execution")
    return str(execution["name"])


def failures(aws: EmbeddedAws, case_id: str) -> list[dict[str, Any]]:
    """The failure details of an execution's history (for assertion messages)."""
    events = aws.client("stepfunctions").get_execution_history(executionArn=execution_arn(aws, case_id))["events"]
    return [v for e in events for k, v in e.items() if k.endswith("FailedEventDetails")]


def case_waiting_for_approval(aws: EmbeddedAws, invoices: dict[str, str]) -> tuple[EmbeddedAws, str, str]:
    """A case parked in RequestApproval with its approval email sent: (aws, case id, approval link)."""
    fresh(aws)
    seed(aws, invoices=invoices)
    dispatch(aws)
    case_id = the_case_id(aws)
    in_state(aws, case_id, "RequestApproval")
    wait_for(lambda: mails(aws, APPROVER), what="the approval email")
    return aws, case_id, approval_link(aws)


def approval_of(aws: EmbeddedAws, case_id: str) -> dict[str, Any]:
    """The stored approval item of a case."""
    with function_env(aws) as services:
        item = services.store.get_case(case_id)
        assert item is not None
        approval = services.store.get_approval(str(item["approval_id"]))
        assert approval is not None
        return approval
