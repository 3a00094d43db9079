"""Issue 14 point 3: nothing secret or personal in traces, and no task token in a GDPR export.

With ``Tracing: Active`` Powertools puts each handler's response (and any exception) into the X-Ray
segment's metadata unless told not to: the approval page (its signature, the debtor's address), the
API's invoices, an import report naming customers. Every handler and traced method must say
``capture_response=False`` and ``capture_error=False``; the template sets the same defaults.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_api_support import load_function

from relance import cli, runtime
from relance_dev.embedded import EmbeddedAws

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(p.parent.name for p in (REPO / "functions").glob("*/app.py"))


def _tracer_decorators(path: Path) -> Iterator[tuple[str, ast.expr]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for deco in node.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                if isinstance(target, ast.Attribute) and target.attr in ("capture_lambda_handler", "capture_method"):
                    yield node.name, deco


@pytest.mark.parametrize("name", FUNCTIONS)
def test_no_handler_puts_its_response_or_error_in_a_trace(name: str) -> None:
    found = list(_tracer_decorators(REPO / "functions" / name / "app.py"))
    assert found, f"{name}: no tracer decorator found"
    for function, deco in found:
        assert isinstance(deco, ast.Call), f"{name}.{function}: bare tracer decorator captures the response"
        flags = {k.arg: k.value for k in deco.keywords}
        for flag in ("capture_response", "capture_error"):
            value = flags.get(flag)
            assert isinstance(value, ast.Constant) and value.value is False, f"{name}.{function}: {flag}"


def test_the_template_turns_capture_off_for_every_function() -> None:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((REPO / "template.yaml").read_text(encoding="utf-8"), Loader=Loader)
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert str(variables.get("POWERTOOLS_TRACER_CAPTURE_RESPONSE")).lower() == "false"
    assert str(variables.get("POWERTOOLS_TRACER_CAPTURE_ERROR")).lower() == "false"


class _Segment:
    def __init__(self, sink: list[tuple[str, Any]]) -> None:
        self.sink = sink

    def put_metadata(self, key: str, value: Any, namespace: str | None = None) -> None:
        self.sink.append((key, value))

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def add_exception(self, *args: Any, **kwargs: Any) -> None:
        self.sink.append(("exception", args))


class _Provider:
    def __init__(self) -> None:
        self.metadata: list[tuple[str, Any]] = []

    @contextlib.contextmanager
    def in_subsegment(self, name: str) -> Iterator[_Segment]:
        yield _Segment(self.metadata)


def test_the_approval_page_is_not_put_in_a_trace(monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> None:
    module = load_function("approval")
    provider = _Provider()
    monkeypatch.setattr(module.tracer, "provider", provider)
    reply = module.lambda_handler({"httpMethod": "PUT", "path": "/approvals/x",
                                   "pathParameters": {"id": "x"}}, lambda_context)
    assert reply["statusCode"] == 405 and reply["body"]
    assert provider.metadata == [], provider.metadata


def test_the_gdpr_export_holds_no_task_token(embedded: EmbeddedAws, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    deployed = embedded.function_env("DispatchFunction")
    for key in ("TABLE_NAME", "DUE_SHARDS", "DEFAULT_POLICY"):
        monkeypatch.setenv(key, deployed[key])
    monkeypatch.setenv("LETTERS_BUCKET", embedded.resources["LettersBucket"])
    runtime.reset_clients()
    ledger = runtime.ledger(runtime.Settings.from_env(embedded.local_env("DispatchFunction")))
    ledger.upsert_customer({"id": "C1", "name": "Jean Exemple", "kind": "b2c", "email": "jean@exemple.example"})
    ledger.create_invoice({"id": "A1", "customer": "C1", "issued": "2026-03-17", "due": "2026-04-16",
                           "amount": "100.00"}, dt.date(2026, 3, 30))
    token = "AQCEAAAAKgAAAAMAAAAAAAAAAS3cr3tT4skT0k3n"
    store = ledger.store
    store.client.put_item(TableName=store.table, Item={
        "pk": {"S": "CASE#C1-0123456789abcdef"}, "sk": {"S": "CASE"}, "type": {"S": "case"}, "customer": {"S": "C1"},
        "status": {"S": "with_partner"}, "outcome_token": {"S": token}, "task_token": {"S": token}})
    assert cli.main(["customer", "export", "C1"]) == 0
    out = capsys.readouterr().out
    document = json.loads(out)
    assert document["cases"], document                 # the case is exported ...
    assert token not in out and "outcome_token" not in out and "task_token" not in out   # ... without its token
    runtime.reset_clients()
