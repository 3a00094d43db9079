"""Every row of the bad-input catalogue: the clear error, never a traceback, the others go on, nothing lost.

One embedded AWS for the whole module (cases use their own ids), so the ~90 cases stay quick.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from catalogue import CASES, GOOD_ROW, Case, facturx_input, markdown_table
from test_api_support import Api, api_event, ledger_of, load_function, sample, use_function_env

from relance import cli, runtime
from relance.errors import ValidationError
from relance.ledger import Ledger
from relance.store import due_keys, quarantine_items
from relance_dev.embedded import EmbeddedAws, LambdaContext, embedded_aws
from relance_dev.inputs import put_raw_invoice_item
from relance_dev.simulate.driver import _sqs_record

TODAY = dt.date(2026, 5, 4)
RUN = dt.date(2026, 4, 16)
REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "hardening.md"
CUSTOMER = {"id": "C1", "name": "Boulangerie Exemple SARL", "kind": "b2b", "email": "compta@boulangerie.example",
            "address": "4 rue des Lilas, 69003 Lyon"}
INVOICE = {"id": "A1", "customer": "C1", "issued": "2026-03-17", "due": "2026-04-16", "amount": "1800.00"}


@dataclass
class World:
    aws: EmbeddedAws
    ledger: Ledger
    api: Api
    tmp: Path
    context: LambdaContext


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with embedded_aws() as aws, pytest.MonkeyPatch.context() as mp:
        use_function_env(aws, mp, today=TODAY)
        mp.setattr("relance.imports.today_paris", lambda now=None: TODAY)
        ledger = ledger_of(aws)
        ledger.upsert_customer(CUSTOMER)
        ledger.create_invoice(INVOICE, dt.date(2026, 3, 30))
        context = LambdaContext("relance-badinput", 512, 60, "arn:aws:lambda:eu-west-3:123456789012:function:x")
        yield World(aws, ledger, Api(context), tmp_path_factory.mktemp("badinput"), context)
    runtime.reset_clients()


def _stored_invoices(world: World) -> set[str]:
    client = world.ledger.store.client
    found: set[str] = set()
    for page in client.get_paginator("scan").paginate(TableName=world.ledger.store.table,
                                                       ProjectionExpression="pk, sk"):
        found |= {item["pk"]["S"] for item in page["Items"] if item["sk"]["S"] == "META"}
    return found


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


# ---------------------------------------------------------------------------- the catalogue itself
def test_the_catalogue_has_at_least_40_kinds_across_every_entry() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.entry for c in CASES} == {"api", "csv", "cli", "facturx", "s3key", "s3event", "schedule", "sqs",
                                        "stored", "policy"}


def test_the_doc_table_is_generated_from_the_catalogue() -> None:
    text = DOC.read_text(encoding="utf-8")
    start, end = "<!-- catalogue:start -->\n", "<!-- catalogue:end -->"
    assert start in text and end in text
    assert text.split(start, 1)[1].split(end, 1)[0] == markdown_table(), (
        "docs/hardening.md is out of date: run `.venv/bin/python tests/badinput/write_doc.py`")


# ---------------------------------------------------------------------------- every case
@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_input(case: Case, world: World, capsys: pytest.CaptureFixture[str]) -> None:
    number = CASES.index(case)
    before = _stored_invoices(world)
    {"api": _api, "csv": _csv, "cli": _cli, "facturx": _facturx, "s3key": _s3key, "s3event": _s3event,
     "schedule": _schedule,
     "sqs": _sqs, "stored": _stored, "policy": _policy}[case.entry](case, world, number, capsys)
    # No record is lost: every invoice stored before is still there, the sentinel unchanged.
    assert before <= _stored_invoices(world)
    sentinel = world.ledger.store.get_invoice("A1")
    assert sentinel is not None and str(sentinel.balance) == "1800.00"


def _api(case: Case, world: World, number: int, capsys: pytest.CaptureFixture[str]) -> None:
    method, path, body, *more = case.input
    raw = body if isinstance(body, str) else None
    if more:                                         # other headers (Content-Type)
        event = api_event(method, path, None if raw is not None else body, raw_body=raw)
        event["headers"] = dict(more[0])
        reply_raw = world.api.module.lambda_handler(event, world.context)
        status, reply = int(reply_raw["statusCode"]), json.loads(reply_raw.get("body") or "null")
    else:
        status, reply = world.api.call(method, path, None if raw is not None else body, raw_body=raw)
    assert 400 <= status < 500, (status, reply)
    assert isinstance(reply, dict) and set(reply) == {"error", "field"}, reply
    text = f"{reply['error']} (field {reply['field']})"
    assert case.error in text and "Traceback" not in text, text
    assert world.api.ok("GET", "/invoices/A1")["balance"] == "1800.00"          # the API goes on


def _run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _csv(case: Case, world: World, number: int, capsys: pytest.CaptureFixture[str]) -> None:
    path = world.tmp / f"{case.id}.csv"
    if isinstance(case.input, bytes):
        path.write_bytes(case.input)
    else:
        path.write_text(case.input.replace("{n}", str(number)), encoding="utf-8")
    code, _, err = _run_cli(capsys, "import", str(path))
    line = _one_line(err)
    assert code == 2 and case.error in line and str(path) in line, line
    if case.row_level:     # all or nothing: the good row of the refused file is not imported either
        assert world.ledger.store.get_invoice(f"OK-{number}") is None


def _cli(case: Case, world: World, number: int, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run_cli(capsys, *case.input)
    assert code == 2 and case.error in _one_line(err), err
    code, out, _ = _run_cli(capsys, "invoice", "show", "A1")
    assert code == 0 and json.loads(out)["id"] == "A1"


def _drop(world: World, keys: list[str]) -> dict[str, Any]:
    """Each key dropped in the bucket as EventBridge tells ImportFunction (one event per object)."""
    bucket = world.aws.resources["LettersBucket"]
    imports: list[dict[str, Any]] = []
    for key in keys:
        event = copy.deepcopy(sample("s3-import"))
        event["time"] = "2026-05-04T06:00:00Z"
        event["detail"]["bucket"]["name"], event["detail"]["object"]["key"] = bucket, key
        imports += load_function("imports").lambda_handler(event, world.context)["imports"]
    return {"imports": imports}


def _report(world: World, key: str) -> dict[str, Any]:
    s3 = world.aws.client("s3")
    body = s3.get_object(Bucket=world.aws.resources["LettersBucket"], Key=key.rsplit(".", 1)[0] + ".report.json")
    report: dict[str, Any] = json.loads(body["Body"].read())
    return report


def _good_csv(world: World, number: int) -> str:
    key = f"imports/good-{number}.csv"
    body = f"client;nom;type;facture;date_facture;echeance;montant_ttc\n{GOOD_ROW.replace('{n}', str(number))}\n"
    world.aws.client("s3").put_object(Bucket=world.aws.resources["LettersBucket"], Key=key, Body=body.encode())
    return key


def _facturx(case: Case, world: World, number: int, capsys: pytest.CaptureFixture[str]) -> None:
    key = f"imports/{case.id}.pdf"
    world.aws.client("s3").put_object(Bucket=world.aws.resources["LettersBucket"], Key=key,
                                      Body=facturx_input(case.input))
    good = _good_csv(world, number)
    result = _drop(world, [key, good])
    assert [r["ok"] for r in result["imports"]] == [False, True], result
    report = _report(world, key)
    assert report["ok"] is False and case.error in report["errors"][0]["reason"], report
    assert world.ledger.store.get_invoice(f"OK-{number}") is not None


def _s3key(case: Case, world: World, number: int, capsys: pytest.CaptureFixture[str]) -> None:
    if case.input.endswith(".exe"):
        world.aws.client("s3").put_object(Bucket=world.aws.resources["LettersBucket"], Key=case.input, Body=b"MZ")
    good = _good_csv(world, number)
    result = _drop(world, [case.input, good])
    bad, ok = result["imports"]
    assert bad["ok"] is False and ok["ok"] is True, result
    reason = bad.get("reason") or _report(world, case.input)["errors"][0]["reason"]
    assert case.error in reason, reason
    assert world.ledger.store.get_invoice(f"OK-{number}") is not None


def _s3event(case: Case, world: World, number: int, capsys: pytest.CaptureFixture[str]) -> None:
    action, path, *value = case.input
    event: Any = copy.deepcopy(sample("s3-import"))
    event["detail"]["bucket"]["name"] = world.aws.resources["LettersBucket"]
    if action == "whole":
        event = copy.deepcopy(path)
    else:
        *parents, last = path.split(".")
        node = event
        for name in parents:
            node = node[name]
        if action == "del":
            del node[last]
        else:
            node[last] = value[0]
    (refused,) = load_function("imports").lambda_handler(event, world.context)["imports"]
    assert refused["ok"] is False and case.error in refused["reason"], refused
    good = _good_csv(world, number)
    assert [r["ok"] for r in _drop(world, [good])["imports"]] == [True]
    assert world.ledger.store.get_invoice(f"OK-{number}") is not None


def _schedule(case: Case, world: World, number: int, capsys: pytest.CaptureFixture[str]) -> None:
    reply = world.aws.invoke("DailyRunFunction", copy.deepcopy(case.input))
    assert reply["status"] == "rejected" and case.error in reply["reason"], reply
    good = world.aws.invoke("DailyRunFunction", {"time": "2026-03-01T07:00:00Z"})    # nothing due that day
    assert good["status"] == "ok"


def _good_customer(world: World, number: int) -> str:
    cid = f"G-{number}"
    world.ledger.upsert_customer({"id": cid, "name": "Client Correct SARL", "kind": "b2b",
                                  "email": f"compta@g{number}.example"})
    world.ledger.create_invoice({"id": f"GI-{number}", "customer": cid, "issued": "2026-03-17",
                                 "due": "2026-04-16", "amount": "100.00"}, dt.date(2026, 3, 30))
    return cid


def _dispatch(world: World, *bodies: str) -> dict[str, Any]:
    queue = world.aws.resources["WorkQueue"]
    records = [_sqs_record({"MessageId": f"m{i}", "ReceiptHandle": f"r{i}", "Body": b}, queue)
               for i, b in enumerate(bodies)]
    result: dict[str, Any] = world.aws.invoke("DispatchFunction", {"Records": records})
    return result


def _work(customer: str) -> str:
    return json.dumps({"customer": customer, "run_date": RUN.isoformat()})


def _was_sent(world: World, invoice: str) -> bool:
    return any(e["kind"] == "sent" for e in world.ledger.store.history(invoice))


def _sqs(case: Case, world: World, number: int, capsys: pytest.CaptureFixture[str]) -> None:
    good = _good_customer(world, number)
    assert _dispatch(world, case.input, _work(good)) == {"batchItemFailures": []}   # dropped, not retried
    assert _was_sent(world, f"GI-{number}")
    handler = world.aws.handler("DispatchFunction")
    module = sys.modules[handler.__module__]
    record = module.SQSRecord(_sqs_record({"MessageId": "m", "ReceiptHandle": "r", "Body": case.input},
                                          world.aws.resources["WorkQueue"]))
    with pytest.raises(ValidationError, match=re.escape(case.error)):
        module.parse_body(record)


def _stored(case: Case, world: World, number: int, capsys: pytest.CaptureFixture[str]) -> None:
    store = world.ledger.store
    bad_customer, bad_invoice = f"B-{number}", f"BI-{number}"
    customer: dict[str, Any] = {"id": bad_customer, "name": "Client Abîmé", "kind": "b2b",
                                "email": f"compta@b{number}.example"}
    spec = case.input
    if "customer" in spec:
        if spec["customer"] is not None:
            customer = {k: v for k, v in {**customer, **spec["customer"]}.items() if v is not None}
            store.put_customer(customer)
        invoice_fields = {"issued": "2026-03-17", "due": "2026-04-16", "amount": "100.00"}
        meta: dict[str, Any] = {}
    else:
        store.put_customer(customer)
        invoice_fields, meta = spec["invoice"], spec["meta"]
    keys = due_keys(bad_customer, bad_invoice, dt.date(2026, 4, 9), store.shards)
    put_raw_invoice_item(store, {
        "pk": f"INV#{bad_invoice}", "sk": "META", "type": "invoice", "status": "open", "version": 1,
        "balance": str(invoice_fields.get("amount", "100.00")),
        "data": {"id": bad_invoice, "customer": bad_customer, **invoice_fields},
        "next_action": "2026-04-09", **keys, **meta})
    good = _good_customer(world, number)
    assert _dispatch(world, _work(bad_customer), _work(good)) == {"batchItemFailures": []}
    assert _was_sent(world, f"GI-{number}")                        # the others go out
    kind, record_id = ("customer", bad_customer) if "customer" in spec else ("invoice", bad_invoice)
    found = quarantine_items(store, [(kind, record_id)])
    assert found and case.error in found[0]["reason"], found
    raw = store.get_invoice_items([bad_invoice])
    assert bad_invoice in raw and "due_pk" not in raw[bad_invoice]  # stays stored, out of the due index
    assert not _was_sent(world, bad_invoice)


def _policy(case: Case, world: World, number: int, capsys: pytest.CaptureFixture[str]) -> None:
    path = world.tmp / f"{case.id}.yaml"
    if isinstance(case.input, bytes):
        path.write_bytes(case.input)
    else:
        path.write_text(case.input, encoding="utf-8")
    good = REPO / "policies" / "standard.yaml"
    code, out, err = _run_cli(capsys, "policy", "validate", str(path), str(good))
    err = out + err
    assert code == 2 and "Traceback" not in err and case.error in err, err
    lines = err.strip().splitlines()
    assert f"{good}: ok" in lines, err                              # the good file is still checked, clean
    assert all(line.startswith(f"{path}:") for line in lines if line != f"{good}: ok"), err
