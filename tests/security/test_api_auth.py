"""No API write without authentication: every write route, unsigned or with an empty identity, is refused
and writes nothing; the deployed API requires AWS_IAM on every method."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from test_api_support import Api, api_event, use_function_env

from relance_dev.embedded import EmbeddedAws
from relance_dev.embedded.translate import translate

REPO = Path(__file__).resolve().parents[2]
OPENAPI = json.loads((REPO / "functions" / "api" / "openapi.json").read_text(encoding="utf-8"))
WRITES = sorted((method.upper(), path) for path, methods in OPENAPI["paths"].items() for method in methods
                if method in ("post", "put", "patch", "delete"))
BODIES = {"/customers": {"id": "EVIL", "name": "Evil", "kind": "b2b", "email": "evil@evil.example"},
          "/invoices": {"id": "EVIL1", "customer": "C1", "issued": "2026-03-17", "due": "2026-04-16",
                        "amount": "1.00"},
          "payments": {"amount": "1800.00"}, "dispute": {"reason": "x"}, "promise": {"until": "2026-06-01"},
          "plan": {"instalments": [{"date": "2026-06-01", "amount": "1800.00"}]}, "write-off": {"reason": "x"},
          "pause": {}, "lifecycle": {"code": "212", "amount": "1800.00"},
          "outcome": {"outcome": "recovered", "amount": "1800.00"}}


def _concrete(path: str) -> str:
    return path.replace("{invoice_id}", "A1").replace("{customer_id}", "C1").replace("{case_id}", "CASE1")


def _body(path: str) -> Any:
    return BODIES.get(path) or BODIES.get(path.rsplit("/", 1)[-1], {"name": "Evil"})


@pytest.fixture
def api(embedded: EmbeddedAws, monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> Api:
    use_function_env(embedded, monkeypatch, today=dt.date(2026, 5, 4))
    client = Api(lambda_context)
    client.ok("POST", "/customers", {"id": "C1", "name": "Boulangerie Exemple SARL", "kind": "b2b",
                                     "email": "compta@boulangerie.example"})
    client.ok("POST", "/invoices", {"id": "A1", "customer": "C1", "issued": "2026-03-17", "due": "2026-04-16",
                                    "amount": "1800.00"})
    return client


def _state(api: Api) -> tuple[Any, ...]:
    invoice = api.ok("GET", "/invoices/A1")
    history = api.ok("GET", "/invoices/A1/history")
    status, _ = api.call("GET", "/customers/EVIL")
    return invoice, history, status


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_no_write_without_a_caller_identity(api: Api, lambda_context: Any, method: str, path: str) -> None:
    before = _state(api)
    concrete = _concrete(path)
    attempts = [api_event(method, concrete, _body(path), signed=False)]
    for identity in ({}, {"userArn": "", "caller": "  "}, None):
        event = api_event(method, concrete, _body(path))
        if identity is None:
            del event["requestContext"]
        else:
            event["requestContext"]["identity"] = identity
        attempts.append(event)
    for event in attempts:
        reply = api.module.lambda_handler(event, lambda_context)
        assert reply["statusCode"] == 403, (method, path, reply)
        assert json.loads(reply["body"]) == {"error": "request without a caller identity (AWS_IAM signature)",
                                             "field": None}
    assert _state(api) == before


def test_the_deployed_api_requires_iam_on_every_method() -> None:
    resources = translate(REPO / "template.yaml")["Resources"]
    body = resources["RelanceApi"]["Properties"]["Body"]
    for path, methods in body["paths"].items():
        for method, spec in methods.items():
            assert spec.get("security") == [{"AWS_IAM": []}], (path, method)
    for logical, resource in resources.items():
        if resource["Type"] == "AWS::ApiGateway::Method" and logical.startswith("RelanceApi"):
            assert resource["Properties"].get("AuthorizationType") == "AWS_IAM", logical
