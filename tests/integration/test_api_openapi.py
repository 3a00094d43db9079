"""The committed OpenAPI document is the one the resolver generates (regenerate: see the assert message)."""

from __future__ import annotations

import json

from test_api_support import REPO, load_function

from relance.api.routes import openapi_json

OPENAPI = REPO / "functions" / "api" / "openapi.json"
REGENERATE = ("functions/api/openapi.json is stale; regenerate it with:\n  .venv/bin/python -c \"import sys; "
              "sys.path.insert(0, 'tests/integration'); from test_api_openapi import write; write()\"")


def generated() -> str:
    return openapi_json(load_function("api").app)


def write() -> None:
    OPENAPI.write_text(generated(), encoding="utf-8")


def test_committed_openapi_matches_the_routes() -> None:
    # Given the API's routes; When the resolver generates the document; Then it is the committed one
    assert OPENAPI.read_text(encoding="utf-8") == generated(), REGENERATE


def test_openapi_describes_amounts_as_strings_and_errors() -> None:
    # Given the API's routes; When the resolver generates the document
    document = json.loads(generated())
    # Then a payment amount is a string with a pattern
    payment = document["components"]["schemas"]["PaymentIn"]["properties"]["amount"]
    assert payment["type"] == "string" and payment["pattern"]
    # And posting a payment documents its error replies
    post = document["paths"]["/invoices/{invoice_id}/payments"]["post"]
    assert {"400", "403", "404", "409", "422"} <= set(post["responses"])
    # And the customer, invoice, lifecycle, plan and history routes are described
    assert {"/customers", "/invoices", "/invoices/{invoice_id}/lifecycle", "/invoices/{invoice_id}/plan",
            "/invoices/{invoice_id}/history"} <= set(document["paths"])
