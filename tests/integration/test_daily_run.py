"""The daily run end to end on the embedded AWS: real handlers, real template wiring, moto underneath.

Every assertion reads what SES, SNS, S3 and DynamoDB actually received.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections import Counter
from decimal import Decimal
from email import message_from_bytes
from pathlib import Path

import pytest
from pypdf import PdfReader

from relance import runtime
from relance.channels import sms_segments
from relance_dev import faults
from relance_dev.embedded import EmbeddedAws
from relance_dev.inputs import put_raw_invoice_item
from relance_dev.simulate.driver import Delivery, SeasonDriver, scheduler_event

EVENTS = Path(__file__).resolve().parents[2] / "events"
DUE = dt.date(2026, 4, 16)   # a Thursday; 1 May and 8 May 2026 are public holidays (Fridays)


@pytest.fixture
def driver(embedded: EmbeddedAws) -> SeasonDriver:
    runtime.reset_clients()
    faults.disarm_all()
    driver = SeasonDriver(embedded)
    ledger = driver.ledger()
    ledger.upsert_customer({"id": "C1", "name": "Boulangerie Exemple SARL", "kind": "b2b",
                            "email": "compta@boulangerie.example", "phone": "+33612345678",
                            "address": "4 rue des Lilas, 69003 Lyon"})
    for invoice in ("A1", "A2"):
        ledger.create_invoice({"id": invoice, "customer": "C1", "issued": "2026-03-17", "due": DUE.isoformat(),
                               "amount": "1800.00"}, dt.date(2026, 3, 30))
    yield driver
    faults.disarm_all()


def run(driver: SeasonDriver, first: dt.date, last: dt.date, *, before=None, duplicate: bool = False
        ) -> list[tuple[dt.date, Delivery]]:
    """Run every day from ``first`` to ``last``; ``before(day, ledger)`` applies that day's events."""
    got: list[tuple[dt.date, Delivery]] = []
    day = first
    while day <= last:
        if before:
            before(day, driver.ledger())
        driver.run_day(day, duplicate=duplicate)
        got += [(day, d) for d in driver.new_deliveries()]
        day += dt.timedelta(days=1)
    return got


def summary(got: list[tuple[dt.date, Delivery]]) -> list[tuple[str, str, str, tuple[str, ...]]]:
    return sorted((day.isoformat(), d.step, d.channel, tuple(sorted(d.invoices))) for day, d in got)


def test_the_ladder_goes_out_on_business_days_grouped_and_once(driver: SeasonDriver) -> None:
    # Given two invoices of one customer due the same day; When the season runs to the final notice
    got = run(driver, dt.date(2026, 4, 1), dt.date(2026, 5, 31))
    # Then each step goes out once, on its business day, as one message listing both invoices
    both = ("A1", "A2")
    assert summary(got) == [
        ("2026-04-09", "courtesy", "email", both),        # due-7d
        ("2026-04-16", "due", "email", both),
        ("2026-04-23", "call", "email", both),
        ("2026-04-23", "call", "task", both),
        ("2026-05-04", "firm", "email", both),            # due+15d = Fri 1 May (holiday) -> Mon 4 May
        ("2026-05-04", "firm", "sms", both),
        ("2026-05-18", "formal_notice", "email", both),   # due+30d = Sat 16 May -> Mon 18 May
        ("2026-05-18", "formal_notice", "letter", both),
        ("2026-05-19", "letters_to_post", "task", both),  # the day's registered letters, for the team to post
        ("2026-05-26", "final_notice", "email", both),    # due+40d
    ]
    # And each email carries a PDF of both invoices, each SMS is short without the IBAN, each letter is stored
    for _, delivery in got:
        if delivery.step == "letters_to_post":
            assert "print-queue/2026-05-18/batch.pdf" in delivery.body
            continue
        assert delivery.customer == "C1"
        if delivery.channel == "email":
            mime = message_from_bytes(delivery.content)
            assert mime["X-Relance-Step"] == delivery.step
            assert mime["Reply-To"] and "compta@boulangerie.example" in mime["To"]
            ((_name, pdf),) = delivery.attachments
            reader = PdfReader(io.BytesIO(pdf))
            text = "".join(page.extract_text() for page in reader.pages)
            assert "A1" in text and "A2" in text
        if delivery.channel == "sms":
            assert delivery.to == "+33612345678" and sms_segments(delivery.body) <= 2
            assert "FR76" not in delivery.body
        if delivery.channel == "letter":
            assert delivery.to.startswith("letters/2026-05-18/C1/") and delivery.content.startswith(b"%PDF")


