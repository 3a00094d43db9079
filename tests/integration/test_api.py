"""The REST API handler driven with API Gateway proxy events, on the embedded AWS (moto)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from test_api_support import (
    CUSTOMER,
    INVOICE,
    TODAY,
    Api,
    ledger_of,
    load_function,
    sample,
    seeded_api,
)

from relance.ledger import engine_state, plan_paused_until
from relance.policy import CustomerContext, evaluate
from relance_dev.embedded import EmbeddedAws


@pytest.fixture
def api(embedded: EmbeddedAws, monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> Api:
    return seeded_api(embedded, monkeypatch, lambda_context)


def set_today(monkeypatch: pytest.MonkeyPatch, day: dt.date) -> None:
    monkeypatch.setattr(load_function("api"), "today_paris", lambda: day)


# ---------------------------------------------------------------------------- customers and invoices
def test_create_read_update_customer(api: Api) -> None:
    customer = api.ok("GET", "/customers/C1")
    assert customer["phone"] == "+33612345678" and customer["policy"] == "standard"
    changed = api.ok("PATCH", "/customers/C1", {"email": "paiements@boulangerie.example", "segment": "retail"})
    assert changed["email"] == "paiements@boulangerie.example" and changed["name"] == CUSTOMER["name"]
    status, error = api.call("POST", "/customers", CUSTOMER)
    assert status == 409 and error["field"] == "id"
    status, error = api.call("GET", "/customers/NOPE")
    assert (status, error) == (404, {"error": "customer NOPE does not exist", "field": None})


def test_created_invoice_has_its_first_next_action(api: Api) -> None:
    invoice = api.ok("GET", "/invoices/A1")
    assert invoice["amount"] == "1800.00" and invoice["balance"] == "1800.00" and invoice["status"] == "open"
    assert invoice["next_action"] == TODAY.isoformat()   # overdue since 2026-04-16: a step is due today
    status, error = api.call("POST", "/invoices", INVOICE)
    assert status == 409 and error["field"] == "id"


def test_update_invoice_due_date_moves_the_next_action(api: Api) -> None:
    updated = api.ok("PATCH", "/invoices/A1", {"due": "2026-06-30"})
    assert updated["due"] == "2026-06-30"
    assert updated["next_action"] > TODAY.isoformat()
    history = api.ok("GET", "/invoices/A1/history")
    assert [e["kind"] for e in history["events"]] == ["imported", "updated"]


# ---------------------------------------------------------------------------- payments
def test_partial_payment_then_the_balance_in_get(api: Api) -> None:
    reply = api.ok("POST", "/invoices/A1/payments", {"amount": "900.00", "date": "2026-04-27"})
    assert reply["applied"] == "900.00" and reply["credit"] == "0.00"
    invoice = api.ok("GET", "/invoices/A1")
    assert (invoice["balance"], invoice["paid"], invoice["status"]) == ("900.00", "900.00", "open")
    assert invoice["payments"] == [{"date": "2026-04-27", "amount": "900.00"}]
    api.ok("POST", "/invoices/A1/payments", {"amount": "900.00"})
    invoice = api.ok("GET", "/invoices/A1")
    # paid after its due date: the principal is settled, the 40 € indemnity and the interest remain, claimed
    # by one statement (policy penalties_after_principal: claim), so the invoice waits for it, owing no principal
    assert (invoice["balance"], invoice["status"]) == ("0.00", "open") and invoice["next_action"]
    kinds = [e["kind"] for e in api.ok("GET", "/invoices/A1/history")["events"]]
    assert "penalties_remaining" in kinds


def test_overpayment_is_kept_as_a_credit_and_reported(api: Api) -> None:
    reply = api.ok("POST", "/invoices/A1/payments", {"amount": "2000.00", "reference": "VIR-77"})
    assert (reply["applied"], reply["credit"]) == ("1800.00", "200.00")
    invoice = api.ok("GET", "/invoices/A1")
    assert (invoice["status"], invoice["balance"], invoice["credit"]) == ("paid", "0.00", "200.00")
    kinds = [e["kind"] for e in api.ok("GET", "/invoices/A1/history")["events"]]
    assert "overpayment" in kinds
    status, error = api.call("POST", "/invoices/A1/payments", {"amount": "10.00"})
    assert status == 409 and "paid" in error["error"]


@pytest.mark.parametrize(("amount", "needle"), [
    (1800, "JSON number"), (12.5, "JSON number"), ("12.345", "two places"), ("-5.00", "negative"),
    ("0.00", "zero"), ("1,200.00", "decimal with a dot"),
])
def test_an_amount_must_be_a_decimal_string(api: Api, amount: Any, needle: str) -> None:
    status, error = api.call("POST", "/invoices/A1/payments", {"amount": amount})
    assert status == 422 and error["field"] == "amount" and needle in error["error"], error


def test_payment_in_the_future_is_refused(api: Api) -> None:
    status, error = api.call("POST", "/invoices/A1/payments", {"amount": "1.00", "date": "2026-05-05"})
    assert (status, error["field"]) == (422, "date")


# ---------------------------------------------------------------------------- pauses
def test_dispute_pauses_and_resolving_resumes(api: Api) -> None:
    before = api.ok("GET", "/invoices/A1")["next_action"]
    disputed = api.ok("POST", "/invoices/A1/dispute", {"reason": "Livraison incomplète"})
    assert disputed["disputed"] is True and disputed["next_action"] is None and disputed["paused"] == ["dispute"]
    status, _ = api.call("POST", "/invoices/A1/dispute", {"reason": "again"})
    assert status == 409
    resolved = api.ok("DELETE", "/invoices/A1/dispute")
    assert resolved["disputed"] is False and resolved["next_action"] == before
    kinds = [e["kind"] for e in api.ok("GET", "/invoices/A1/history")["events"]]
    assert kinds == ["imported", "paused", "resumed"]


def test_promise_kept(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    promised = api.ok("POST", "/invoices/A1/promise", {"until": "2026-05-15"})
    assert promised["paused"] == ["promise"] and promised["next_action"] == "2026-05-18"  # next business day
    set_today(monkeypatch, dt.date(2026, 5, 14))
    paid = api.ok("POST", "/invoices/A1/payments", {"amount": "1800.00"})["invoice"]
    # kept before the promised date but after the due date: no reminder any more, one statement of the 40 €
    assert (paid["status"], paid["balance"]) == ("open", "0.00") and paid["next_action"] != "2026-05-18"


def test_promise_broken_resumes_the_ladder(api: Api, embedded: EmbeddedAws) -> None:
    api.ok("POST", "/invoices/A1/promise", {"until": "2026-05-15"})
    ledger = ledger_of(embedded)
    # 2026-05-18: nothing was paid; the daily run finds the invoice due again that morning.
    assert ("C1", "A1") in list(ledger.store.due_entries(dt.date(2026, 5, 18)))
    assert ("C1", "A1") not in list(ledger.store.due_entries(dt.date(2026, 5, 15)))


def test_promise_in_the_past_is_refused(api: Api) -> None:
    status, error = api.call("POST", "/invoices/A1/promise", {"until": "2026-05-01"})
    assert (status, error["field"]) == (422, "until")


def _decision(embedded: EmbeddedAws, day: dt.date) -> Any:
    ledger = ledger_of(embedded)
    record = ledger.invoice("A1")
    customer = ledger.customer("C1")
    ctx = CustomerContext(kind=customer.kind, segment=customer.segment, case_balance=record.balance,
                          overdue_invoices=1)
    return evaluate(ledger.policy_for(customer), engine_state(record, day), ctx, day)


def test_payment_plan_on_schedule_and_missed(api: Api, embedded: EmbeddedAws,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    plan = {"instalments": [{"date": "2026-05-15", "amount": "600.00"}, {"date": "2026-06-15", "amount": "600.00"},
                            {"date": "2026-07-15", "amount": "600.00"}]}
    invoice = api.ok("PUT", "/invoices/A1/plan", plan)
    assert invoice["paused"] == ["payment_plan"] and invoice["next_action"] == "2026-05-18"
    # On schedule: the first instalment paid on time keeps the ladder paused until after the next one.
    set_today(monkeypatch, dt.date(2026, 5, 15))
    invoice = api.ok("POST", "/invoices/A1/payments", {"amount": "600.00"})["invoice"]
    assert invoice["balance"] == "1200.00" and invoice["paused"] == ["payment_plan"]
    on_schedule = _decision(embedded, dt.date(2026, 5, 18))     # the run after the first instalment
    assert on_schedule.due == () and on_schedule.next_action == dt.date(2026, 6, 16)
    # Missed: the second instalment is not paid; the day after, the ladder resumes.
    record = ledger_of(embedded).invoice("A1")
    assert plan_paused_until(record, dt.date(2026, 6, 16)) is None
    assert _decision(embedded, dt.date(2026, 6, 16)).due


def test_payment_plan_must_add_up_to_the_balance(api: Api) -> None:
    plan = {"instalments": [{"date": "2026-05-15", "amount": "600.00"}, {"date": "2026-06-15", "amount": "600.00"}]}
    status, error = api.call("PUT", "/invoices/A1/plan", plan)
    assert status == 422 and error["field"] == "instalments" and "1200.00" in error["error"]


def test_pause_resume_and_write_off(api: Api) -> None:
    paused = api.ok("POST", "/invoices/A1/pause", {"reason": "client en redressement"})
    assert paused["manual_pause"] is True and paused["next_action"] is None
    resumed = api.ok("POST", "/invoices/A1/resume")
    assert resumed["manual_pause"] is False and resumed["next_action"] == TODAY.isoformat()
    status, _ = api.call("POST", "/invoices/A1/resume")
    assert status == 409
    written_off = api.ok("POST", "/invoices/A1/write-off", {"reason": "montant trop faible"})
    assert (written_off["status"], written_off["next_action"]) == ("written_off", None)
    status, error = api.call("POST", "/invoices/A1/dispute", {"reason": "x"})
    assert (status, error["field"]) == (409, "status")


# ---------------------------------------------------------------------------- errors
def test_validation_errors_name_the_field(api: Api) -> None:
    status, error = api.call("POST", "/invoices", {**INVOICE, "id": "A2", "due": "2026-02-01"})
    assert status == 422 and "before the issue date" in error["error"]
    status, error = api.call("POST", "/invoices", {**INVOICE, "id": "A3", "due": "16/04/2026"})
    assert (status, error["field"]) == (422, "due")
    status, error = api.call("POST", "/invoices", {**INVOICE, "id": "A4", "customer": "C404"})
    assert (status, error["error"]) == (404, "customer C404 does not exist")
    status, error = api.call("POST", "/invoices", {**INVOICE, "id": "A5", "colour": "red"})
    assert (status, error) == (422, {"error": "unknown field", "field": "colour"})
    status, error = api.call("POST", "/customers", {**CUSTOMER, "id": "C2", "email": "not-an-email"})
    assert (status, error["field"]) == (422, "email")


def test_unreadable_bodies_are_400_without_exception_text(api: Api) -> None:
    for raw in ("{not json", "[1, 2]", ""):
        status, error = api.call("POST", "/invoices/A1/payments", raw_body=raw)
        assert status == 400, (raw, error)
        assert set(error) == {"error", "field"} and "Traceback" not in error["error"]
    status, error = api.call("GET", "/nowhere")
    assert (status, error) == (404, {"error": "no such route", "field": None})
    status, error = api.call("GET", "/invoices/UNKNOWN")
    assert status == 404 and error["error"] == "invoice UNKNOWN does not exist"


def test_unexpected_failure_is_a_json_500(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret internals: table arn:aws:dynamodb:...")

    monkeypatch.setattr("relance.ledger.Ledger.invoice", boom)
    status, error = api.call("GET", "/invoices/A1")
    assert status == 500 and "secret" not in json.dumps(error)


def test_request_without_identity_is_refused(api: Api, lambda_context: Any) -> None:
    reply = api.module.lambda_handler(sample("api-unsigned"), lambda_context)
    assert reply["statusCode"] == 403
    assert json.loads(reply["body"])["field"] is None
    assert api.ok("GET", "/invoices/A1")["balance"] == "1800.00"       # nothing was written
    event = sample("api-payment")
    del event["requestContext"]["identity"]
    assert api.module.lambda_handler(event, lambda_context)["statusCode"] == 403


def test_sample_events_run(api: Api, lambda_context: Any) -> None:
    reply = api.module.lambda_handler(sample("api-payment"), lambda_context)
    assert reply["statusCode"] == 201 and json.loads(reply["body"])["invoice"]["balance"] == "900.00"
    reply = api.module.lambda_handler(sample("api-get-invoice"), lambda_context)
    assert reply["statusCode"] == 200


# ---------------------------------------------------------------------------- escalation outcomes
def test_outcome_of_an_unknown_case_is_404_and_a_bad_outcome_422(api: Api) -> None:
    status, body = api.call("POST", "/cases/NOPE-0000/outcome", {"outcome": "recovered", "amount": "10.00"})
    assert status == 404 and "NOPE-0000" in body["error"]
    status, body = api.call("POST", "/cases/NOPE-0000/outcome", {"outcome": "won", "amount": "10.00"})
    assert status == 422 and body["field"] == "outcome"
    status, body = api.call("POST", "/cases/NOPE-0000/outcome", {"outcome": "recovered", "amount": 10.5})
    assert status == 422 and body["field"] == "amount"


# ---------------------------------------------------------------------------- registered letters
def test_a_registered_letter_posted_then_received_goes_into_the_history(api: Api, embedded: EmbeddedAws) -> None:
    # Given a formal notice generated as a registered letter on 18 May
    from relance.store import SentStep

    ledger = ledger_of(embedded)
    record = ledger.invoice("A1")
    ledger.store.update_invoice_state(record, changes={"sent": (SentStep("formal_notice", dt.date(2026, 5, 18),
                                                                         ("letter", "email")),)},
                                      next_action=record.next_action)
    # When the team records its posting with the tracking number, then the avis de réception
    api.ok("POST", "/invoices/A1/letters", {"step": "formal_notice", "event": "posted", "date": "2026-05-19",
                                            "tracking": "1A00012345678"})
    assert ledger.invoice("A1").notice_effective == dt.date(2026, 5, 21)     # posting + 2 days, until the receipt
    history = api.ok("POST", "/invoices/A1/letters", {"step": "formal_notice", "event": "received",
                                                      "date": "2026-05-21"})
    # Then both are in the invoice's history, with what the law counts from
    letters = [(e["kind"], e["date"], e["details"].get("tracking")) for e in history["events"]
               if e["kind"].startswith("letter_")]
    assert letters == [("letter_posted", "2026-05-19", "1A00012345678"), ("letter_received", "2026-05-21", None)]
    assert ledger.invoice("A1").notice_effective == dt.date(2026, 5, 21)     # what a consumer's interest runs from
    # and a receipt dated before the letter, or a step without a letter, is refused with the field named
    status, error = api.call("POST", "/invoices/A1/letters", {"step": "formal_notice", "event": "received",
                                                            "date": "2026-05-01"})
    assert status == 422 and "before the letter" in error["error"]
    status, error = api.call("POST", "/invoices/A1/letters", {"step": "final_notice", "event": "posted",
                                                            "date": "2026-05-21"})
    assert status in (404, 409, 422) and "no letter" in error["error"]
