"""The escalation state machine (statemachines/handoff.asl.json) executed by moto, real handlers in-process."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from pypdf import PdfReader
from test_escalation_support import (
    APPROVER,
    RUN,
    approval_link,
    approve,
    dispatch,
    executions,
    failures,
    finished,
    follow,
    fresh,
    function_env,
    in_state,
    mails,
    pdfs_of,
    seed,
    states_entered,
    text_of,
    the_case_id,
    topic_messages,
    wait_for,
)

from relance import runtime
from relance.escalation import decisions, partners
from relance.escalation.outcome import OutcomeNotExpected, report_outcome
from relance.escalation.sweep import sweep
from relance.models import InvoiceStatus
from relance_dev.embedded import EmbeddedAws
from relance_dev.simulate.driver import scheduler_event

ETUDE = "depot-dossiers@etude-exemple.example.com"
AGENCY = "nouveaux-dossiers@recouvrement-exemple.example.com"


@pytest.fixture
def aws(embedded: EmbeddedAws) -> EmbeddedAws:
    fresh(embedded)
    return embedded


def _started(aws: EmbeddedAws, invoices: dict[str, str] | None = None, customer: str = "C1") -> str:
    seed(aws, customer, invoices)
    dispatch(aws, customer)
    case_id = the_case_id(aws)
    in_state(aws, case_id, "RequestApproval")
    wait_for(lambda: mails(aws, APPROVER), what="the approval email")
    return case_id


def _statuses(aws: EmbeddedAws, *invoice_ids: str) -> list[str]:
    with function_env(aws) as services:
        return [services.ledger.invoice(i).status for i in invoice_ids]


# ---------------------------------------------------------------- dispatch -> machine
def test_dispatch_starts_the_machine_which_builds_the_case_and_asks_for_approval(aws: EmbeddedAws) -> None:
    # Given C1's invoices of 1800.00 and 600.00 at their hand-off; When the dispatch starts the machine
    case_id = _started(aws, {"A1": "1800.00", "A2": "600.00"})
    # Then the execution runs with both invoices, for the commissaire de justice, needing approval
    description = aws.client("stepfunctions").describe_execution(
        executionArn=executions(aws)[0]["executionArn"])
    case_input = json.loads(description["input"])
    assert case_input["invoices"] == ["A1", "A2"] and case_input["partner"] == "commissaire_de_justice"
    assert case_input["approval"] is True and description["status"] == "RUNNING"
    # And the case file, as JSON and PDF, is under cases/<case_id>/
    s3 = aws.client("s3")
    bucket = aws.resources["LettersBucket"]
    document = json.loads(s3.get_object(Bucket=bucket, Key=f"cases/{case_id}/case.json")["Body"].read())
    a1 = document["invoices"][0]
    assert a1["id"] == "A1" and a1["indemnity"] == "40.00" and Decimal(a1["penalties"]) > 0
    assert a1["days_late"] == (RUN - dt.date(2026, 4, 16)).days
    assert a1["limitation_date"] == "2031-04-16" and document["limitation_date"] == "2031-04-16"
    assert document["totals"]["balance"] == "2400.00"
    kinds = {(h["invoice"], h.get("step")) for h in document["history"] if h["kind"] == "sent"}
    assert ("A1", "formal_notice") in kinds and ("A2", "final_notice") in kinds
    letters = [h["key"] for h in document["history"] if h.get("key", "").startswith("letters/")]
    assert "letters/2026-05-18/C1/formal_notice-A1.pdf" in letters
    assert document["route"]["partner_kind"] == "commissaire_de_justice"
    assert "petites créances" in document["route"]["reason"]
    pdf = s3.get_object(Bucket=bucket, Key=f"cases/{case_id}/case.pdf")["Body"].read()
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Dossier de recouvrement" in text and "A2" in text and "Boulangerie Exemple SARL" in text
    # And the approver's email has a signed link, never the task token
    (mail,) = mails(aws, APPROVER)
    body = text_of(mail)
    assert "Boulangerie Exemple SARL" in str(mail["Subject"]) and approval_link(aws) in body
    # And the case awaits approval, as the invoice's history says
    with function_env(aws) as services:
        case = services.store.get_case(case_id)
        assert case is not None and case["status"] == "awaiting_approval"
        approval = services.store.get_approval(case["approval_id"])
        assert approval is not None and approval["task_token"] not in mail.as_string()
        assert "approval_requested" in [e["kind"] for e in services.ledger.history("A1")]


def test_a_second_start_of_the_same_case_does_nothing(aws: EmbeddedAws) -> None:
    # Given a case started and waiting for approval
    case_id = _started(aws)
    # When the dispatcher starts the same case again
    with function_env(aws, "DispatchFunction") as services:
        settings = services.settings
        dispatcher = runtime.dispatcher(settings)
        assert dispatcher.start_escalation is not None
        description = aws.client("stepfunctions").describe_execution(executionArn=executions(aws)[0]["executionArn"])
        again = dispatcher.start_escalation(json.loads(description["input"]))
    # Then it is the same execution
    assert again == executions(aws)[0]["executionArn"]
    # When the same day's message is delivered again
    dispatch(aws)      # the same day's message delivered again: the claim holds
    # Then the claim holds: one execution, one approval email, the case file built once
    assert len(executions(aws)) == 1 and len(mails(aws, APPROVER)) == 1
    assert states_entered(aws, case_id).count("BuildCaseFile") == 1


# ---------------------------------------------------------------- approved
def test_approved_small_case_goes_to_the_commissaire_de_justice_and_is_handed_off(aws: EmbeddedAws) -> None:
    # Given a case of 2400.00 waiting for approval
    case_id = _started(aws, {"A1": "1800.00", "A2": "600.00"})
    # When the approver approves it on 7 June
    reply = approve(aws, approval_link(aws), day=RUN + dt.timedelta(days=2))
    # Then the page says so
    assert reply["statusCode"] == 200 and "approuvée" in reply["body"]
    # And the machine waits for the outcome after sending the case to the étude
    in_state(aws, case_id, "WaitForOutcome")
    (sent,) = wait_for(lambda: mails(aws, ETUDE), what="the partner email")
    # And the email carries the case file
    attachments = pdfs_of(sent)
    assert f"dossier-{case_id}.pdf" in attachments
    case_pdf = PdfReader(io.BytesIO(attachments[f"dossier-{case_id}.pdf"]))
    case_text = " ".join(" ".join(p.extract_text() for p in case_pdf.pages).replace("\u00a0", " ")
                         .replace("\u202f", " ").split())
    assert "A1" in case_text
    # And the case file and its cover letter are computed on one date, the day it is sent (approval day)
    assert "arrêté au 7 juin 2026" in case_text and "07/06/2026" in text_of(sent)
    # And both state the same total
    cover = " ".join(text_of(sent).replace("\u00a0", " ").replace("\u202f", " ").split())
    total = cover.split("Total de la créance : ")[1].split(" €")[0]
    assert f"total de la créance {total} €" in case_text
    # And the case file lists only what the partner needs
    assert "imported" not in case_text and "escalation_started" not in case_text and "…" not in case_text
    # And the étude gets it, not the agency
    assert "Boulangerie Exemple SARL" in text_of(sent) and not mails(aws, AGENCY)
    # And the invoices are handed off and the team told
    assert _statuses(aws, "A1", "A2") == ["handed_off", "handed_off"]
    assert any(m.startswith("Dossier transmis") for m in topic_messages(aws))
    # And nothing is due any more, the history and the case say it is with the partner
    with function_env(aws) as services:
        assert list(services.store.due_entries(RUN + dt.timedelta(days=400))) == []
        history = [e["kind"] for e in services.ledger.history("A1")]
        assert {"submitted_to_partner", "stopped"} <= set(history)
        case = services.store.get_case(case_id)
        assert case is not None and case["status"] == "with_partner" and case["handed_off_on"] == "2026-06-07"
    # And no webhook is called
    assert partners.RECORDED.requests == []       # the étude has no webhook


def test_approved_large_case_goes_to_the_collection_agency_email_and_webhook(aws: EmbeddedAws) -> None:
    # Given C2's case of 7200.00 waiting for approval
    case_id = _started(aws, {"B1": "7200.00"}, customer="C2")
    # When the approver approves it
    approve(aws, approval_link(aws))
    # Then the machine waits for the outcome
    in_state(aws, case_id, "WaitForOutcome")
    # And the agency gets the case file by email, not the étude
    (sent,) = mails(aws, AGENCY)
    assert f"dossier-{case_id}.pdf" in pdfs_of(sent) and not mails(aws, ETUDE)
    # And its webhook gets the case, keyed by the case id
    (request,) = partners.RECORDED.requests
    assert request["url"] == "https://api.recouvrement-exemple.example.com/v1/cases"
    assert request["body"]["case_id"] == case_id and request["body"]["totals"]["balance"] == "7200.00"
    assert request["headers"]["Idempotency-Key"] == case_id
    # And the invoice is handed off
    assert _statuses(aws, "B1") == ["handed_off"]


def test_reported_outcome_books_the_recovered_amount_as_payments(aws: EmbeddedAws) -> None:
    # Given a case of 1800.00 and 600.00 with the partner
    case_id = _started(aws, {"A1": "1800.00", "A2": "600.00"})
    approve(aws, approval_link(aws))
    in_state(aws, case_id, "WaitForOutcome")
    wait_for(lambda: _case_status(aws, case_id) == "with_partner", what="the outcome token")
    # When the partner's outcome is reported with an unknown kind
    with function_env(aws) as services:
        # Then it is refused
        with pytest.raises(Exception, match="outcome"):
            report_outcome(case_id, "won", "10.00", "2026-07-01", services=services)
        # When it is reported partly recovered, 2000.00
        result = report_outcome(case_id, "partly_recovered", "2000.00", "2026-07-10", services=services)
        # Then it is recorded
        assert result == {"case_id": case_id, "outcome": "partly_recovered", "amount": "2000.00",
                          "date": "2026-07-10"}
        # And a second report is not expected any more
        with pytest.raises(OutcomeNotExpected):
            report_outcome(case_id, "recovered", "400.00", "2026-07-11", services=services)
    # And the execution ends
    assert finished(aws, case_id)["status"] == "SUCCEEDED"
    # And the 2000.00 is booked oldest invoice first
    with function_env(aws) as services:
        a1, a2 = services.ledger.invoice("A1"), services.ledger.invoice("A2")
        assert (a1.status, a1.balance) == ("paid", Decimal("0"))       # oldest first: 1800 then 200
        assert (a2.status, a2.balance) == ("handed_off", Decimal("400.00"))
        assert a2.payments == ((dt.date(2026, 7, 10), Decimal("200.00")),)
        # And the history has the outcome and the case is closed
        assert "handoff_outcome" in [e["kind"] for e in services.ledger.history("A2")]
        case = services.store.get_case(case_id)
        assert case is not None and case["status"] == "closed"


def _case_status(aws: EmbeddedAws, case_id: str) -> str | None:
    with function_env(aws) as services:
        case = services.store.get_case(case_id)
        return None if case is None else str(case.get("status"))


# ---------------------------------------------------------------- not approved
def test_rejected_case_stays_owed_to_decide_and_the_team_gets_a_task(aws: EmbeddedAws) -> None:
    # Given a case waiting for approval
    case_id = _started(aws)
    # When the approver rejects it with a reason
    reply = approve(aws, approval_link(aws), decision="reject", reason="client historique, on l'appelle")
    # Then the page says so
    assert reply["statusCode"] == 200 and "refusée" in reply["body"]
    # And the machine ends through MarkDeclined, without the partner
    assert finished(aws, case_id)["status"] == "SUCCEEDED"
    assert "MarkDeclined" in states_entered(aws, case_id) and "SubmitToPartner" not in states_entered(aws, case_id)
    # And the invoice stays owed
    assert _statuses(aws, "A1") == ["open"]       # nothing owed disappears
    # And the team gets a task with the reason, the approver and how to write it off
    (task,) = [m for m in topic_messages(aws) if m.startswith("À décider")]
    assert "on l'appelle" in task and APPROVER in task and "relance invoice write-off" in task
    # And no partner got anything
    assert not mails(aws, ETUDE) and not mails(aws, AGENCY)
    with function_env(aws) as services:
        # And the invoice waits, paused, to be decided, without a next action
        record = services.ledger.invoice("A1")
        assert record.to_decide and record.manual_pause and record.balance > 0
        history = services.ledger.history("A1")
        assert not [e for e in history if e["kind"] in ("stopped", "approval_expired")]
        paused = [e for e in history if e["kind"] == "paused"]
        assert paused[-1]["details"]["reason"].startswith("à décider : rejected by the approver")
        assert list(services.store.due_entries(RUN + dt.timedelta(days=400))) == []
        # And it is listed as to decide
        assert [p["invoice"] for p in decisions.pointers(services.store)] == ["A1"]
        # When the team decides: a write-off closes it; Then the pointer goes stale
        services.ledger.set_status("A1", RUN + dt.timedelta(days=3), InvoiceStatus.WRITTEN_OFF, "irrecoverable")
        assert decisions.waiting(services.store, services.ledger.invoice) == []
        assert decisions.pointers(services.store) == []


def test_reminder_once_at_half_delay_then_expiry_ends_not_approved(aws: EmbeddedAws) -> None:
    # Given a case waiting for approval and its link
    case_id = _started(aws)
    link = approval_link(aws)

    def run_sweep(day: dt.date) -> dict[str, int]:
        with function_env(aws) as services:
            return sweep(day, services=services).as_dict()

    # When the sweep runs each day; Then it reminds the approver once, on the fourth day, even run twice
    assert run_sweep(RUN + dt.timedelta(days=3)) == {"reminded": 0, "expired": 0, "errors": 0}
    assert run_sweep(RUN + dt.timedelta(days=4)) == {"reminded": 1, "expired": 0, "errors": 0}
    assert run_sweep(RUN + dt.timedelta(days=4)) == {"reminded": 0, "expired": 0, "errors": 0}  # duplicate run
    assert run_sweep(RUN + dt.timedelta(days=7)) == {"reminded": 0, "expired": 0, "errors": 0}  # last valid day
    # And the reminder carries the link, which still opens on the seventh day
    reminders = [m for m in mails(aws, APPROVER) if m["X-Relance-Step"] == "approval_reminder"]
    assert len(reminders) == 1 and link in text_of(reminders[0])
    assert follow(aws, "GET", link, day=RUN + dt.timedelta(days=7))["statusCode"] == 200
    # When the daily run, which sweeps every morning, runs on the eighth day (its role may SendTaskFailure)
    swept = aws.invoke("DailyRunFunction", scheduler_event(dt.date(2026, 6, 13)))["approvals"]
    # Then the approval expires
    assert swept["expired"] == 1
    # And the machine ends through MarkDeclined
    assert finished(aws, case_id)["status"] == "SUCCEEDED"
    assert "MarkDeclined" in states_entered(aws, case_id)
    # And the invoice stays owed, to be decided, not stopped
    assert _statuses(aws, "A1") == ["open"]       # an expired link is not a refusal
    with function_env(aws) as services:
        history = services.ledger.history("A1")
        assert not [e for e in history if e["kind"] == "stopped"]
        (expired,) = [e for e in history if e["kind"] == "approval_expired"]
        assert expired["date"] == "2026-06-13" and expired["details"]["reason"] == "approval expired"
        assert services.ledger.invoice("A1").to_decide == "approval expired"
    # And the team heard of the reminder, then of the expiry, in French only
    messages = topic_messages(aws)
    assert len([m for m in messages if m.startswith("Accord attendu")]) == 1     # the team heard of the reminder
    assert any("a expiré" in m for m in messages if m.startswith("À décider"))
    assert not any("approval expired" in m for m in messages if m.startswith("À décider"))   # French only
    # And the link has expired
    assert follow(aws, "GET", link, day=RUN + dt.timedelta(days=8))["statusCode"] == 410


def test_the_sweep_reads_an_approval_only_on_the_days_something_is_due_for_it(aws: EmbeddedAws) -> None:
    # Given a case waiting for approval, and the sweep's reads counted
    _started(aws)
    reads: list[str] = []

    def count(params: dict[str, object], **_: object) -> None:
        reads.append(str(params.get("Key")))

    def sweep_reads(day: dt.date) -> tuple[dict[str, int], int]:
        with function_env(aws) as services:
            services.store.client.meta.events.register("provide-client-params.dynamodb.GetItem", count)
            try:
                reads.clear()
                return sweep(day, services=services).as_dict(), len(reads)
            finally:
                services.store.client.meta.events.unregister("provide-client-params.dynamodb.GetItem", count)

    # When the sweep runs on days with and without a reminder or expiry due
    assert sweep_reads(RUN + dt.timedelta(days=1)) == ({"reminded": 0, "expired": 0, "errors": 0}, 0)
    # Then it reads the approval only on the days it reminds or expires
    assert sweep_reads(RUN + dt.timedelta(days=4))[0]["reminded"] == 1
    assert sweep_reads(RUN + dt.timedelta(days=5)) == ({"reminded": 0, "expired": 0, "errors": 0}, 0)
    assert sweep_reads(RUN + dt.timedelta(days=8))[0]["expired"] == 1
    assert sweep_reads(RUN + dt.timedelta(days=9)) == ({"reminded": 0, "expired": 0, "errors": 0}, 0)


def test_the_daily_run_finds_due_approvals_in_the_due_index_without_a_query_of_its_own(aws: EmbeddedAws) -> None:
    """The plan's one Query of the due index returns the approval on its reminder day, then on the day after
    its expiry; on other days than Monday the pending list is not queried at all."""
    import boto3

    _started(aws)
    queried: list[str] = []

    def count(params: dict[str, object], **_: object) -> None:
        queried.append(str(params.get("IndexName") or params.get("ExpressionAttributeValues")))

    def daily_run(day: dt.date) -> dict[str, int]:
        session = boto3._get_default_session()
        session.events.register("provide-client-params.dynamodb.Query", count, unique_id="count-queries")
        runtime.reset_clients()
        try:
            queried.clear()
            return dict(aws.invoke("DailyRunFunction", scheduler_event(day))["approvals"])
        finally:
            session.events.unregister("provide-client-params.dynamodb.Query", unique_id="count-queries")
            runtime.reset_clients()

    with function_env(aws) as services:
        due = [w for w in services.store.due_work(RUN + dt.timedelta(days=4)) if w[0] == "approval"]
        assert due and not [w for w in services.store.due_work(RUN + dt.timedelta(days=3)) if w[0] == "approval"]
        assert list(services.store.due_entries(RUN + dt.timedelta(days=400))) == []   # invoices only
        # a pointer written before approvals were in the due index: Monday's read of the whole list indexes it
        (pointer,) = services.store.pending_approvals()
        services.store.client.update_item(
            TableName=services.store.table, UpdateExpression="REMOVE due_pk, due_sk",
            Key={"pk": {"S": "APPROVAL#PENDING"}, "sk": {"S": f"{pointer['expires']}#{pointer['approval_id']}"}})
        assert not [w for w in services.store.due_work(RUN + dt.timedelta(days=4)) if w[0] == "approval"]
    assert daily_run(RUN + dt.timedelta(days=3)) == {"reminded": 0, "expired": 0, "errors": 0}    # Monday 8 June
    assert any("APPROVAL#PENDING" in q for q in queried)            # the weekly read of the whole list
    with function_env(aws) as services:
        assert [w[0] for w in services.store.due_work(RUN + dt.timedelta(days=4))] == ["approval"]
    assert daily_run(RUN + dt.timedelta(days=4)) == {"reminded": 1, "expired": 0, "errors": 0}
    assert queried == ["due"]                                       # one Query: the due index
    assert daily_run(RUN + dt.timedelta(days=5)) == {"reminded": 0, "expired": 0, "errors": 0}
    assert daily_run(RUN + dt.timedelta(days=7)) == {"reminded": 0, "expired": 0, "errors": 0}   # last valid day
    assert daily_run(RUN + dt.timedelta(days=8)) == {"reminded": 0, "expired": 1, "errors": 0}
    assert queried == ["due"]
    with function_env(aws) as services:
        assert services.store.pending_approvals() == []
        assert not [w for w in services.store.due_work(RUN + dt.timedelta(days=400)) if w[0] == "approval"]


def test_payment_recorded_before_approval_suspends_the_handoff(aws: EmbeddedAws) -> None:
    # Given a case waiting for approval
    case_id = _started(aws)
    # And a payment recorded the next day
    with function_env(aws) as services:
        services.ledger.record_payment("A1", Decimal("300.00"), RUN + dt.timedelta(days=1))
    # When the approver approves it
    approve(aws, approval_link(aws), day=RUN + dt.timedelta(days=2))
    # Then the machine ends suspended, the partner gets nothing
    assert finished(aws, case_id)["status"] == "SUCCEEDED"
    assert "Suspended" in states_entered(aws, case_id) and not mails(aws, ETUDE)
    # And the invoice stays open and the team is told why
    assert _statuses(aws, "A1") == ["open"]
    assert any(m.startswith("Transmission suspendue") and "paiement reçu" in m for m in topic_messages(aws))


# ---------------------------------------------------------------- errors
def test_a_failing_task_ends_in_a_clear_failure_and_tells_the_team(aws: EmbeddedAws) -> None:
    # Given a case for a partner that does not exist
    seed(aws)
    case = {"case_id": "C1-broken", "customer": "C1", "invoices": ["A1"], "step": "handoff",
            "partner": "no_such_partner", "run_date": RUN.isoformat(), "approval": True, "case_balance": "1800.00"}
    # When its execution starts
    aws.client("stepfunctions").start_execution(stateMachineArn=aws.resources["EscalationStateMachine"],
                                                name=case["case_id"], input=json.dumps(case))
    # Then it fails with a clear error
    described = finished(aws, "C1-broken")
    assert described["status"] == "FAILED"
    assert described.get("error") == "EscalationFailed" or failures(aws, "C1-broken")[-1]["error"] == "EscalationFailed"
    # And the team is told
    assert any("C1-broken failed (RelanceError)" in m for m in topic_messages(aws))
    # And the invoice stays open
    assert _statuses(aws, "A1") == ["open"]


def test_refused_case_counts_as_outstanding_in_the_cli_and_the_digest(
        aws: EmbeddedAws, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from relance import cli
    from relance.reporting.digest import build_digest
    from relance_dev.simulate.report import aging

    # Given a case of 1800.00 and 600.00 rejected by the approver, and the CLI the next day
    case_id = _started(aws, {"A1": "1800.00", "A2": "600.00"})
    approve(aws, approval_link(aws), decision="reject", reason="on garde le client")
    assert finished(aws, case_id)["status"] == "SUCCEEDED"
    deployed = aws.function_env("DispatchFunction")
    monkeypatch.setenv("TABLE_NAME", deployed["TABLE_NAME"])
    monkeypatch.setenv("DUE_SHARDS", deployed["DUE_SHARDS"])
    monkeypatch.setattr("relance.imports.today_paris", lambda now=None: RUN + dt.timedelta(days=1))
    runtime.reset_clients()

    def relance(*argv: str) -> tuple[int, str]:
        code = cli.main(list(argv))
        return code, capsys.readouterr().out

    # When 100.00 of A2 is paid and the invoices to decide are listed
    assert relance("payment", "add", "A2", "100.00", "--date", RUN.isoformat())[0] == 0
    code, out = relance("invoice", "list", "--status", "to_decide", "--json")
    listing = json.loads(out)
    # Then both are listed
    assert code == 0 and [r["invoice"] for r in listing["invoices"]] == ["A1", "A2"]
    # And what is outstanding is all to decide
    totals = {k: Decimal(v) for k, v in listing["totals"].items()}
    assert totals["outstanding"] == Decimal("2300.00") == totals["of_which_to_decide"]
    # When the team writes A2 off; Then outstanding = invoiced − recovered − written off, whatever the filter
    code, out = relance("invoice", "write-off", "A2", "--reason", "geste commercial", "--lang", "en")
    assert code == 0 and "written off" in out
    totals = {k: Decimal(v) for k, v in json.loads(relance("invoice", "list", "--json")[1])["totals"].items()}
    assert totals["outstanding"] == totals["invoiced"] - totals["recovered"] - totals["written_off"] == Decimal("1800")
    # And the plain listing shows the invoice to decide and its balance
    code, out = relance("invoice", "list")
    assert code == 0 and "à décider" in out and "1\u202f800,00 €" in out
    # And an unknown invoice is an error
    assert relance("invoice", "resume", "NOPE")[0] == 2
    # When the weekly digest is built
    with function_env(aws) as services:
        digest = build_digest(services.store, RUN + dt.timedelta(days=30), "Menuiserie")
    # Then it lists A1 to decide
    assert [(c, i) for c, i, _, _ in digest.to_decide] == [("C1", "A1")]
    # And ages what is outstanding
    assert sum(a for _, _, a in aging(digest.invoices, digest.week_end)) == Decimal("1800.00")
    # And says what is to decide
    assert "À décider : 1 (1 800,00 €)" in digest.text()


def test_the_case_is_routed_on_its_own_invoices_not_on_a_disputed_one_beside_it(aws: EmbeddedAws) -> None:
    # Given C1's invoices of 4051.98 and 3000.00 at their hand-off, the second disputed
    seed(aws, "C1", {"A1": "4051.98", "A2": "3000.00"})
    with function_env(aws) as services:
        services.ledger.open_dispute("A2", RUN - dt.timedelta(days=3), "livraison contestée")
    # When the dispatch starts the machine
    dispatch(aws, "C1")
    # Then the case holds only the undisputed invoice
    case_input = json.loads(aws.client("stepfunctions").describe_execution(
        executionArn=executions(aws)[0]["executionArn"])["input"])
    # And it goes to the commissaire de justice: 4 051,98 € ≤ 5 000 €, although the customer owes 7 051,98 € in all
    assert case_input["invoices"] == ["A1"] and case_input["case_balance"] == "4051.98"
    assert case_input["partner"] == "commissaire_de_justice"
    # And the case waits for approval
    in_state(aws, case_input["case_id"], "RequestApproval")     # parked: nothing runs on after the test
    wait_for(lambda: mails(aws, APPROVER), what="the approval email")


def test_one_open_case_per_customer_and_partner_a_new_invoice_waits(aws: EmbeddedAws) -> None:
    # Given a case of A1 waiting for approval
    first = _started(aws)
    # And A2 reaching its hand-off while A1's case is open
    seed(aws, "C1", {"A2": "900.00"})                      # reaches the hand-off while A1's case is open
    monday = RUN + dt.timedelta(days=3)
    # When the dispatch runs on Monday
    dispatch(aws, "C1", monday)
    # Then no second case starts
    assert len(executions(aws)) == 1
    # And A2 waits a week, saying which case it waits for
    with function_env(aws) as services:
        record = services.ledger.invoice("A2")
        waiting = [e for e in services.ledger.history("A2") if e["kind"] == "escalation_waiting"]
        assert waiting and waiting[-1]["details"]["case_id"] == first
        assert record.next_action == monday + dt.timedelta(days=7) and record.status == "open"
    # When the approver rejects A1's case
    approve(aws, approval_link(aws), day=monday, decision="reject", reason="on en reparle")
    assert finished(aws, first)["status"] == "SUCCEEDED"
    # And the dispatch runs a week later
    dispatch(aws, "C1", monday + dt.timedelta(days=7))     # A1's case is « à décider »: A2 gets its own
    # Then A2 gets its own case
    cases = [json.loads(aws.client("stepfunctions").describe_execution(executionArn=e["executionArn"])["input"])
             for e in executions(aws)]
    assert sorted(tuple(c["invoices"]) for c in cases) == [("A1",), ("A2",)]
    second = next(c["case_id"] for c in cases if c["invoices"] == ["A2"])
    # And it waits for approval
    in_state(aws, second, "RequestApproval")                    # parked: nothing runs on after the test
    wait_for(lambda: len([m for m in mails(aws, APPROVER) if "approval_request" in str(m["X-Relance-Step"])]) == 2,
             what="the second approval email")
