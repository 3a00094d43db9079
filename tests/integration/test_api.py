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
    # Given customer C1 created through the API; When it is read
    customer = api.ok("GET", "/customers/C1")
    # Then its phone is normalised and it has the default policy
    assert customer["phone"] == "+33612345678" and customer["policy"] == "standard"
    # When its email and segment are changed
    changed = api.ok("PATCH", "/customers/C1", {"email": "paiements@boulangerie.example", "segment": "retail"})
    # Then only those change
    assert changed["email"] == "paiements@boulangerie.example" and changed["name"] == CUSTOMER["name"]
    # And creating it again is a conflict on its id
    status, error = api.call("POST", "/customers", CUSTOMER)
    assert status == 409 and error["field"] == "id"
    # And an unknown customer is a plain 404
    status, error = api.call("GET", "/customers/NOPE")
    assert (status, error) == (404, {"error": "customer NOPE does not exist", "field": None})


def test_created_invoice_has_its_first_next_action(api: Api) -> None:
    # Given invoice A1 of 1800.00 created while overdue since 16 April; When it is read
    invoice = api.ok("GET", "/invoices/A1")
    # Then it is open for its full amount
    assert invoice["amount"] == "1800.00" and invoice["balance"] == "1800.00" and invoice["status"] == "open"
    # And a step is due today
    assert invoice["next_action"] == TODAY.isoformat()   # overdue since 2026-04-16: a step is due today
    # And creating it again is a conflict on its id
    status, error = api.call("POST", "/invoices", INVOICE)
    assert status == 409 and error["field"] == "id"


def test_update_invoice_due_date_moves_the_next_action(api: Api) -> None:
    # Given invoice A1, overdue; When its due date is moved to 30 June
    updated = api.ok("PATCH", "/invoices/A1", {"due": "2026-06-30"})
    # Then the next action moves after today
    assert updated["due"] == "2026-06-30"
    assert updated["next_action"] > TODAY.isoformat()
    # And the history has the update
    history = api.ok("GET", "/invoices/A1/history")
    assert [e["kind"] for e in history["events"]] == ["imported", "updated"]


# ---------------------------------------------------------------------------- payments
def test_partial_payment_then_the_balance_in_get(api: Api) -> None:
    # Given invoice A1 of 1800.00, overdue; When half of it is paid
    reply = api.ok("POST", "/invoices/A1/payments", {"amount": "900.00", "date": "2026-04-27"})
    # Then all of it is applied, no credit
    assert reply["applied"] == "900.00" and reply["credit"] == "0.00"
    # And the invoice shows the balance left and the payment
    invoice = api.ok("GET", "/invoices/A1")
    assert (invoice["balance"], invoice["paid"], invoice["status"]) == ("900.00", "900.00", "open")
    assert invoice["payments"] == [{"date": "2026-04-27", "amount": "900.00"}]
    # When the rest is paid
    api.ok("POST", "/invoices/A1/payments", {"amount": "900.00"})
    # Then no principal is owed but the invoice stays open for its late-payment penalties
    invoice = api.ok("GET", "/invoices/A1")
    # paid after its due date: the principal is settled, the 40 € indemnity and the interest remain, claimed
    # by one statement (policy penalties_after_principal: claim), so the invoice waits for it, owing no principal
    assert (invoice["balance"], invoice["status"]) == ("0.00", "open") and invoice["next_action"]
    # And the history says penalties remain
    kinds = [e["kind"] for e in api.ok("GET", "/invoices/A1/history")["events"]]
    assert "penalties_remaining" in kinds


def test_overpayment_is_kept_as_a_credit_and_reported(api: Api) -> None:
    # Given invoice A1 of 1800.00; When 2000.00 is paid
    reply = api.ok("POST", "/invoices/A1/payments", {"amount": "2000.00", "reference": "VIR-77"})
    # Then 1800.00 is applied and 200.00 kept as a credit
    assert (reply["applied"], reply["credit"]) == ("1800.00", "200.00")
    # And the invoice is paid, with the credit
    invoice = api.ok("GET", "/invoices/A1")
    assert (invoice["status"], invoice["balance"], invoice["credit"]) == ("paid", "0.00", "200.00")
    # And the history reports the overpayment
    kinds = [e["kind"] for e in api.ok("GET", "/invoices/A1/history")["events"]]
    assert "overpayment" in kinds
    # And a further payment on a paid invoice is a conflict
    status, error = api.call("POST", "/invoices/A1/payments", {"amount": "10.00"})
    assert status == 409 and "paid" in error["error"]