def test_nothing_goes_out_after_a_payment_and_partial_payments_show_the_balance(driver: SeasonDriver) -> None:
    # Given A2 paid in full on 20 April and A1 half paid on 27 April
    def events(day: dt.date, ledger) -> None:
        if day == dt.date(2026, 4, 20):
            ledger.record_payment("A2", Decimal("1800.00"), day)      # A2 settled
        if day == dt.date(2026, 4, 27):
            ledger.record_payment("A1", Decimal("900.00"), day)       # A1 half paid

    # When the season runs to 10 May
    got = run(driver, dt.date(2026, 4, 1), dt.date(2026, 5, 10), before=events)
    # Then after the first payment the reminders name A1 only
    after_payment = [d for day, d in got if day >= dt.date(2026, 4, 20)]
    reminders = [d for d in after_payment if d.step != "penalty_statement"]
    assert reminders and all(d.invoices == ("A1",) for d in reminders)
    # And A2, paid 4 days late, gets one statement of what remains (interest and the 40 €), never a reminder
    assert [d.invoices for d in after_payment if d.step == "penalty_statement"] == [("A2",)]
    # And the firm reminder states A1's balance after the partial payment, and its amount
    firm = next(d for day, d in got if d.step == "firm" and d.channel == "email")
    assert "900,00" in firm.body                                  # the balance after the partial payment
    assert re.search(r"1\s800,00", firm.body)                     # the invoice amount is still stated


def test_a_duplicated_schedule_event_changes_nothing(driver: SeasonDriver) -> None:
    # Given two invoices; When each day's schedule event comes twice, through the call step
    got = run(driver, dt.date(2026, 4, 8), dt.date(2026, 4, 24), duplicate=True)
    # Then each message goes out once
    counts = Counter((d.step, d.channel) for _, d in got)
    assert counts == {("courtesy", "email"): 1, ("due", "email"): 1, ("call", "email"): 1, ("call", "task"): 1}


def test_a_crash_after_a_send_is_flagged_and_never_sent_again(driver: SeasonDriver) -> None:
    # Given dispatch dying after sending the "due" email, before recording it
    def events(day: dt.date, ledger) -> None:
        if day == DUE:
            faults.arm("after_send")     # dispatch dies after sending the "due" email, before recording it

    # When the days run through April
    got = run(driver, dt.date(2026, 4, 8), dt.date(2026, 4, 30), before=events)
    # Then the "due" email went out once and is never sent again
    steps = [(day.isoformat(), d.step, d.channel) for day, d in got]
    assert steps.count(("2026-04-16", "due", "email")) == 1
    assert not [s for s in steps if s[1] == "due" and s[0] != "2026-04-16"]           # never re-sent
    # And the next day the team gets a task flagging the unrecorded claim
    flagged = [(day, d) for day, d in got if d.step == "flagged_claim"]
    assert [(day.isoformat(), d.channel) for day, d in flagged] == [("2026-04-17", "task")]
    assert "due" in flagged[0][1].body
    # And the ladder carries on
    assert ("2026-04-23", "call", "email") in steps                                  # the ladder carries on
    # And the invoice's history has one flag
    kinds = [e["kind"] for e in driver.store().history("A1")]
    assert kinds.count("flagged") == 1


