"""Helpers shared by the API and import tests (no tests here): load a handler, build proxy events."""

from __future__ import annotations

import copy
import datetime as dt
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from relance import runtime
from relance.ledger import Ledger
from relance.store import Store
from relance_dev.embedded import EmbeddedAws

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "events"


def load_function(name: str) -> ModuleType:
    """Import functions/<name>/app.py under a unique module name (two functions both have an app.py)."""
    module_name = f"_relance_test_fn_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, REPO / "functions" / name / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def use_function_env(aws: EmbeddedAws, monkeypatch: pytest.MonkeyPatch, *, today: dt.date) -> dict[str, str]:
    """The environment the API/Import functions get once deployed (Globals + their own variables)."""
    env = aws.local_env("DispatchFunction")
    env.pop("SES_CONFIGURATION_SET", None)
    env["TASK_TOPIC_ARN"] = aws.resources["TaskTopic"]
    env["LETTERS_BUCKET"] = aws.resources["LettersBucket"]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    runtime.reset_clients()
    for name in ("api", "imports"):
        monkeypatch.setattr(load_function(name), "today_paris", lambda: today)
    return env


def ledger_of(aws: EmbeddedAws) -> Ledger:
    env = aws.function_env("DispatchFunction")
    return Ledger(Store(aws.client("dynamodb"), env["TABLE_NAME"], int(env["DUE_SHARDS"])), runtime.policies(),
                  env["DEFAULT_POLICY"])


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def api_event(method: str, path: str, body: Any = None, *, raw_body: str | None = None,
              signed: bool = True) -> dict[str, Any]:
    """An API Gateway (REST, proxy) event shaped like events/api-get-invoice.json."""
    event = copy.deepcopy(sample("api-get-invoice" if signed else "api-unsigned"))
    parts = path.strip("/").split("/")
    resource_parts, params = [], {}
    for index, part in enumerate(parts):
        if index == 1 and parts[0] in ("invoices", "customers"):
            key = "invoice_id" if parts[0] == "invoices" else "customer_id"
            params[key] = part
            resource_parts.append("{" + key + "}")
        else:
            resource_parts.append(part)
    resource = "/" + "/".join(resource_parts)
    event.update(httpMethod=method, path=path, resource=resource, pathParameters=params or None)
    event["requestContext"].update(httpMethod=method, resourcePath=resource, path="/prod" + path)
    if raw_body is not None:
        event["body"] = raw_body
    elif body is not None:
        event["body"] = json.dumps(body)
    else:
        event["body"] = None
    event["headers"] = {"Content-Type": "application/json"}
    return event


class Api:
    """Calls the ApiFunction handler like API Gateway does and decodes the JSON reply."""

    def __init__(self, context: Any) -> None:
        self.module = load_function("api")
        self.context = context

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        reply = self.module.lambda_handler(api_event(method, path, body, **kwargs), self.context)
        text = reply.get("body") or "null"
        return int(reply["statusCode"]), json.loads(text)

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        status, data = self.call(method, path, body)
        assert status in (200, 201), (status, data)
        return data


TODAY = dt.date(2026, 5, 4)          # a Monday
CUSTOMER = {"id": "C1", "name": "Boulangerie Exemple SARL", "kind": "b2b", "email": "compta@boulangerie.example",
            "phone": "06 12 34 56 78", "address": "4 rue des Lilas, 69003 Lyon", "siren": "123456789"}
INVOICE = {"id": "A1", "customer": "C1", "issued": "2026-03-17", "due": "2026-04-16", "amount": "1800.00"}


def seeded_api(embedded: EmbeddedAws, monkeypatch: pytest.MonkeyPatch, context: Any) -> Api:
    """The API on ``TODAY`` with the function's environment, customer C1 and its invoice A1 created."""
    use_function_env(embedded, monkeypatch, today=TODAY)
    client = Api(context)
    client.ok("POST", "/customers", CUSTOMER)
    client.ok("POST", "/invoices", INVOICE)
    return client
