"""Issue 14 point 2: invoice ids with ``/`` (``F/2026/7``, common in French numbering) work on every route.

API Gateway (REST) hands the function the path still percent-encoded (``/invoices/F%2F2026%2F7``) and the
path parameters decoded; the client sends ``%2F``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from test_api_support import CUSTOMER, INVOICE, Api, api_event, seeded_api

from relance_dev.embedded import EmbeddedAws

ODD = "F/2026/7"


def _call(api: Api, method: str, template: str, body: Any = None, invoice: str = ODD) -> tuple[int, Any]:
    path = template.format(id=quote(invoice, safe=""))
    event = api_event(method, path, body)
    event["pathParameters"] = {"invoice_id": invoice}
    event["resource"] = template.format(id="{invoice_id}")
    reply = api.module.lambda_handler(event, api.context)
    return int(reply["statusCode"]), json.loads(reply.get("body") or "null")


@pytest.fixture
def api(embedded: EmbeddedAws, monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> Api:
    client = seeded_api(embedded, monkeypatch, lambda_context)
    client.ok("POST", "/invoices", {**INVOICE, "id": ODD, "customer": CUSTOMER["id"]})
    client.ok("POST", "/invoices", {**INVOICE, "id": "F_2026_7", "customer": CUSTOMER["id"]})
    return client


def test_an_invoice_id_with_slashes_works_on_every_route(api: Api) -> None:
    steps = [("GET", "/invoices/{id}", None, 200), ("GET", "/invoices/{id}/history", None, 200),
             ("PATCH", "/invoices/{id}", {"due": "2026-04-20"}, 200),
             ("POST", "/invoices/{id}/payments", {"amount": "100.00", "reference": "VIR-1"}, 201),
             ("POST", "/invoices/{id}/dispute", {"reason": "livraison incomplète"}, 200),
             ("DELETE", "/invoices/{id}/dispute", None, 200),
             ("POST", "/invoices/{id}/promise", {"until": "2026-05-20"}, 200),
             ("PUT", "/invoices/{id}/plan", {"instalments": [{"date": "2026-06-01", "amount": "1700.00"}]}, 200),
             ("POST", "/invoices/{id}/pause", {"reason": "appel"}, 200),
             ("POST", "/invoices/{id}/resume", None, 200),
             ("POST", "/invoices/{id}/lifecycle", {"status": "204"}, 200),
             ("POST", "/invoices/{id}/write-off", {"reason": "accord"}, 200)]
    for method, path, body, expected in steps:
        status, reply = _call(api, method, path, body)
        assert status == expected, (method, path, status, reply)
    # The lookalike invoice was never touched.
    status, other = _call(api, "GET", "/invoices/{id}", invoice="F_2026_7")
    assert status == 200 and other["balance"] == "1800.00" and other["status"] == "open", other
    status, odd = _call(api, "GET", "/invoices/{id}")
    assert odd["id"] == ODD and odd["status"] == "written_off", odd


def test_the_openapi_document_accepts_slashes_in_ids() -> None:
    from test_api_support import REPO

    document = json.loads((REPO / "functions" / "api" / "openapi.json").read_text(encoding="utf-8"))
    parameter = document["paths"]["/invoices/{invoice_id}"]["get"]["parameters"][0]
    assert "%2F" in parameter["description"], parameter
    import re

    assert re.fullmatch(parameter["schema"]["pattern"].strip("^$"), quote(ODD, safe="")), parameter