def test_bad_records_are_quarantined_and_the_others_still_go_out(driver: SeasonDriver) -> None:
    # Given two invoices of C1 due for their courtesy step
    store = driver.store()
    # And an invoice with a negative amount, written as a broken import would have left it
    put_raw_invoice_item(store, {
        "pk": "INV#BAD1", "sk": "META", "type": "invoice", "status": "open", "balance": "-5.00", "version": 1,
        "data": {"id": "BAD1", "customer": "C1", "issued": "2026-03-17", "due": "2026-04-16", "amount": "-5.00"},
        "next_action": "2026-04-09", "due_pk": f"DUE#{_shard(store, 'C1')}", "due_sk": "2026-04-09#C1#BAD1"})
    store.client.put_item(TableName=store.table, Item={"pk": {"S": "CUST#C1"}, "sk": {"S": "OPEN#BAD1"}})
    # And an invoice whose customer does not exist
    put_raw_invoice_item(store, {
        "pk": "INV#ORPHAN", "sk": "META", "type": "invoice", "status": "open", "balance": "100.00", "version": 1,
        "data": {"id": "ORPHAN", "customer": "NOBODY", "issued": "2026-03-17", "due": "2026-04-16",
                 "amount": "100.00"},
        "next_action": "2026-04-09", "due_pk": f"DUE#{_shard(store, 'NOBODY')}", "due_sk": "2026-04-09#NOBODY#ORPHAN"})
    store.client.put_item(TableName=store.table, Item={"pk": {"S": "CUST#NOBODY"}, "sk": {"S": "OPEN#ORPHAN"}})

    # When the run of 9 and 10 April goes
    got = run(driver, dt.date(2026, 4, 9), dt.date(2026, 4, 10))

    # Then C1's good invoices go out
    assert summary(got) == [("2026-04-09", "courtesy", "email", ("A1", "A2"))]
    # And each bad record is quarantined with its reason
    reasons = _quarantine(store)
    assert "negative" in reasons[("invoice", "BAD1")]
    assert "NOBODY" in reasons[("customer", "NOBODY")] and "does not exist" in reasons[("customer", "NOBODY")]
    assert "ORPHAN" in {rid for kind, rid in reasons if kind == "invoice"}
    # And quarantined records stay stored (nothing is lost) but leave the due index: no second quarantine tomorrow
    assert store.get_invoice("ORPHAN") is not None
    assert list(store.due_entries(dt.date(2026, 4, 10))) == []


def test_a_bounced_address_makes_the_next_step_a_letter(driver: SeasonDriver, embedded: EmbeddedAws) -> None:
    # Given the courtesy email sent on 9 April
    run(driver, dt.date(2026, 4, 9), dt.date(2026, 4, 9))
    # When SES reports it bounced
    bounce = json.loads((EVENTS / "ses-bounce.json").read_text())
    # Then the address is marked
    assert embedded.invoke("SesEventsFunction", bounce) == {"marked": 1}
    # When the due step comes
    got = run(driver, dt.date(2026, 4, 16), dt.date(2026, 4, 16))
    # Then it goes out as a letter
    assert summary(got) == [("2026-04-16", "due", "letter", ("A1", "A2"))]


def test_the_sample_events_drive_the_handlers(embedded: EmbeddedAws) -> None:
    # Given an empty table
    runtime.reset_clients()
    # When the committed scheduled event comes; Then the daily run runs for its date
    scheduled = json.loads((EVENTS / "scheduled-daily.json").read_text())
    assert embedded.invoke("DailyRunFunction", scheduled)["run_date"] == "2026-04-16"
    # When the committed dispatch batch comes
    batch = json.loads((EVENTS / "sqs-dispatch-batch.json").read_text())
    # Then customers C1 and C2, unknown in an empty table, are quarantined and the batch does not fail
    assert embedded.invoke("DispatchFunction", batch) == {"batchItemFailures": []}


def test_the_run_date_comes_from_the_event_in_paris_time(embedded: EmbeddedAws) -> None:
    # Given an empty table
    runtime.reset_clients()
    # When the schedule fires at 22:30 UTC on 16 April; Then the run is for 17 April, Paris time
    late_evening_utc = {**scheduler_event(dt.date(2026, 4, 16)), "time": "2026-04-16T22:30:00Z"}
    assert embedded.invoke("DailyRunFunction", late_evening_utc)["run_date"] == "2026-04-17"
    # When an event has no time, an unreadable one or one without a zone
    for bad in ({}, {"time": "yesterday"}, {"time": "2026-04-16T06:00:00"}):
        # Then it is rejected, naming the time
        reply = embedded.invoke("DailyRunFunction", bad)
        assert reply["status"] == "rejected" and "time" in reply["reason"]


def test_the_planner_reads_only_due_invoices(driver: SeasonDriver) -> None:
    # Given two invoices due 16 April
    store = driver.store()
    # When the index is queried before the courtesy date; Then nothing is due
    assert list(store.due_entries(dt.date(2026, 4, 8))) == []
    # When it is queried on the courtesy date; Then both invoices are
    assert sorted(store.due_entries(dt.date(2026, 4, 9))) == [("C1", "A1"), ("C1", "A2")]


def _shard(store, customer: str) -> int:
    from relance.store import shard_of

    return shard_of(customer, store.shards)


def _quarantine(store) -> dict[tuple[str, str], str]:
    items = store.client.scan(TableName=store.table, FilterExpression="begins_with(pk, :q)",
                              ExpressionAttributeValues={":q": {"S": "QUAR#"}})["Items"]
    return {(i["kind"]["S"], i["record_id"]["S"]): i["reason"]["S"] for i in items}


