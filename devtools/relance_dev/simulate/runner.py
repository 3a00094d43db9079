"""Runs a scenario day by day through the real handlers on the embedded AWS; writes log.jsonl and sent/.

Per day: the scenario's events are applied through the ledger (or, for approvals, by following the link in
the approver's email like a person would), the 08:00 schedule fires (unless an outage), the work queue is
drained into the dispatcher, the escalation sweep runs, the state machines settle; then the day is read
back: ``sent`` lines from what SES, SNS and the letters bucket received, the other kinds from the table's
history events and quarantine items, and from the approval page's answers.

Bad invoice data is written to the table as a legacy import would leave it (raw item, in the due index):
the real dispatcher finds it on the first run and quarantines it with its reason.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import os
import re
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from relance import runtime
from relance.errors import RelanceError
from relance.ledger import TO_DECIDE_PREFIX
from relance.paths import policies_dir
from relance.reporting.figures import OWED
from relance.reporting.figures import Invoice as InvoiceFacts
from relance.store import Store, due_keys, events_between, quarantine_items
from relance_dev import faults
from relance_dev.embedded import embedded_aws
from relance_dev.embedded.embedded import patched_environ
from relance_dev.inputs import api_event, person_form, put_raw_invoice_item
from relance_dev.simulate.driver import Delivery, SeasonDriver
from relance_dev.simulate.fastmoto import faster_moto
from relance_dev.simulate.log import LogWriter, SentFiles, line, safe_name
from relance_dev.simulate.scenario import Event, Scenario

PARIS = ZoneInfo("Europe/Paris")
LINK = re.compile(r"https://\S+/approvals/[A-Za-z0-9_-]+\?sig=[0-9A-Za-z._-]+")
DEBTOR_LINK = re.compile(r"https://\S+/p/[A-Za-z0-9_-]{32}\?sig=[0-9A-Za-z._-]+")
QUIET_ENV = {"POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "WARNING",
             "POWERTOOLS_TRACE_DISABLED": "true"}
@dataclass
class SeasonResult:
    """What a season produced: the log lines and the facts the report and the summary need."""

    scenario: Scenario
    out: Path
    lines: list[dict[str, Any]] = field(default_factory=list)
    invoices: dict[str, InvoiceFacts] = field(default_factory=dict)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: list[tuple[dt.date, str, Decimal]] = field(default_factory=list)     # (date, invoice, amount)
    notes: list[tuple[dt.date, str, str, str]] = field(default_factory=list)       # (date, customer, kind, text)
    balances: list[tuple[dt.date, Decimal]] = field(default_factory=list)
    bodies: dict[str, str] = field(default_factory=dict)          # sms/task text by (date|customer|step|channel)
    attachments: dict[str, list[str]] = field(default_factory=dict)   # .eml file -> its .pdf attachments
    refused: list[str] = field(default_factory=list)              # scenario events the system refused
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)      # seconds per phase of the days

    @property
    def log_path(self) -> Path:
        return self.out / "log.jsonl"


class _Switch(io.TextIOBase):
    """stdout while handlers run: goes to DIR/lambda.log during a season, to the real stdout otherwise.

    Powertools binds its log handler to the stream it finds at first import, so this object (not a file
    that will be closed) is what it keeps.
    """

    target: TextIO | None = None

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        target = self.target
        if target is not None:
            return target.write(text)
        fallback = sys.__stdout__
        return fallback.write(text) if fallback is not None and sys.stdout is not self else len(text)

    def flush(self) -> None:
        if self.target is not None:
            self.target.flush()


LAMBDA_OUTPUT = _Switch()


@contextlib.contextmanager
def _lambda_log(path: Path) -> Iterator[None]:
    with open(path, "w", encoding="utf-8") as handle:
        LAMBDA_OUTPUT.target = handle
        try:
            with contextlib.redirect_stdout(LAMBDA_OUTPUT):
                yield
        finally:
            LAMBDA_OUTPUT.target = None


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        return Decimal("0")
    return amount if amount.is_finite() else Decimal("0")


def _moto_speedups() -> contextlib.AbstractContextManager[None]:
    """moto speed-ups (fastmoto) unless RELANCE_SIM_PLAIN_MOTO=1 asks for moto as shipped (to compare)."""
    return contextlib.nullcontext() if os.environ.get("RELANCE_SIM_PLAIN_MOTO") == "1" else faster_moto()


def clean_out(out: Path) -> None:
    """Remove what a previous simulation wrote in ``out`` (only our own files)."""
    for name in ("log.jsonl", "report.html", "lambda.log"):
        (out / name).unlink(missing_ok=True)
    if (out / "sent").is_dir():
        shutil.rmtree(out / "sent")


class SeasonRunner:
    """One season: ``run()`` returns a SeasonResult; ``progress(done, total, day)`` is called per day."""

    def __init__(self, scenario: Scenario, out: Path,
                 progress: Callable[[int, int, dt.date], None] | None = None) -> None:
        self.scenario = scenario
        self.out = Path(out)
        self.progress = progress
        self.result = SeasonResult(scenario, self.out)
        self._seen_events: set[str] = set()
        self._seen_quarantine: set[str] = set()
        self._raw: set[str] = set()              # invoices written raw (bad data)
        self._escalating: set[str] = set()       # invoices with a running escalation: watched every day
        self._routes: dict[str, str] = {}          # invoice -> the policy route it was escalated on
        self._invoices_of: dict[str, list[str]] = defaultdict(list)
        self._approval_mails: dict[str, list[tuple[str, tuple[str, ...]]]] = defaultdict(list)  # customer -> links
        self._debtor_links: dict[str, str] = {}     # customer -> the link in the latest email it received

    # ---- the season ----------------------------------------------------------------------------------
    def run(self) -> SeasonResult:
        started = time.perf_counter()
        self.out.mkdir(parents=True, exist_ok=True)
        clean_out(self.out)
        with tempfile.TemporaryDirectory(prefix="relance-sim-") as tmp:
            policies = Path(tmp) / "policies"
            policies.mkdir()
            shutil.copyfile(self.scenario.policy_path, policies / f"{self.scenario.policy.name}.yaml")
            env = {**QUIET_ENV, "RELANCE_POLICIES_DIR": str(policies),
                   "RELANCE_PARTNERS_FILE": str(self._partners_file())}
            with _lambda_log(self.out / "lambda.log"), patched_environ(env), _moto_speedups(), \
                    embedded_aws(self.scenario.parameters()) as aws:
                aws.extra_env = dict(env)
                runtime.reset_clients()
                faults.disarm_all()
                try:
                    self._season(aws)
                finally:
                    faults.disarm_all()
                    runtime.reset_clients()
        self.result.seconds = time.perf_counter() - started
        return self.result

    def _partners_file(self) -> Path:
        """The scenario's partners: beside its policy, else the demo's (events/partners.yaml), never the
        deploy's file (the user's data, shipped empty)."""
        from relance.escalation.partners import load_partners

        beside = self.scenario.policy_path.parent / "partners" / "partners.yaml"
        if beside.is_file() and load_partners(beside):      # the shipped file is empty: the demo's then
            return beside
        return policies_dir().parent / "events" / "partners.yaml"

    def _season(self, aws: Any) -> None:
        self.aws = aws
        self.driver = SeasonDriver(aws)
        self.store: Store = self.driver.store()
        self.files = SentFiles(self.out)
        self.log = LogWriter(self.out / "log.jsonl")
        try:
            self._import(self.scenario.start)
            days = self.scenario.days
            for index, day in enumerate(days):
                self._day(day)
                if self.progress:
                    self.progress(index + 1, len(days), day)
            self._final_state()
        finally:
            self.log.close()
            self.result.lines = self.log.lines

    # ---- import --------------------------------------------------------------------------------------
    def _import(self, start: dt.date) -> None:
        ledger = self.driver.ledger()
        policy = self.scenario.policy.name
        for record in self.scenario.customers:
            self.result.customers[record["id"]] = record
            try:
                ledger.upsert_customer({"policy": policy, **record})
            except RelanceError as exc:
                self.store.quarantine("customer", record["id"], str(exc), start, record)
        for record in self.scenario.invoices:
            facts = InvoiceFacts(record["id"], str(record.get("customer", "")), _date(record.get("issued")),
                                 _date(record.get("due")), _amount(record.get("amount")),
                                 _amount(record.get("balance", record.get("amount"))))
            self.result.invoices[facts.id] = facts
            self._invoices_of[facts.customer].append(facts.id)
            try:
                ledger.create_invoice(record, start)
            except RelanceError:
                facts.valid = False
                self._write_raw(record, start)

    def _write_raw(self, record: dict[str, Any], start: dt.date) -> None:
        """A record as a legacy import leaves it: stored as is and due today, for the dispatcher to judge."""
        iid, cid = str(record["id"]), str(record.get("customer", ""))
        self._raw.add(iid)
        item = {"pk": f"INV#{iid}", "sk": "META", "type": "invoice", "data": {k: str(v) for k, v in record.items()},
                "status": "open", "balance": str(record.get("balance", record.get("amount", ""))), "sent": [],
                "payments": [], "version": 1, "next_action": start.isoformat(),
                **due_keys(cid, iid, start, self.store.shards)}
        put_raw_invoice_item(self.store, item)
        put_raw_invoice_item(self.store, {"pk": f"CUST#{cid}", "sk": f"OPEN#{iid}"})

    # ---- one day -------------------------------------------------------------------------------------
    def _day(self, day: dt.date) -> None:
        events = self.scenario.events_on(day)
        touched: set[str] = set()
        self._moving: set[str] = set()       # cases whose execution moves today (decided, expired)
        outage = any(e.type == "outage" for e in events)
        duplicate = any(e.type == "duplicate_run" for e in events)
        with self._timed("events"):
            for event in events:
                touched |= self._apply(event, day)
        self.driver.dispatched.clear()
        if not outage:
            escalation = "EscalationFunction" in self.aws.functions
            if escalation:
                self._moving |= self._expiring(day)
            with self._timed("daily run + dispatch"):
                self.driver.run_day(day, duplicate=duplicate)
            if escalation and not self._daily_run_sweeps:
                with self._timed("escalation sweep"):
                    self.aws.invoke("EscalationFunction", {"action": "sweep", "run_date": day.isoformat()})
        faults.disarm_all()      # a crash armed for a day that sent nothing does not leak into the next
        with self._timed("state machines"):
            cases_active = self.driver.settle(self._moving) > 0
        with self._timed("read back"):
            self._read_back(day, sorted(self.driver.dispatched), touched, cases_active)
        self._snapshot(day)
        self.log.end_day()

    @functools.cached_property
    def _daily_run_sweeps(self) -> bool:
        """Whether the deployed daily run already calls the escalation sweep (else the runner does)."""
        props = self.aws.template["Resources"]["DailyRunFunction"]["Properties"]
        source = self.aws.template_dir / str(props.get("CodeUri", "")) / "app.py"
        return source.is_file() and "sweep(" in source.read_text(encoding="utf-8")

    def _expiring(self, day: dt.date) -> set[str]:
        """Cases whose approval the sweep is about to expire: their executions will move today."""
        from relance.store import EscalationStore

        return {str(p.get("case_id", "")) for p in EscalationStore.of(self.store).pending_approvals()
                if str(p.get("sk", "")).split("#", 1)[0] < day.isoformat()}

    @contextlib.contextmanager
    def _timed(self, phase: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.result.timings[phase] = self.result.timings.get(phase, 0.0) + time.perf_counter() - started

    def _apply(self, event: Event, day: dt.date) -> set[str]:
        ledger = self.driver.ledger()
        facts = self.result.invoices.get(event.invoice or "")
        try:
            if event.type == "payment" and event.invoice and event.amount is not None:
                record = ledger.record_payment(event.invoice, event.amount, day, event.reference)
                self.result.payments.append((day, event.invoice, event.amount))
                self.log.add(line(day.isoformat(), "payment", record.customer_id, [event.invoice],
                                  amount=f"{event.amount:.2f}", source="scenario"))
                if facts:
                    facts.balance, facts.status = record.balance, record.status
            elif event.type == "dispute" and event.invoice:
                ledger.open_dispute(event.invoice, day, event.reason or "contested")
            elif event.type == "dispute_resolved" and event.invoice:
                ledger.resolve_dispute(event.invoice, day)
            elif event.type == "promise" and event.invoice and event.until:
                ledger.record_promise(event.invoice, day, event.until)
            elif event.type in ("approve", "reject") and event.customer:
                self._decide(event, day)
            elif event.type == "crash":
                faults.arm(event.point)
            elif event.type == "bank_statement" and event.file is not None:
                return self._bank_statement(event, day)
            elif event.type == "debtor_reply" and event.customer:
                return self._debtor_reply(event, day)
        except RelanceError as exc:
            self._refuse(event, str(exc))
        return {event.invoice} if event.invoice else set()

    # ---- bank statements: dropped in the bucket, imported by the real ImportFunction -----------------
    def _bank_statement(self, event: Event, day: dt.date) -> set[str]:
        """Drop the file under statements/ as a bank export would be, deliver the S3 event to the imports
        function, and log what its report says: one ``payment`` line per invoice paid, one
        ``payment_unmatched`` line per entry put to the team. Returns the invoices it paid."""
        import json

        from relance_dev.simulate.bank import statement_event

        assert event.file is not None
        bucket = self.aws.resources["LettersBucket"]
        key = f"statements/{event.file.name}"
        s3 = runtime.client("s3")
        s3.put_object(Bucket=bucket, Key=key, Body=event.file.read_bytes())
        when = dt.datetime.combine(day, dt.time(7, 0), tzinfo=PARIS)
        self.aws.invoke("ImportFunction", statement_event(bucket, key, when))
        report_key = key.rsplit(".", 1)[0] + ".report.json"
        report = json.loads(s3.get_object(Bucket=bucket, Key=report_key)["Body"].read())
        if not report.get("ok"):
            reason = "; ".join(str(e.get("reason", "")) for e in report.get("errors", []))
            raise RelanceError(f"statement {event.file.name} refused: {reason}")
        iso = day.isoformat()
        paid: set[str] = set()
        for entry in report.get("entries", []):
            if entry.get("status") == "booked":
                for payment in entry.get("payments", []):
                    invoice, amount = str(payment["invoice"]), _amount(payment["amount"])
                    paid.add(invoice)
                    self.result.payments.append((day, invoice, amount))
                    self.log.add(line(iso, "payment", str(payment.get("customer", "")), [invoice],
                                      amount=f"{amount:.2f}", source="bank", reason=entry.get("reason", "")))
            elif entry.get("status") in ("unmatched", "failed"):
                candidates = entry.get("candidates") or {}
                customer = next(iter(candidates)) if len(candidates) == 1 else ""
                invoices = sorted({i for ids in candidates.values() for i in ids})
                self.log.add(line(iso, "payment_unmatched", customer, invoices, amount=entry.get("amount", ""),
                                  reason=entry.get("reason", "")))
        # The payments are dated the bank's booking day (before today): read their history now.
        first = min((dt.date.fromisoformat(e["date"]) for e in report.get("entries", [])), default=day)
        history = []
        for iid in sorted(paid):
            for item in events_between(self.store, iid, min(first, day), day):
                if item["sk"] not in self._seen_events:
                    self._seen_events.add(item["sk"])
                    history.append((iid, item))
        self._history_lines(iso, history)
        return paid

    def _refuse(self, event: Event, why: str) -> None:
        message = f"{self.scenario.path}:{event.line}: {event.type} on {event.date} refused: {why}"
        self.result.refused.append(message)
        print(f"relance simulate: {message}", file=sys.stderr)

    # ---- approvals: follow the link in the approver's email ------------------------------------------
    def _decide(self, event: Event, day: dt.date) -> None:

        customer = event.customer or ""
        pending = self._approval_mails.get(customer)
        if not pending:
            raise RelanceError(f"no approval request for customer {customer} has reached the approver yet")
        link, invoices = pending.pop(0)
        when = dt.datetime.combine(day, dt.time(10, 0), tzinfo=PARIS)
        page = self.aws.invoke("ApprovalFunction", api_event("GET", link, when=when))
        sig = re.search(r'name="sig" value="([^"]+)"', str(page.get("body", "")))
        if page.get("statusCode") != 200 or sig is None:
            raise RelanceError(f"the approval page answered {page.get('statusCode')} for customer {customer}")
        decision = "approve" if event.type == "approve" else "reject"
        form = person_form(str(page["body"]), decision, event.reason)   # types the code, like a person
        answer = self.aws.invoke("ApprovalFunction", api_event("POST", link, form, when=when))
        if answer.get("statusCode") != 200:
            raise RelanceError(f"the approval page refused the decision ({answer.get('statusCode')})")
        from relance.store import EscalationStore

        approval = EscalationStore.of(self.store).get_approval(link.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1])
        if approval:
            self._moving.add(str(approval.get("case_id", "")))
        kind = "approved" if event.type == "approve" else "rejected"
        self.log.add(line(day.isoformat(), kind, customer, invoices, reason=event.reason))
        self._escalating |= set(invoices)

    # ---- the debtor's page: follow the link in the latest message, GET then POST ----------------------
    def _debtor_reply(self, event: Event, day: dt.date) -> set[str]:
        """Open the link of the latest email the debtor received (GET), fill in the form and POST it through
        the real DebtorPageFunction; log ``debtor_reply`` with the answer. Returns the invoices answered."""
        import html as html_lib

        customer = event.customer or ""
        link = self._debtor_links.get(customer)
        if not link:
            raise RelanceError(f"no message with a link to the debtor's page has reached customer {customer} yet")
        when = dt.datetime.combine(day, dt.time(9, 30), tzinfo=PARIS)
        page = self.aws.invoke("DebtorPageFunction", debtor_event("GET", link, None, when))
        body = str(page.get("body", ""))
        sig = re.search(r'name="sig" value="([^"]+)"', body)
        if page.get("statusCode") != 200 or sig is None:
            raise RelanceError(f"the debtor's page answered {page.get('statusCode')} for customer {customer}")
        invoices = [html_lib.unescape(v) for v in re.findall(r'name="invoice"\s+value="([^"]+)"', body)]
        form: list[tuple[str, str]] = [("sig", html_lib.unescape(sig.group(1))), ("answer", event.answer)]
        form += [("invoice", i) for i in invoices]
        if event.answer == "paid":
            form += [("paid_on", day.isoformat()), ("reference", event.reference or "")]
        elif event.answer == "dispute":
            form.append(("reason", event.reason))
        elif event.until:
            form.append(("until", event.until.isoformat()))
        answer = self.aws.invoke("DebtorPageFunction", debtor_event("POST", link, form, when))
        if answer.get("statusCode") != 200:
            raise RelanceError(f"the debtor's page refused the answer ({answer.get('statusCode')})")
        reason = {"dispute": event.reason, "promise": f"until {event.until}" if event.until else "",
                  "paid": f"paid on {day.isoformat()}"}[event.answer]
        self.log.add(line(day.isoformat(), "debtor_reply", customer, invoices, answer=event.answer,
                          reason=reason))
        return set(invoices)

    # ---- reading the day back ------------------------------------------------------------------------
    def _read_back(self, day: dt.date, dispatched: list[str], touched: set[str], cases_active: bool) -> None:
        """The day as AWS and the table have it: messages first, then the history of the invoices concerned.

        Only invoices something happened to are read: those in a message or a team task of the day (a
        flagged claim comes with its task), those the day's events touched, and those in an escalation on
        a day an escalation execution started or moved (a parked execution writes nothing).
        """
        iso = day.isoformat()
        messages = self.driver.new_messages(day)
        watched = set(touched) | {i for m in messages for i in m.invoices}
        if cases_active:
            watched |= self._escalating
        if day == self.scenario.start:
            watched |= self._raw
        history: list[tuple[str, dict[str, Any]]] = []
        for iid in sorted(watched):
            for event in events_between(self.store, iid, day, day):
                if event["sk"] in self._seen_events:
                    continue
                self._seen_events.add(event["sk"])
                history.append((iid, event))
                details = event.get("details") or {}
                if event.get("kind") == "sent" and details.get("channel") == "sms":
                    customer = self._customer_of(iid)
                    self.driver.sms_index[str(details.get("message_id", ""))] = (
                        customer, str(details.get("step", "")), tuple(details.get("invoices") or [iid]))
        self._history_lines(iso, history)
        self._quarantine_lines(iso, dispatched, watched)
        for delivery in [*messages, *self.driver.new_sms()]:
            self._delivery_line(iso, delivery)

    def _customer_of(self, invoice_id: str) -> str:
        facts = self.result.invoices.get(invoice_id)
        return facts.customer if facts else ""

    def _history_lines(self, iso: str, history: list[tuple[str, dict[str, Any]]]) -> None:
        groups: dict[tuple[str, ...], set[str]] = defaultdict(set)
        partners: dict[str, str] = {}
        for iid, event in history:
            details = {str(k): str(v) for k, v in (event.get("details") or {}).items()}
            kind = str(event.get("kind", ""))
            if kind == "escalation_started":
                self._escalating.add(iid)
                # The policy's route (collection_agency | commissaire_de_justice): what `partner` names in the log.
                self._routes[iid] = details.get("partner", "")
            elif kind == "submitted_to_partner":
                partners[iid] = details.get("partner", "")
        for iid, event in history:
            details = {str(k): str(v) for k, v in (event.get("details") or {}).items()}
            kind = str(event.get("kind", ""))
            customer = self._customer_of(iid)
            facts = self.result.invoices.get(iid)
            if kind in ("paused", "resumed"):
                groups[(kind, customer, "", details.get("reason", ""), "")].add(iid)
                if facts and kind == "resumed":
                    facts.to_decide = False
                elif facts and details.get("reason", "").startswith(TO_DECIDE_PREFIX):
                    facts.to_decide = True
            elif kind == "approval_expired":
                # the approval link expired without a decision: never a refusal, the team decides
                self._escalating.discard(iid)
                groups[(kind, customer, "handoff", details.get("reason", ""), self._routes.get(iid, ""))].add(iid)
            elif kind == "flagged":
                groups[(kind, customer, details.get("step", ""), details.get("reason", ""), "")].add(iid)
            elif kind == "stopped":
                status = details.get("status", "paid" if details.get("reason") == "paid" else "")
                if facts and status:
                    facts.status, facts.to_decide = status, False
                if status == "handed_off":
                    self._escalating.discard(iid)
                    partner = (self._routes.get(iid) or partners.get(iid)
                               or self._partner_from(details.get("reason", "")))
                    groups[("handed_off", customer, "handoff", details.get("reason", ""), partner)].add(iid)
                else:
                    self._escalating.discard(iid)
                    groups[("stopped", customer, "", details.get("reason", ""), "")].add(iid)
            elif kind == "payment" and facts:
                facts.balance = _amount(details.get("balance", facts.balance))
        for (kind, customer, step, reason, partner), invoices in groups.items():
            self.log.add(line(iso, kind, customer, invoices, step=step, reason=reason, partner=partner))

    @staticmethod
    def _partner_from(reason: str) -> str:
        match = re.match(r"handed off to (.+?) \(case", reason)
        return match.group(1) if match else ""

    def _quarantine_lines(self, iso: str, dispatched: list[str], watched: set[str]) -> None:
        """Quarantine items of the customers dispatched today and of their invoices (a few batch reads)."""
        invoices = set(watched) | {i for c in dispatched for i in self._invoices_of.get(c, ())}
        keys = [("invoice", i) for i in invoices] + [("customer", c) for c in dispatched]
        if iso == self.scenario.start.isoformat():
            keys += [("customer", c) for c in self.result.customers]
        for item in quarantine_items(self.store, keys):
            if item["pk"] in self._seen_quarantine:
                continue
            self._seen_quarantine.add(item["pk"])
            record = item.get("record") or {}
            rid = str(item.get("record_id", ""))
            if item.get("kind") == "invoice":
                customer = str(record.get("customer", "")) or self._customer_of(rid)
                facts = self.result.invoices.get(rid)
                if facts:
                    facts.valid, facts.status = False, "quarantined"
                self.log.add(line(iso, "quarantined", customer, [rid], reason=item.get("reason", "")))
            else:
                self.log.add(line(iso, "quarantined", rid, [], reason=item.get("reason", "")))

    def _delivery_line(self, iso: str, delivery: Delivery) -> None:
        if not delivery.customer and delivery.invoices:
            # Mails about a case (approval requests, reminders) name its invoices, not always the customer.
            from dataclasses import replace

            delivery = replace(delivery, customer=self._customer_of(delivery.invoices[0]))
        stem = safe_name(iso, delivery.customer or "team", delivery.step or "message", delivery.channel)
        file = ""
        if delivery.channel == "email":
            file = self.files.write(stem, ".eml", delivery.content)
            self.result.attachments[file] = [
                self.files.write(f"{stem}-{safe_name(Path(name).stem)}", ".pdf", content)
                for name, content in delivery.attachments]
        elif delivery.channel == "letter":
            file = self.files.write(stem, ".pdf", delivery.content)
        else:
            self.result.bodies[f"{iso}|{delivery.customer}|{delivery.step}|{delivery.channel}"] = delivery.body
        if delivery.channel == "email" and delivery.customer and (found := DEBTOR_LINK.findall(delivery.body)):
            self._debtor_links[delivery.customer] = found[-1]
        if delivery.step == "approval_request":
            links = LINK.findall(delivery.body)
            if links:
                self._approval_mails[delivery.customer].append((links[-1], delivery.invoices))
            self.log.add(line(iso, "approval_requested", delivery.customer, delivery.invoices,
                              step=delivery.step, channel=delivery.channel, to=delivery.to,
                              subject=delivery.subject, file=file))
            return
        self.log.add(line(iso, "sent", delivery.customer, delivery.invoices, step=delivery.step,
                          channel=delivery.channel, to=delivery.to, subject=delivery.subject, file=file))

    def _snapshot(self, day: dt.date) -> None:
        total = sum((f.balance for f in self.result.invoices.values()
                     if f.valid and f.status in OWED and (f.issued is None or f.issued <= day)), Decimal("0"))
        self.result.balances.append((day, total))

    def _final_state(self) -> None:
        """Balances and statuses as the table has them at the end (the source of truth)."""
        valid = [i for i, f in self.result.invoices.items() if f.valid]
        for iid, item in self.store.get_invoice_items(valid).items():
            facts = self.result.invoices[iid]
            facts.balance = _amount(item.get("balance", facts.balance))
            facts.status = str(item.get("status", facts.status))
            facts.to_decide = bool(item.get("to_decide")) and facts.status == "open"


def debtor_event(method: str, link: str, form: list[tuple[str, str]] | None,
                  when: dt.datetime) -> dict[str, Any]:
    """An API Gateway (REST, proxy) event for the debtor's page, as a browser on a phone would send it."""
    import secrets
    import urllib.parse

    url = urllib.parse.urlsplit(link)
    query = dict(urllib.parse.parse_qsl(url.query))
    link_id = url.path.rstrip("/").rsplit("/", 1)[-1]
    body = urllib.parse.urlencode(form) if form is not None else None
    headers = {"Host": url.netloc, "User-Agent": "Mozilla/5.0 (iPhone; relance-simulator)",
               **({"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {})}
    return {
        "resource": "/p/{id}", "path": f"/p/{link_id}", "httpMethod": method,
        "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
        "pathParameters": {"id": link_id}, "stageVariables": None,
        "requestContext": {"resourcePath": "/p/{id}", "httpMethod": method, "path": url.path, "stage": "Prod",
                           "requestId": secrets.token_hex(8), "requestTimeEpoch": int(when.timestamp() * 1000)},
        "body": body, "isBase64Encoded": False,
    }


def run_season(scenario: Scenario, out: Path | str,
               progress: Callable[[int, int, dt.date], None] | None = None) -> SeasonResult:
    """Run ``scenario`` and write ``out``/log.jsonl and ``out``/sent/ (the report is written by the caller)."""
    return SeasonRunner(scenario, Path(out), progress).run()
