"""POST /invoices/{id}/lifecycle: e-invoicing statuses 207/208/210/211/212/213 drive the dunning."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends
from test_api_support import TODAY, Api, sample, seeded_api

from relance_dev.embedded import EmbeddedAws


@pytest.fixture
def api(embedded: EmbeddedAws, monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> Api:
    return seeded_api(embedded, monkeypatch, lambda_context)


def tasks(embedded: EmbeddedAws) -> list[tuple[str, str]]:
    topic = sns_backends[DEFAULT_ACCOUNT_ID][embedded.region].topics[embedded.resources["TaskTopic"]]
    return [(n[2], n[1]) for n in topic.sent_notifications]


def test_212_records_the_payment_once(api: Api) -> None:
    # Given invoice A1 of 1800.00, overdue; When the platform reports a 212 "encaissée" of 900.00
    body = {"status": "212", "amount": "900.00", "date": "2026-04-30", "reference": "CDAR-1"}
    reply = api.ok("POST", "/invoices/A1/lifecycle", body)
    # Then the payment is recorded
    assert reply["action"] == "payment" and reply["label"] == "Encaissée"
    assert reply["invoice"]["payments"] == [{"date": "2026-04-30", "amount": "900.00"}]
    # When the platform delivers the same status again
    again = api.ok("POST", "/invoices/A1/lifecycle", body)           # the platform delivers it twice
    # Then it is a duplicate and the balance is unchanged
    assert again["action"] == "duplicate" and again["invoice"]["balance"] == "900.00"


def test_212_needs_an_amount(api: Api) -> None:
    # Given invoice A1; When a 212 comes without an amount
    status, error = api.call("POST", "/invoices/A1/lifecycle", {"status": "212"})
    # Then it is refused on the amount field
    assert (status, error["field"]) == (422, "amount")


def test_211_waits_for_the_funds_and_212_resumes(api: Api) -> None:
    # Given invoice A1 of 1800.00, overdue; When the platform reports a 211 "paiement transmis"
    waiting = api.ok("POST", "/invoices/A1/lifecycle", {"status": "211"})["invoice"]
    # Then the dunning pauses
    assert waiting["manual_pause"] is True and waiting["next_action"] is None
    # When the 212 follows with 1000.00
    cashed = api.ok("POST", "/invoices/A1/lifecycle", {"status": "212", "amount": "1000.00"})["invoice"]
    # Then the dunning resumes today on the balance left
    assert cashed["manual_pause"] is False and cashed["balance"] == "800.00"
    assert cashed["next_action"] == TODAY.isoformat()
    # And the history says why it paused
    reasons = [e["details"].get("reason", "") for e in api.ok("GET", "/invoices/A1/history")["events"]]
    assert any(r.startswith("e-invoicing 211") for r in reasons)


@pytest.mark.parametrize("code", ["207", "208"])
def test_207_208_pause_like_a_dispute(api: Api, code: str) -> None:
    # Given invoice A1, overdue; When the platform reports it "en litige" (207) or "suspendue" (208)
    paused = api.ok("POST", "/invoices/A1/lifecycle", {"status": code})
    # Then the invoice is paused as disputed
    assert paused["action"] == "paused" and paused["invoice"]["disputed"] is True
    assert paused["invoice"]["next_action"] is None
    # When the dispute is resolved
    resolved = api.ok("DELETE", "/invoices/A1/dispute")
    # Then the dunning resumes today
    assert resolved["next_action"] == TODAY.isoformat()


@pytest.mark.parametrize(("code", "needle"), [("210", "credit note"), ("213", "issue it again")])
def test_210_213_cancel_and_raise_a_task(api: Api, embedded: EmbeddedAws, code: str, needle: str) -> None:
    # Given invoice A1; When the platform reports it "refusée" (210) or "rejetée" (213), with a reason
    reply = api.ok("POST", "/invoices/A1/lifecycle", {"status": code, "reason": "SIREN erroné"})
    # Then the invoice is cancelled
    assert reply["action"] == "cancelled" and reply["task"] is True
    assert (reply["invoice"]["status"], reply["invoice"]["next_action"]) == ("cancelled", None)
    # And one task tells the team what to do, with the reason
    ((subject, message),) = tasks(embedded)
    assert "A1" in subject and needle in message and "SIREN erroné" in message
    # And no payment can be recorded on it any more
    status, _ = api.call("POST", "/invoices/A1/payments", {"amount": "1.00"})
    assert status == 409


def test_informational_status_is_noted(api: Api) -> None:
    # Given invoice A1, overdue; When the platform reports an informational status (205 "approuvée")
    reply = api.ok("POST", "/invoices/A1/lifecycle", {"status": "205"})
    # Then the dunning goes on today
    assert reply["action"] == "noted" and reply["invoice"]["next_action"] == TODAY.isoformat()
    # And the status is the last event of the history
    kinds = [e["kind"] for e in api.ok("GET", "/invoices/A1/history")["events"]]
    assert kinds[-1] == "lifecycle"


@pytest.mark.parametrize("code", ["214", "999"])
def test_unknown_code_is_a_clear_error(api: Api, code: str) -> None:
    # Given invoice A1; When the platform reports a code that does not exist
    status, error = api.call("POST", "/invoices/A1/lifecycle", {"status": code})
    # Then it is refused with a clear message on the status field
    assert status == 422 and error["field"] == "status" and "unknown e-invoicing lifecycle status" in error["error"]


def test_amount_on_a_non_payment_status_is_refused(api: Api) -> None:
    # Given invoice A1; When a non-payment status comes with an amount
    status, error = api.call("POST", "/invoices/A1/lifecycle", {"status": "207", "amount": "10.00"})
    # Then it is refused on the amount field
    assert (status, error["field"]) == (422, "amount")


def test_sample_event(api: Api, lambda_context: Any) -> None:
    # Given invoice A1; When the handler gets the committed sample lifecycle event
    reply = api.module.lambda_handler(sample("api-lifecycle"), lambda_context)
    # Then it replies 200 with the payment recorded
    body = json.loads(reply["body"])
    assert reply["statusCode"] == 200 and body["action"] == "payment" and body["invoice"]["balance"] == "900.00"