def test_preview_lists_exactly_what_the_next_run_sends(driver: SeasonDriver, embedded: EmbeddedAws,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from relance import cli
    from relance.ops.preview import preview

    # Given C1's two invoices and C2's two, due 8 and 16 April, and the CLI on 22 April
    ledger = driver.ledger()
    ledger.upsert_customer({"id": "C2", "name": "Café des Halles", "kind": "b2b", "email": "cafe@halles.example"})
    ledger.create_invoice({"id": "B1", "customer": "C2", "issued": "2026-03-09", "due": "2026-04-08",
                           "amount": "730.00"}, dt.date(2026, 3, 30))
    ledger.create_invoice({"id": "B2", "customer": "C2", "issued": "2026-03-16", "due": "2026-04-16",
                           "amount": "250.00"}, dt.date(2026, 3, 30))
    deployed = embedded.function_env("DispatchFunction")
    monkeypatch.setenv("TABLE_NAME", deployed["TABLE_NAME"])
    monkeypatch.setenv("DUE_SHARDS", deployed["DUE_SHARDS"])
    monkeypatch.setattr("relance.imports.today_paris", lambda now=None: dt.date(2026, 4, 22))
    compared = 0
    day = dt.date(2026, 4, 1)
    # When each day from 1 April to 6 May is previewed, then run
    while day <= dt.date(2026, 5, 6):
        planned = sorted((p.customer, p.step, c, p.invoices) for p in preview(driver.ledger(), day)
                         for c in p.channels)
        # When on 23 April the CLI previews the next day
        if day == dt.date(2026, 4, 23):
            capsys.readouterr()
            code = cli.main(["preview", "--json"])      # tomorrow of the patched today, through the CLI
            shown = json.loads(capsys.readouterr().out)
            # Then it shows the plan
            assert code == 0 and shown["date"] == "2026-04-23"
            assert sorted((m["customer"], m["step"], c, tuple(m["invoices"])) for m in shown["messages"]
                          for c in m["channels"]) == planned
            # And for C2, B2 at its call step and B1 at its firm step make one message at the firm step
            assert ("C2", "firm", "email", ("B1", "B2")) in planned
        driver.run_day(day)
        sent = sorted((d.customer, d.step, d.channel, tuple(sorted(d.invoices))) for d in driver.new_deliveries())
        # Then what is sent each day is what was previewed
        assert planned == sent, day
        compared += bool(sent)
        day += dt.timedelta(days=1)
    # And the days compared include at least six with messages
    assert compared >= 6


def test_call_tasks_are_listed_with_the_phone_and_closed_with_their_outcome(
        driver: SeasonDriver, embedded: EmbeddedAws, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from relance import cli

    # Given the call tasks of C1's two invoices raised on 23 April, and the CLI on 24 April
    run(driver, dt.date(2026, 4, 9), dt.date(2026, 4, 23))
    deployed = embedded.function_env("DispatchFunction")
    monkeypatch.setenv("TABLE_NAME", deployed["TABLE_NAME"])
    monkeypatch.setenv("DUE_SHARDS", deployed["DUE_SHARDS"])
    monkeypatch.setattr("relance.imports.today_paris", lambda now=None: dt.date(2026, 4, 24))
    # When the team lists the tasks
    capsys.readouterr()
    assert cli.main(["task", "list", "--json"]) == 0
    # Then both are there with the phone
    listed = json.loads(capsys.readouterr().out)
    assert [(t["id"], t["phone"]) for t in listed] == [("A1:call", "+33612345678"), ("A2:call", "+33612345678")]
    # When A1's call is closed with a promise but without a date
    assert cli.main(["task", "done", "A1:call", "--outcome", "promise"]) == 2          # --until is required
    # Then it is refused, asking for the date
    assert "--until" in capsys.readouterr().err
    # When it is closed with the date, and A2's as a wrong number
    assert cli.main(["task", "done", "A1:call", "--outcome", "promise", "--until", "2026-05-15"]) == 0
    assert cli.main(["task", "done", "A2:call", "--outcome", "wrong_number", "--lang", "en"]) == 0
    # Then A2's call is closed
    assert "closed: wrong number" in capsys.readouterr().out
    # And closing it again is refused
    assert cli.main(["task", "done", "A2:call", "--outcome", "reached"]) == 2           # closed already
    # And no task is left
    capsys.readouterr()
    assert cli.main(["task", "list", "--json"]) == 0 and json.loads(capsys.readouterr().out) == []
    # And A1 has the promise, C1 no phone, A1's history the outcome
    ledger = driver.ledger()
    assert ledger.invoice("A1").promise_until == dt.date(2026, 5, 15)
    assert ledger.customer("C1").phone is None                 # no SMS to a wrong number
    assert [e["details"]["outcome"] for e in ledger.history("A1") if e["kind"] == "task_done"] == ["promise"]
    # When the ladder goes on: Then A2 gets its firm reminder by email only (no phone), A1 waits for its promise
    got = run(driver, dt.date(2026, 4, 24), dt.date(2026, 5, 6))
    firm = [(d.step, d.channel, d.invoices) for _, d in got if d.step == "firm"]
    assert firm == [("firm", "email", ("A2",))]


def test_the_days_letters_go_to_the_team_as_one_batch_and_posting_is_recorded(
        driver: SeasonDriver, embedded: EmbeddedAws, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from relance import cli
    from relance.escalation.letters import notice_date

    # Given two invoices; When the days run to 19 May
    got = run(driver, dt.date(2026, 4, 9), dt.date(2026, 5, 19))
    # Then the formal notice is the one letter, on 18 May
    letters = [(day, d) for day, d in got if d.channel == "letter"]
    assert [(day.isoformat(), d.step) for day, d in letters] == [("2026-05-18", "formal_notice")]
    # And on 19 May the team gets the batch to post, with the address
    (batch,) = [(day, d) for day, d in got if d.step == "letters_to_post"]
    assert batch[0] == dt.date(2026, 5, 19) and "4 rue des Lilas, 69003 Lyon" in batch[1].body
    # And the batch is stored as a PDF and a listing of the day's letters
    s3 = embedded.client("s3")
    bucket = embedded.resources["LettersBucket"]
    pdf = s3.get_object(Bucket=bucket, Key="print-queue/2026-05-18/batch.pdf")["Body"].read()
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 1
    listing = s3.get_object(Bucket=bucket, Key="print-queue/2026-05-18/batch.csv")["Body"].read()
    listing = listing.decode("utf-8-sig")
    assert "Boulangerie Exemple SARL" in listing and "A1 A2" in listing
    # When the next day runs
    driver.run_day(dt.date(2026, 5, 20))                          # a second run makes no second batch
    # Then no second batch is made
    assert not [d for d in driver.new_deliveries() if d.step == "letters_to_post"]

    # And given the CLI on 22 May
    deployed = embedded.function_env("DispatchFunction")
    monkeypatch.setenv("TABLE_NAME", deployed["TABLE_NAME"])
    monkeypatch.setenv("DUE_SHARDS", deployed["DUE_SHARDS"])
    monkeypatch.setattr("relance.imports.today_paris", lambda now=None: dt.date(2026, 5, 22))
    # When the team records the letters posted with the tracking number
    capsys.readouterr()
    assert cli.main(["letter", "posted", "C1", "--step", "formal_notice", "--tracking", "1A00012345678",
                     "--date", "2026-05-19"]) == 0
    # Then both invoices are named
    assert "A1, A2" in capsys.readouterr().out
    # And recording a receipt needs a date
    with pytest.raises(SystemExit) as usage:                                          # --date is required
        cli.main(["letter", "received", "A1", "--step", "formal_notice"])
    assert usage.value.code == 2
    # And a step without a letter is refused
    assert cli.main(["letter", "received", "A1", "--step", "firm", "--date", "2026-05-21"]) == 2   # no letter
    # When the avis de réception is recorded for A1
    assert cli.main(["letter", "received", "A1", "--step", "formal_notice", "--date", "2026-05-21"]) == 0
    # Then the tracking number is in A1's history
    ledger = driver.ledger()
    a1, a2 = ledger.history("A1"), ledger.history("A2")
    assert [e["details"]["tracking"] for e in a1 if e["kind"] == "letter_posted"] == ["1A00012345678"]
    # And A1's notice counts from the receipt, A2's from two days after posting
    assert notice_date(a1, "formal_notice", dt.date(2026, 5, 18)) == dt.date(2026, 5, 21)    # the receipt
    assert notice_date(a2, "formal_notice", dt.date(2026, 5, 18)) == dt.date(2026, 5, 21)    # posted + 2 days
