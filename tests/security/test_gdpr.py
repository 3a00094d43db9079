"""Personal data: history retention by TTL, `relance customer export ID` and `relance customer erase ID`."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from relance import cli, runtime
from relance.ledger import Ledger
from relance.store import HISTORY_RETENTION_DAYS, SentStep
from relance_dev.embedded import EmbeddedAws

TODAY = dt.date(2026, 6, 1)
CUSTOMER = {"id": "C1", "name": "Jean Exemple", "kind": "b2c", "email": "jean@exemple.example",
            "phone": "+33612345678", "address": "1 place du Marché, 75001 Paris", "segment": "retail"}


@pytest.fixture
def env(embedded: EmbeddedAws, monkeypatch: pytest.MonkeyPatch) -> Ledger:
    deployed = embedded.function_env("DispatchFunction")
    for key in ("TABLE_NAME", "DUE_SHARDS", "DEFAULT_POLICY"):
        monkeypatch.setenv(key, deployed[key])
    monkeypatch.setenv("LETTERS_BUCKET", embedded.resources["LettersBucket"])
    monkeypatch.setattr("relance.imports.today_paris", lambda now=None: TODAY)
    runtime.reset_clients()
    ledger = runtime.ledger(runtime.Settings.from_env(embedded.local_env("DispatchFunction")))
    ledger.upsert_customer(CUSTOMER)
    s3, bucket = embedded.client("s3"), embedded.resources["LettersBucket"]
    for iid in ("A1", "A2"):
        ledger.create_invoice({"id": iid, "customer": "C1", "issued": "2026-03-17", "due": "2026-04-16",
                               "amount": "100.00"}, dt.date(2026, 3, 30))
        record = ledger.invoice(iid)
        letter = f"letters/2026-05-18/C1/formal_notice-{iid}.pdf"
        reminder = f"letters/2026-04-23/C1/call-{iid}.pdf"
        queue = f"print-queue/2026-04-23/C1/call-{iid}.json"
        for key in (letter, reminder, queue):
            s3.put_object(Bucket=bucket, Key=key, Body=b"%PDF-1.4 " + key.encode())
        events = [(dt.date(2026, 4, 9), "sent", {"step": "courtesy", "channel": "email", "to": CUSTOMER["email"],
                                                  "subject": "Jean Exemple, votre facture", "message_id": "m1"}),
                  (dt.date(2026, 4, 23), "sent", {"step": "call", "channel": "letter", "to": CUSTOMER["address"],
                                                   "key": reminder, "message_id": queue}),
                  (dt.date(2026, 5, 18), "sent", {"step": "formal_notice", "channel": "letter",
                                                   "to": CUSTOMER["address"], "key": letter,
                                                   "message_id": "print-queue/x.json"})]
        sent = (SentStep("courtesy", dt.date(2026, 4, 9), ("email",)), SentStep("call", dt.date(2026, 4, 23),
                ("letter",)), SentStep("formal_notice", dt.date(2026, 5, 18), ("letter",)))
        ledger.store.update_invoice_state(record, changes={"sent": sent}, next_action=TODAY, events=events)
    ledger.open_dispute("A2", dt.date(2026, 5, 20), "Jean dit que la livraison est incomplète")
    ledger.record_payment("A1", Decimal("100.00"), dt.date(2026, 5, 25), reference="VIR JEAN EXEMPLE")
    ledger.store.quarantine("invoice", "A2", "invoice A2: jean@exemple.example bounced", dt.date(2026, 5, 21),
                            {"email": CUSTOMER["email"]})
    return ledger


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_history_expires_by_ttl(env: Ledger, embedded: EmbeddedAws) -> None:
    ttl = embedded.client("dynamodb").describe_time_to_live(TableName=env.store.table)["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED" and ttl["AttributeName"] == "expires_at"
    history = env.store.history("A1")
    assert history
    for event in history:
        day = dt.date.fromisoformat(str(event["date"]))
        expires = dt.datetime.fromtimestamp(int(event["expires_at"]), dt.UTC).date()
        assert expires == day + dt.timedelta(days=HISTORY_RETENTION_DAYS)
        assert expires >= day.replace(year=day.year + 5)              # the 5-year limitation period, at least


def test_export_gives_everything_stored_about_the_customer(env: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "customer", "export", "C1")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["profile"]["email"] == CUSTOMER["email"] and doc["profile"]["address"] == CUSTOMER["address"]
    assert [i["id"] for i in doc["invoices"]] == ["A1", "A2"]                  # the paid one too
    a1 = doc["invoices"][0]
    assert a1["status"] == "paid" and a1["payments"] == [{"date": "2026-05-25", "amount": "100.00"}]
    kinds = [e["kind"] for e in a1["history"]]
    assert {"imported", "sent", "payment", "stopped"} <= set(kinds)
    assert any(c["sk"] == "CLAIM#courtesy" for c in a1["claims"]) or a1["claims"] == []
    assert doc["quarantine"][0]["record_id"] == "A2" and "bounced" in doc["quarantine"][0]["reason"]
    assert "letters/2026-05-18/C1/formal_notice-A1.pdf" in doc["letters"]
    assert "print-queue/2026-04-23/C1/call-A2.json" in doc["letters"]
    assert _run(capsys, "customer", "export", "NOPE")[0] == 2


def test_erase_refuses_open_invoices_without_force(env: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "customer", "erase", "C1")
    assert code == 2 and out == ""
    assert err.strip() == ("relance: customer C1: customer C1 has 1 open invoice(s) (A2): erasing would stop "
                           "their recovery; settle or write them off first, or use --force")
    assert env.store.get_customer_raw("C1") == {**CUSTOMER, "language": "fr", "policy": "standard",
                                                "email_bounced": False}


def test_erase_keeps_what_the_law_requires_and_removes_the_rest(env: Ledger, embedded: EmbeddedAws,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "customer", "erase", "C1", "--force")
    assert code == 0, err
    report = json.loads(out)
    assert report["paused"] == ["A2"] and report["profile"] == "pseudonymised"
    profile = env.store.get_customer_raw("C1")
    assert profile == {"id": "C1", "name": "erased", "kind": "b2c", "language": "fr", "policy": "standard"}
    # Invoices and their accounting facts stay (C. com. L123-22).
    a1, a2 = env.store.get_invoice("A1"), env.store.get_invoice("A2")
    assert a1 is not None and a1.status == "paid" and a1.payments == ((dt.date(2026, 5, 25), Decimal("100.00")),)
    assert a2 is not None and a2.manual_pause and a2.next_action is None and str(a2.raw["amount"]) == "100.00"
    dump = json.dumps([env.store.history(i) for i in ("A1", "A2")], default=str)
    for secret in ("jean@exemple.example", "VIR JEAN EXEMPLE", "livraison incomplète", "Jean Exemple, votre"):
        assert secret not in dump, secret
    # The formal notice stays as evidence while the debt is open or within the limitation period.
    for iid in ("A1", "A2"):
        sent = {e["details"]["step"]: e["details"] for e in env.store.history(iid) if e["kind"] == "sent"}
        assert sent["formal_notice"]["to"] == CUSTOMER["address"]
        assert sent["call"]["to"] == "erased" and sent["courtesy"]["to"] == "erased"
    payments = [e for e in env.store.history("A1") if e["kind"] == "payment"]
    assert payments[0]["details"]["amount"] == "100.00" and payments[0]["details"]["reference"] == "erased"
    quarantined = env.store.client.get_item(TableName=env.store.table,
                                            Key={"pk": {"S": "QUAR#invoice#A2"}, "sk": {"S": "QUAR"}})["Item"]
    assert quarantined["record"] == {"M": {}} and "jean" not in quarantined["reason"]["S"]
    s3, bucket = embedded.client("s3"), embedded.resources["LettersBucket"]
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert "letters/2026-05-18/C1/formal_notice-A1.pdf" in keys           # evidence kept
    assert not {k for k in keys if "call-" in k}                          # reminders and print-queue copies gone
    # Erasing twice is harmless; the export now shows the pseudonymised customer.
    assert _run(capsys, "customer", "erase", "C1", "--force")[0] == 0
    code, out, _ = _run(capsys, "customer", "export", "C1")
    assert code == 0 and "jean@exemple.example" not in out and "1 place du Marché" in out   # the notice only


def test_erase_without_open_invoices_needs_no_force(env: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
    env.record_payment("A2", Decimal("100.00"), TODAY)
    code, out, err = _run(capsys, "customer", "erase", "C1")
    assert code == 0, err
    assert json.loads(out)["open_invoices"] == [] and env.store.get_customer_raw("C1")["name"] == "erased"  # type: ignore[index]


