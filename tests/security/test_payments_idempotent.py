"""Issue 14 point 5: a retried ``POST /invoices/{id}/payments`` books the payment once.

Idempotent on the ``Idempotency-Key`` header, else on the client's ``reference``; the same key with a
different body is refused (422), never booked.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_api_support import Api, api_event, seeded_api

from relance_dev.embedded import EmbeddedAws


def _pay(api: Api, body: dict[str, Any], key: str | None = None, invoice: str = "A1") -> tuple[int, Any]:
    event = api_event("POST", f"/invoices/{invoice}/payments", body)
    if key is not None:
        event["headers"]["Idempotency-Key"] = key
    reply = api.module.lambda_handler(event, api.context)
    return int(reply["statusCode"]), json.loads(reply["body"])


def _payments(api: Api) -> list[dict[str, Any]]:
    history = api.ok("GET", "/invoices/A1/history")
    return [e for e in history["events"] if e["kind"] == "payment"]


@pytest.fixture
def api(embedded: EmbeddedAws, monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> Api:
    return seeded_api(embedded, monkeypatch, lambda_context)


def test_a_retry_with_the_same_idempotency_key_books_once(api: Api) -> None:
    first = _pay(api, {"amount": "500.00"}, key="retry-1")
    second = _pay(api, {"amount": "500.00"}, key="retry-1")
    assert first[0] == 201 and second[0] in (200, 201), (first, second)
    assert second[1]["applied"] == first[1]["applied"] == "500.00"
    assert api.ok("GET", "/invoices/A1")["balance"] == "1300.00"
    assert len(_payments(api)) == 1


def test_a_retry_with_the_same_reference_books_once(api: Api) -> None:
    for _ in range(3):
        status, _reply = _pay(api, {"amount": "1800.00", "reference": "VIR-2026-04-27"})
        assert status in (200, 201), _reply
    invoice = api.ok("GET", "/invoices/A1")
    assert invoice["balance"] == "0.00"           # (still open for the statement of the 40 €, paid late)
    assert len(_payments(api)) == 1


def test_the_header_name_is_case_insensitive(api: Api) -> None:
    assert _pay(api, {"amount": "100.00"}, key="k")[0] == 201
    event = api_event("POST", "/invoices/A1/payments", {"amount": "100.00"})
    event["headers"]["idempotency-key"] = "k"
    reply = api.module.lambda_handler(event, api.context)
    assert reply["statusCode"] == 200 and json.loads(reply["body"])["replayed"] is True
    assert api.ok("GET", "/invoices/A1")["balance"] == "1700.00"


def test_a_key_reused_with_another_body_is_refused_and_not_booked(api: Api) -> None:
    assert _pay(api, {"amount": "100.00"}, key="k-7")[0] == 201
    status, reply = _pay(api, {"amount": "900.00"}, key="k-7")
    assert status in (409, 422) and "Idempotency-Key" in reply["error"], reply
    status, reply = _pay(api, {"amount": "100.00", "reference": "R1"}, key="k-7")
    assert status in (409, 422), reply
    assert api.ok("GET", "/invoices/A1")["balance"] == "1700.00"
    assert len(_payments(api)) == 1


def test_two_payments_without_key_or_reference_are_two_payments(api: Api) -> None:
    assert _pay(api, {"amount": "100.00"})[0] == 201
    assert _pay(api, {"amount": "100.00"})[0] == 201
    assert api.ok("GET", "/invoices/A1")["balance"] == "1600.00"


def test_distinct_keys_are_distinct_payments(api: Api) -> None:
    assert _pay(api, {"amount": "100.00"}, key="a")[0] == 201
    assert _pay(api, {"amount": "100.00"}, key="b")[0] == 201
    assert api.ok("GET", "/invoices/A1")["balance"] == "1600.00"