@pytest.mark.parametrize(("amount", "needle"), [
    (1800, "JSON number"), (12.5, "JSON number"), ("12.345", "two places"), ("-5.00", "negative"),
    ("0.00", "zero"), ("1,200.00", "decimal with a dot"),
])
def test_an_amount_must_be_a_decimal_string(api: Api, amount: Any, needle: str) -> None:
    # Given invoice A1; When a payment's amount is not a positive decimal string with two places
    status, error = api.call("POST", "/invoices/A1/payments", {"amount": amount})
    # Then it is refused with the reason, on the amount field
    assert status == 422 and error["field"] == "amount" and needle in error["error"], error


def test_payment_in_the_future_is_refused(api: Api) -> None:
    # Given invoice A1 on 4 May; When a payment is dated tomorrow
    status, error = api.call("POST", "/invoices/A1/payments", {"amount": "1.00", "date": "2026-05-05"})
    # Then it is refused on the date field
    assert (status, error["field"]) == (422, "date")


# ---------------------------------------------------------------------------- pauses
def test_dispute_pauses_and_resolving_resumes(api: Api) -> None:
    # Given invoice A1 with a step due
    before = api.ok("GET", "/invoices/A1")["next_action"]
    # When it is disputed
    disputed = api.ok("POST", "/invoices/A1/dispute", {"reason": "Livraison incomplète"})
    # Then the ladder pauses
    assert disputed["disputed"] is True and disputed["next_action"] is None and disputed["paused"] == ["dispute"]
    # And a second dispute is a conflict
    status, _ = api.call("POST", "/invoices/A1/dispute", {"reason": "again"})
    assert status == 409
    # When the dispute is resolved
    resolved = api.ok("DELETE", "/invoices/A1/dispute")
    # Then the ladder resumes where it was
    assert resolved["disputed"] is False and resolved["next_action"] == before
    # And the history has the pause and the resumption
    kinds = [e["kind"] for e in api.ok("GET", "/invoices/A1/history")["events"]]
    assert kinds == ["imported", "paused", "resumed"]


def test_promise_kept(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given invoice A1, overdue; When the customer promises to pay by Friday 15 May
    promised = api.ok("POST", "/invoices/A1/promise", {"until": "2026-05-15"})
    # Then the ladder pauses until the next business day after the promise
    assert promised["paused"] == ["promise"] and promised["next_action"] == "2026-05-18"  # next business day
    # When the full amount is paid on 14 May
    set_today(monkeypatch, dt.date(2026, 5, 14))
    paid = api.ok("POST", "/invoices/A1/payments", {"amount": "1800.00"})["invoice"]
    # Then no reminder is planned on 18 May any more
    # kept before the promised date but after the due date: no reminder any more, one statement of the 40 €
    assert (paid["status"], paid["balance"]) == ("open", "0.00") and paid["next_action"] != "2026-05-18"


def test_promise_broken_resumes_the_ladder(api: Api, embedded: EmbeddedAws) -> None:
    # Given invoice A1 with a promise to pay by 15 May
    api.ok("POST", "/invoices/A1/promise", {"until": "2026-05-15"})
    ledger = ledger_of(embedded)
    # When nothing was paid by then; Then the daily run finds the invoice due again on 18 May, not before
    assert ("C1", "A1") in list(ledger.store.due_entries(dt.date(2026, 5, 18)))
    assert ("C1", "A1") not in list(ledger.store.due_entries(dt.date(2026, 5, 15)))


def test_promise_in_the_past_is_refused(api: Api) -> None:
    # Given invoice A1 on 4 May; When a promise is dated in the past
    status, error = api.call("POST", "/invoices/A1/promise", {"until": "2026-05-01"})
    # Then it is refused on the until field
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
    # Given invoice A1 of 1800.00; When a plan of three monthly instalments of 600.00 is agreed
    plan = {"instalments": [{"date": "2026-05-15", "amount": "600.00"}, {"date": "2026-06-15", "amount": "600.00"},
                            {"date": "2026-07-15", "amount": "600.00"}]}
    invoice = api.ok("PUT", "/invoices/A1/plan", plan)
    # Then the ladder pauses until after the first instalment
    assert invoice["paused"] == ["payment_plan"] and invoice["next_action"] == "2026-05-18"
    # When the first instalment is paid on its day
    set_today(monkeypatch, dt.date(2026, 5, 15))
    invoice = api.ok("POST", "/invoices/A1/payments", {"amount": "600.00"})["invoice"]
    # Then the ladder stays paused until after the next instalment
    assert invoice["balance"] == "1200.00" and invoice["paused"] == ["payment_plan"]
    on_schedule = _decision(embedded, dt.date(2026, 5, 18))     # the run after the first instalment
    assert on_schedule.due == () and on_schedule.next_action == dt.date(2026, 6, 16)
    # When the second instalment is missed; Then the ladder resumes the day after
    record = ledger_of(embedded).invoice("A1")
    assert plan_paused_until(record, dt.date(2026, 6, 16)) is None
    assert _decision(embedded, dt.date(2026, 6, 16)).due


def test_payment_plan_must_add_up_to_the_balance(api: Api) -> None:
    # Given invoice A1 of 1800.00; When a plan adds up to only 1200.00
    plan = {"instalments": [{"date": "2026-05-15", "amount": "600.00"}, {"date": "2026-06-15", "amount": "600.00"}]}
    status, error = api.call("PUT", "/invoices/A1/plan", plan)
    # Then it is refused on the instalments, with the sum
    assert status == 422 and error["field"] == "instalments" and "1200.00" in error["error"]


def test_pause_resume_and_write_off(api: Api) -> None:
    # Given invoice A1, overdue; When it is paused by hand
    paused = api.ok("POST", "/invoices/A1/pause", {"reason": "client en redressement"})
    # Then no next action
    assert paused["manual_pause"] is True and paused["next_action"] is None
    # When it is resumed
    resumed = api.ok("POST", "/invoices/A1/resume")
    # Then a step is due today again
    assert resumed["manual_pause"] is False and resumed["next_action"] == TODAY.isoformat()
    # And resuming again is a conflict
    status, _ = api.call("POST", "/invoices/A1/resume")
    assert status == 409
    # When it is written off
    written_off = api.ok("POST", "/invoices/A1/write-off", {"reason": "montant trop faible"})
    # Then it is closed
    assert (written_off["status"], written_off["next_action"]) == ("written_off", None)
    # And it can no longer be disputed
    status, error = api.call("POST", "/invoices/A1/dispute", {"reason": "x"})
    assert (status, error["field"]) == (409, "status")


# ---------------------------------------------------------------------------- errors
def test_validation_errors_name_the_field(api: Api) -> None:
    # Given customer C1; When invoices are created with a due date before the issue date
    status, error = api.call("POST", "/invoices", {**INVOICE, "id": "A2", "due": "2026-02-01"})
    # Then it is refused with the reason
    assert status == 422 and "before the issue date" in error["error"]
    # And so is an unreadable due date, on its field
    status, error = api.call("POST", "/invoices", {**INVOICE, "id": "A3", "due": "16/04/2026"})
    assert (status, error["field"]) == (422, "due")
    # And an unknown customer, with its id
    status, error = api.call("POST", "/invoices", {**INVOICE, "id": "A4", "customer": "C404"})
    assert (status, error["error"]) == (404, "customer C404 does not exist")
    # And an unknown field, named
    status, error = api.call("POST", "/invoices", {**INVOICE, "id": "A5", "colour": "red"})
    assert (status, error) == (422, {"error": "unknown field", "field": "colour"})
    # And a customer's malformed email, on its field
    status, error = api.call("POST", "/customers", {**CUSTOMER, "id": "C2", "email": "not-an-email"})
    assert (status, error["field"]) == (422, "email")


def test_unreadable_bodies_are_400_without_exception_text(api: Api) -> None:
    # Given invoice A1; When a payment's body is not JSON, not an object, or empty
    for raw in ("{not json", "[1, 2]", ""):
        status, error = api.call("POST", "/invoices/A1/payments", raw_body=raw)
        # Then it is a bad request whose message holds no exception text
        assert status == 400, (raw, error)
        assert set(error) == {"error", "field"} and "Traceback" not in error["error"]
    # And an unknown route is a plain 404
    status, error = api.call("GET", "/nowhere")
    assert (status, error) == (404, {"error": "no such route", "field": None})
    # And so is an unknown invoice
    status, error = api.call("GET", "/invoices/UNKNOWN")
    assert status == 404 and error["error"] == "invoice UNKNOWN does not exist"


def test_unexpected_failure_is_a_json_500(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given invoice A1 and a ledger failing with internals in its message
    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret internals: table arn:aws:dynamodb:...")

    monkeypatch.setattr("relance.ledger.Ledger.invoice", boom)
    # When the invoice is read
    status, error = api.call("GET", "/invoices/A1")
    # Then the reply is a JSON 500 that does not leak them
    assert status == 500 and "secret" not in json.dumps(error)


def test_request_without_identity_is_refused(api: Api, lambda_context: Any) -> None:
    # Given invoice A1; When the committed unsigned sample event comes in
    reply = api.module.lambda_handler(sample("api-unsigned"), lambda_context)
    # Then it is refused without naming a field
    assert reply["statusCode"] == 403
    assert json.loads(reply["body"])["field"] is None
    # And nothing was written
    assert api.ok("GET", "/invoices/A1")["balance"] == "1800.00"       # nothing was written
    # And a payment event without an identity is refused too
    event = sample("api-payment")
    del event["requestContext"]["identity"]
    assert api.module.lambda_handler(event, lambda_context)["statusCode"] == 403


def test_sample_events_run(api: Api, lambda_context: Any) -> None:
    # Given invoice A1 of 1800.00; When the committed sample payment event comes in
    reply = api.module.lambda_handler(sample("api-payment"), lambda_context)
    # Then 900.00 is paid
    assert reply["statusCode"] == 201 and json.loads(reply["body"])["invoice"]["balance"] == "900.00"
    # When the committed sample read event comes in
    reply = api.module.lambda_handler(sample("api-get-invoice"), lambda_context)
    # Then it is answered
    assert reply["statusCode"] == 200


# ---------------------------------------------------------------------------- escalation outcomes
def test_outcome_of_an_unknown_case_is_404_and_a_bad_outcome_422(api: Api) -> None:
    # Given no escalation case; When an outcome is recorded for an unknown case
    status, body = api.call("POST", "/cases/NOPE-0000/outcome", {"outcome": "recovered", "amount": "10.00"})
    # Then it is a 404 naming the case
    assert status == 404 and "NOPE-0000" in body["error"]
    # And an unknown outcome is refused on its field
    status, body = api.call("POST", "/cases/NOPE-0000/outcome", {"outcome": "won", "amount": "10.00"})
    assert status == 422 and body["field"] == "outcome"
    # And so is an amount as a JSON number
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
    # When the team records its posting with the tracking number
    api.ok("POST", "/invoices/A1/letters", {"step": "formal_notice", "event": "posted", "date": "2026-05-19",
                                            "tracking": "1A00012345678"})
    # Then the notice counts from two days after posting, until the receipt
    assert ledger.invoice("A1").notice_effective == dt.date(2026, 5, 21)     # posting + 2 days, until the receipt
    # When the avis de réception comes
    history = api.ok("POST", "/invoices/A1/letters", {"step": "formal_notice", "event": "received",
                                                      "date": "2026-05-21"})
    # Then both are in the invoice's history, with what the law counts from
    letters = [(e["kind"], e["date"], e["details"].get("tracking")) for e in history["events"]
               if e["kind"].startswith("letter_")]
    assert letters == [("letter_posted", "2026-05-19", "1A00012345678"), ("letter_received", "2026-05-21", None)]
    assert ledger.invoice("A1").notice_effective == dt.date(2026, 5, 21)     # what a consumer's interest runs from
    # And a receipt dated before the letter, or a step without a letter, is refused with the field named
    status, error = api.call("POST", "/invoices/A1/letters", {"step": "formal_notice", "event": "received",
                                                            "date": "2026-05-01"})
    assert status == 422 and "before the letter" in error["error"]
    status, error = api.call("POST", "/invoices/A1/letters", {"step": "final_notice", "event": "posted",
                                                            "date": "2026-05-21"})
    assert status in (404, 409, 422) and "no letter" in error["error"]
