"""The heart of the daily run: for one customer and one day, send what is due, exactly once.

For each customer message the dispatcher loads the customer and its open invoices, evaluates the policy,
groups the invoices due for the same step into one message, claims each invoice-step with a conditional
write, renders, sends, and records the sends with the new next action in one transaction.

Exactly-once rests on the claim: a step is claimed before it is sent and marked ``sent`` in the same
transaction that records it. A claim found still ``claimed`` on a later day means the process died
between the two; that step is never sent again: it is flagged for a person, and the ladder carries on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from relance.channels import Channel, ChannelRefused, OutgoingMessage, Receipt
from relance.errors import RateMissingError, RelanceError
from relance.escalation import open_cases
from relance.keys import safe_name
from relance.ledger import Ledger, customer_context, engine_state, invoice_amount, invoice_due, next_action
from relance.models import Customer, Invoice, parse_record
from relance.money import ZERO
from relance.policy import DueStep, Policy, evaluate
from relance.policy.grouping import group_due, route_case
from relance.ports import Event, Store
from relance.rendering import Rendered, render
from relance.rendering.context import CompanyInfo, ContactEntry, InvoiceLine, MessageContext
from relance.store import BadRecord, Claim, ConflictError, InvoiceRecord, SentStep, StateChange

# A claim younger than this, from today's run, belongs to a dispatcher still at work (SQS redelivery).
CLAIM_LEASE_SECONDS = 15 * 60
# After this many refused sends of one step, a person is asked to look at the contact data.
MAX_SEND_FAILURES = 3
FORMAL_NOTICE_DEADLINE_DAYS = 8


@dataclass
class DispatchReport:
    """What one customer's dispatch did; handlers turn it into metrics and logs."""

    customer: str
    sent: list[dict[str, Any]] = field(default_factory=list)
    flagged: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    escalations: list[dict[str, Any]] = field(default_factory=list)
    rate_alerts: list[dict[str, Any]] = field(default_factory=list)   # one per semester and missing rate


@dataclass
class Dispatcher:
    store: Store
    ledger: Ledger
    channels: Mapping[str, Channel]
    company: CompanyInfo
    start_escalation: Callable[[dict[str, Any]], str] | None = None
    renderer: Callable[[str, Sequence[str], MessageContext], Rendered] = render
    attachments: Callable[[str], bytes | None] | None = None   # S3 key -> original invoice PDF
    debtor_link: Callable[[str, dt.date], str | None] | None = None   # customer, day -> the debtor's page link
    # customer -> its link id: the link's item is written in the claim's call, before the message that
    # carries the link goes out (no call of its own)
    debtor_link_id: Callable[[str], str] | None = None
    # Rates stored in the table (law.rates.RateStore + claim_alert): they complete the packaged rates.yaml,
    # and a missing rate is told once per semester (metric + team task), never silently.
    rates: Any = None
    _rate_alerts: list[dict[str, Any]] = field(default_factory=list, repr=False)

    # ---- entry point -----------------------------------------------------------------------------
    def dispatch_customer(self, customer_id: str, run_date: dt.date) -> DispatchReport:
        report = DispatchReport(customer_id)
        if self.rates is not None:
            from relance.law.rates import use_stored

            use_stored(*self.rates.load())
        try:
            self._dispatch_customer(customer_id, run_date, report)
        finally:
            report.rate_alerts, self._rate_alerts = self._rate_alerts, []
        return report

    def _dispatch_customer(self, customer_id: str, run_date: dt.date, report: DispatchReport) -> None:
        book = self.store.customer_book(customer_id)
        profile, items = book.profile, book.invoices
        open_ids = list(items)
        customer, policy, reason = self._customer_and_policy(customer_id, profile)
        if customer is None or policy is None:
            self._quarantine("customer", customer_id, reason or "unusable", run_date, profile, report)
            for iid in open_ids:
                self._quarantine_invoice(iid, f"its customer {customer_id} is quarantined: {reason}",
                                         run_date, _fields(items.get(iid)), report)
            return

        records = [r for iid in open_ids if (r := self._valid_record(iid, items.get(iid), run_date, report))]
        ctx = customer_context(customer, records, run_date)
        due: list[tuple[InvoiceRecord, DueStep]] = []
        for record in records:
            if record.next_action is None or record.next_action > run_date:
                continue
            decision = evaluate(policy, engine_state(record, run_date), ctx, run_date)
            if decision.due:
                due.append((record, decision.due[0]))
            elif decision.stopped == "time_barred":
                self._time_barred(customer, record, run_date)
            elif decision.next_action != record.next_action:
                self._reschedule(record, policy, customer, run_date, decision.paused or decision.stopped)
        # one message per step, or one per day at the most advanced step (policy one_message_per_day);
        # the statement of penalties left after the principal always goes apart, last
        for group in group_due(policy, due):
            self._send_group(customer, policy, list(group.members), records, run_date, report, group.step,
                             book.claims)

    # ---- validation and quarantine ---------------------------------------------------------------
    def _customer_and_policy(self, customer_id: str, profile: Mapping[str, Any] | None
                             ) -> tuple[Customer | None, Policy | None, str | None]:
        if profile is None:
            return None, None, f"customer {customer_id} does not exist"
        try:
            customer = parse_record(Customer, dict(profile), f"customer {customer_id}")
            policy = self.ledger.policy_for(customer)
        except RelanceError as exc:
            return None, None, str(exc)
        if not customer.reachable:
            return None, None, f"customer {customer_id} has no usable contact (email, phone or address)"
        return customer, policy, None

    def _valid_record(self, invoice_id: str, item: InvoiceRecord | BadRecord | None, run_date: dt.date,
                      report: DispatchReport) -> InvoiceRecord | None:
        if item is None:
            return None      # the pointer outlived its invoice: nothing to chase
        if isinstance(item, BadRecord):
            self._quarantine_invoice(invoice_id, item.reason, run_date, item.fields, report)
            return None
        record = item
        try:
            parse_record(Invoice, dict(record.raw), f"invoice {invoice_id}")
            if record.balance < 0:
                raise RelanceError(f"balance {record.balance} is negative", f"invoice {invoice_id}")
        except (RelanceError, KeyError, ValueError, TypeError, InvalidOperation) as exc:
            reason = str(exc) if isinstance(exc, RelanceError) else f"invoice {invoice_id}: malformed ({exc!r})"
            self._quarantine_invoice(invoice_id, reason, run_date, record.raw, report)
            return None
        return record

    def _quarantine_invoice(self, invoice_id: str, reason: str, run_date: dt.date,
                            item: Mapping[str, Any] | None, report: DispatchReport) -> None:
        self._quarantine("invoice", invoice_id, reason, run_date, item, report)
        if item is not None:
            self.store.take_out_of_due_index(invoice_id)

    def _quarantine(self, kind: str, record_id: str, reason: str, run_date: dt.date,
                    record: Mapping[str, Any] | None, report: DispatchReport) -> None:
        if self.store.quarantine(kind, record_id, reason, run_date, _flat(record)):
            report.quarantined.append({"kind": kind, "id": record_id, "reason": reason})

    def _reschedule(self, record: InvoiceRecord, policy: Policy, customer: Customer, run_date: dt.date,
                    why: str | None) -> None:
        """Nothing to send today (paused, condition false...): move the invoice to its next action date."""
        records = [record]
        nxt = next_action(policy, record, customer_context(customer, records, run_date), run_date)
        if nxt == record.next_action:
            return
        # A concurrent writer already recomputed it: nothing to do.
        with contextlib.suppress(ConflictError):
            self.store.update_invoice_state(record, changes={}, next_action=nxt)

    # ---- sending ---------------------------------------------------------------------------------
    def _send_group(self, customer: Customer, policy: Policy, members: list[tuple[InvoiceRecord, DueStep]],
                    all_records: Sequence[InvoiceRecord], run_date: dt.date, report: DispatchReport,
                    message_step: Any = None, known: Mapping[tuple[str, str], Claim] | None = None) -> None:
        """Send one message at ``message_step`` (default: the members' step); each invoice claims and records
        its own step, so a grouped invoice's ladder advances as if its step had been sent. The claims read
        with the invoices are already known; the others are claimed in one call per step."""
        step = message_step or members[0][1].step
        claims: dict[str, Claim | None] = {r.invoice_id: c for r, d in members
                                           if (c := (known or {}).get((r.invoice_id, d.step.id))) is not None}
        unclaimed: dict[str, list[str]] = defaultdict(list)
        for record, due in members:
            if record.invoice_id not in claims:
                unclaimed[due.step.id].append(record.invoice_id)
        link_id = self.debtor_link_id(customer.id) if self.debtor_link_id and self.debtor_link else None
        for step_id, invoice_ids in unclaimed.items():
            claims.update(self.store.claim_all(customer.id, invoice_ids, step_id, run_date, link_id=link_id))
        claimed: list[tuple[InvoiceRecord, DueStep]] = []
        abandoned: list[tuple[InvoiceRecord, Claim]] = []
        for record, due in members:
            existing = claims[record.invoice_id]
            if existing is None:
                claimed.append((record, due))
            elif existing.status == "claimed" and _stale(existing, run_date):
                abandoned.append((record, existing))
        if abandoned:
            self._flag(customer, policy, abandoned, step.id, run_date, report)
        if not claimed:
            return
        if step.action == "escalate":
            self._escalate(customer, policy, claimed, all_records, run_date, report)
            return

        stages = {r.invoice_id: d.step.id for r, d in claimed if d.step.id != step.id}
        message = self._message(customer, step, [r for r, _ in claimed], run_date,
                                {"stages": {r.invoice_id: d.step.id for r, d in claimed}} if stages else None)
        channels = self._channels_for(step.channels, message)
        receipts: list[Receipt] = []
        refusals: list[str] = []
        denied: list[str] = []
        try:
            for channel in channels:
                try:
                    receipts.append(channel.send(message))
                except ChannelRefused as exc:
                    refusals.append(f"{channel.name}: {exc}")
                except Exception as exc:
                    if (why := _permission_denied(exc)) is None:
                        raise
                    # AWS refused the call (IAM): nothing went out on this channel and no retry changes
                    # that; the other channels still go, and a person is told (below).
                    refusals.append(f"{channel.name}: {why}")
                    denied.append(f"{channel.name}: {why}")
        except Exception:
            # Unknown outcome for the channel that raised (throttling, network): keep the claims of the
            # sends that went out; release only when nothing was sent, so the SQS retry can send.
            if not receipts:
                for record, due in claimed:
                    self.store.release_claim(record.invoice_id, due.step.id)
                raise
            refusals.append("a channel failed with an unexpected error")
        if not receipts:
            for record, due in claimed:
                self.store.release_claim(record.invoice_id, due.step.id)
                self._send_failed(customer, policy, record, due.step.id, run_date, refusals, report)
            return
        self._record_sent(customer, policy, claimed, run_date, receipts, message, refusals)
        if denied:
            self._report_denied(customer, [r for r, _ in claimed], step.id, run_date, denied, report)
        report.sent.append({"step": step.id, "invoices": [r.invoice_id for r, _ in claimed],
                            "channels": [r.channel for r in receipts]})

    def _channels_for(self, wanted: Sequence[str], message: OutgoingMessage) -> list[Channel]:
        """The step's channels that can reach the customer; email falls back to a letter, then a task."""
        chosen: list[Channel] = []
        for name in wanted:
            channel = self.channels[name]
            if channel.available(message):
                chosen.append(channel)
            elif name == "email" and "letter" not in wanted and self.channels["letter"].available(message):
                chosen.append(self.channels["letter"])
        if not chosen or (all(c.name == "task" for c in chosen) and "task" not in wanted):
            chosen.append(self.channels["task"])
        unique: dict[str, Channel] = {}
        for channel in chosen:
            unique.setdefault(channel.name, channel)
        return list(unique.values())

    def _message(self, customer: Customer, step: Any, records: Sequence[InvoiceRecord],
                 run_date: dt.date, extra: Mapping[str, Any] | None = None) -> OutgoingMessage:
        link = self.debtor_link(customer.id, run_date) if self.debtor_link else None
        extra = {**(extra or {}), **({"debtor_link": link} if link else {})}
        ctx = self.context(customer, step.id, records, run_date, extra or None)
        needs_pdf = tuple(step.channels) + (("letter",) if not customer.email or customer.email_bounced else ())
        rendered = self.renderer(step.template, needs_pdf, ctx)
        attached: list[tuple[str, bytes]] = []
        if self.attachments:
            for record in records:
                if record.attachment_key and (content := self.attachments(record.attachment_key)):
                    attached.append((f"facture-{record.invoice_id}.pdf", content))
        return OutgoingMessage(
            step=step.id, customer_id=customer.id, customer_name=customer.name,
            invoice_ids=tuple(r.invoice_id for r in records), run_date=run_date,
            subject=rendered.subject, text=rendered.text, html=rendered.html, sms=rendered.sms,
            task=rendered.task, pdf=rendered.pdf,
            email=None if customer.email_bounced else customer.email, phone=customer.phone,
            address=customer.address, attachments=tuple(attached))

    def context(self, customer: Customer, step_id: str, records: Sequence[InvoiceRecord],
                run_date: dt.date, extra: Mapping[str, Any] | None = None) -> MessageContext:
        """The letter's facts: amounts, balances and penalties computed by the law core on ``run_date``."""
        lines = []
        notes: dict[str, Any] = dict(extra or {})
        notes.setdefault("customer_phone", customer.phone or "")   # the call task shows it; no phone, no promised call
        for record in records:
            line, missing = invoice_line(customer, record, run_date, step_id)
            lines.append(line)
            if missing:
                notes["penalties_unavailable"] = str(missing)
                self._rate_missing(customer, missing, run_date)
        history = sorted({ContactEntry(s.date, s.step, ch) for r in records for s in r.sent for ch in s.channels
                          if not s.flagged}, key=lambda c: (c.date, c.step, c.channel))
        deadline = run_date + dt.timedelta(days=FORMAL_NOTICE_DEADLINE_DAYS)
        return MessageContext(
            company=self.company, customer_name=customer.name, customer_kind=customer.kind,
            customer_address=customer.address, language=customer.language, step=step_id,
            letter_date=run_date, invoices=tuple(lines),
            reference=" ".join(r.invoice_id for r in records), deadline=deadline,
            history=tuple(history), extra=notes, customer_siren=customer.siren)

    def _time_barred(self, customer: Customer, record: InvoiceRecord, run_date: dt.date) -> None:
        """Limitation passed before a send: stop the invoice with its reason, and tell the team."""
        from relance.law.limitation import limitation_date

        delivered = engine_state(record, run_date).delivered
        limit = limitation_date(customer.kind, invoice_due(record), delivered)
        reason = f"time-barred since {limit.date + dt.timedelta(days=1)}: {limit.basis}"
        try:
            self.store.update_invoice_state(
                record, changes={"status": "time_barred"}, next_action=None,
                events=[(run_date, "stopped", {"reason": reason[:500], "status": "time_barred"})])
        except ConflictError:
            return   # changed meanwhile (a payment...): the next run looks at it again
        text = (f"Facture {record.invoice_id} ({customer.name}) : créance prescrite, aucune relance ne part plus. "
                f"Dernier jour pour agir : {limit.date.strftime('%d/%m/%Y')}. Motif : {limit.basis}. Réclamer "
                "une créance prescrite à un consommateur est une pratique sanctionnée : ne relancez pas à la main ; "
                "un paiement volontaire reste possible et peut être encaissé.")
        self.channels["task"].send(OutgoingMessage(
            step="time_barred", customer_id=customer.id, customer_name=customer.name,
            invoice_ids=(record.invoice_id,), run_date=run_date,
            subject=f"Relance : facture {record.invoice_id} prescrite, relances arrêtées", task=text))

    def _rate_missing(self, customer: Customer, error: RateMissingError, run_date: dt.date) -> None:
        """A letter needed a rate the table lacks: tell the team once per semester and rate."""
        semester, what = getattr(error, "semester", None), getattr(error, "what", None)
        if self.rates is None or semester is None or what is None:
            return
        from relance.law.rates import Semester

        if not self.rates.claim_alert(Semester.parse(semester), what):
            return
        label = "taux de refinancement de la BCE" if what == "ecb" else "taux de l'intérêt légal (arrêté)"
        text = (f"Le {label} du semestre {semester} manque dans la table des taux : {error}\n\n"
                "Les lettres partent sans chiffre d'intérêts (principal et indemnité de 40 € indiqués, "
                "intérêts décrits en mots). Saisissez le taux : relance rates set --semester "
                f"{semester} --legal-individual X --legal-other Y --source URL (taux légal), ou vérifiez la "
                "fonction RatesCheckFunction (taux BCE).")
        self.channels["task"].send(OutgoingMessage(
            step="rate_missing", customer_id=customer.id, customer_name=customer.name, invoice_ids=(),
            run_date=run_date, subject=f"Relance : {label} {semester} manquant", task=text))
        self._rate_alerts.append({"semester": semester, "rate": what})

    # ---- recording -------------------------------------------------------------------------------
    def _record_sent(self, customer: Customer, policy: Policy, claimed: Sequence[tuple[InvoiceRecord, DueStep]],
                     run_date: dt.date, receipts: Sequence[Receipt], message: OutgoingMessage,
                     refusals: Sequence[str]) -> None:
        """Record the message on every invoice, each at its own step, in one transaction."""
        channels = tuple(r.channel for r in receipts)
        entries = []
        for record, due in claimed:
            step_id = due.step.id
            events: list[Event] = [*_resumed_after_pause(record, run_date)]
            events += [(run_date, "sent", {"step": step_id, "channel": r.channel, "to": r.to,
                                          "message_id": r.message_id, "subject": message.subject,
                                          "invoices": list(message.invoice_ids), **r.extra}) for r in receipts]
            events += [(run_date, "send_refused", {"step": step_id, "reason": why}) for why in refusals]
            if step_id == "penalty_statement":   # the one statement of what remains once the principal is paid
                events.append((run_date, "stopped", {
                    "reason": f"paid; « décompte des pénalités » sent for {record.accessories_due} EUR "
                              "(interest and indemnity left after the principal)"}))
            entries.append((record, SentStep(step_id, run_date, channels), events))
        # a statement of penalties is sent apart (relance.policy.grouping): the whole group closes
        closing = {"status": "paid"} if claimed[0][1].step.id == "penalty_statement" else None
        self._write_group(customer, policy, entries, run_date, "sent", closing)

    def _flag(self, customer: Customer, policy: Policy, abandoned: Sequence[tuple[InvoiceRecord, Claim]],
              step_id: str, run_date: dt.date, report: DispatchReport) -> None:
        """Claims without their record: the send may have gone out. Never resend; ask a person, once."""
        claimed_on = abandoned[0][1].run_date
        reason = (f"step {step_id} was claimed on {claimed_on} but its send was never recorded: "
                  "check whether the customer received it")
        flagged = SentStep(step_id, run_date, (), True)
        events: list[Event] = [(run_date, "flagged", {"step": step_id, "reason": reason})]
        closing = None
        if step_id == "penalty_statement":   # never resent: the invoice closes, the team checks the send
            closing = {"status": "paid"}
            events.append((run_date, "stopped", {"reason": "paid; « décompte des pénalités » claimed but its "
                                                           "send was never confirmed (flagged)"}))
        self._write_group(customer, policy, [(record, flagged, events) for record, _ in abandoned], run_date,
                          "flagged", closing)
        for record, _ in abandoned:
            report.flagged.append({"invoice": record.invoice_id, "step": step_id, "reason": reason})
        self._notify_team(customer, "flagged_claim", [r for r, _ in abandoned], run_date,
                          {"flag_reason": reason, "flag_step": step_id, "flagged_step": step_id, "reason": reason})

    def _report_denied(self, customer: Customer, records: Sequence[InvoiceRecord], step_id: str,
                       run_date: dt.date, denied: Sequence[str], report: DispatchReport) -> None:
        """Channels AWS refused while the step's other channels went out: flag it for a person, once."""
        reason = (f"step {step_id} went out without {'; '.join(denied)}: nothing was sent on "
                  f"{'that channel' if len(denied) == 1 else 'those channels'}, send it by hand")
        for record in records:
            self.store.add_event(record.invoice_id, run_date, "flagged", {"step": step_id, "reason": reason})
            report.flagged.append({"invoice": record.invoice_id, "step": step_id, "reason": reason})
            report.failures.append({"invoice": record.invoice_id, "step": step_id, "reasons": list(denied)})
        self._notify_team(customer, "flagged_claim", records, run_date,
                          {"flag_reason": reason, "flag_step": step_id, "flagged_step": step_id, "reason": reason})

    def _send_failed(self, customer: Customer, policy: Policy, record: InvoiceRecord, step_id: str,
                     run_date: dt.date, refusals: Sequence[str], report: DispatchReport) -> None:
        failures = record.send_failures + 1
        events = [(run_date, "send_refused", {"step": step_id, "reason": "; ".join(refusals),
                                              "attempt": failures})]
        report.failures.append({"invoice": record.invoice_id, "step": step_id, "reasons": list(refusals)})
        if failures >= MAX_SEND_FAILURES:
            reason = f"step {step_id} refused {failures} times: {'; '.join(refusals)}"
            self.store.claim(record.invoice_id, step_id, run_date)
            flagged: list[tuple[dt.date, str, dict[str, Any]]] = [
                *events, (run_date, "flagged", {"step": step_id, "reason": reason})]
            closing: dict[str, Any] = {"send_failures": 0}
            if step_id == "penalty_statement":   # not retried for ever: close it, the team has the task
                closing["status"] = "paid"
                flagged.append((run_date, "stopped", {"reason": "paid; « décompte des pénalités » could not be sent"}))
            self._write_with_retry(customer, policy, record, run_date, SentStep(step_id, run_date, (), True),
                                   flagged, "flagged", changes=closing)
            self._notify_team(customer, "flagged_claim", [record], run_date,
                              {"flag_reason": reason, "flag_step": step_id, "flagged_step": step_id,
                               "reason": reason})
            report.flagged.append({"invoice": record.invoice_id, "step": step_id, "reason": reason})
            return
        # Keep the invoice due: the next run tries again.
        self.store.update_invoice_state(record, changes={"send_failures": failures},
                                        next_action=run_date + dt.timedelta(days=1), events=events)

    def _write_with_retry(self, customer: Customer, policy: Policy, record: InvoiceRecord, run_date: dt.date,
                          sent: SentStep, events: list[tuple[dt.date, str, dict[str, Any]]], claim_status: str,
                          changes: Mapping[str, Any] | None = None) -> None:
        self._write_group(customer, policy, [(record, sent, events)], run_date, claim_status, changes)

    def _write_group(self, customer: Customer, policy: Policy,
                     entries: Sequence[tuple[InvoiceRecord, SentStep, Sequence[Event]]],
                     run_date: dt.date, claim_status: str, changes: Mapping[str, Any] | None = None) -> None:
        """Record a step on every invoice of a message with their new next actions and settle their claims, in
        one transaction (cut at invoice boundaries past the 100-item limit).

        A concurrent change (a payment recorded meanwhile) makes the write fail on the version check; we
        re-read the invoices not yet written and record again: the send happened and must not be lost.
        """
        pending = {record.invoice_id: (record, sent, events) for record, sent, events in entries}
        for _ in range(5):
            group = []
            for current, sent, events in pending.values():
                updated = _with(current, sent=(*current.sent, sent))
                nxt = next_action(policy, updated, customer_context(customer, [updated], run_date), run_date)
                if nxt == run_date:
                    nxt = run_date + dt.timedelta(days=1)
                group.append(StateChange(current, {"sent": updated.sent, **(changes or {})}, nxt, events,
                                         (sent.step, claim_status)))
            token = json.dumps([customer.id, run_date.isoformat(), claim_status, sorted(pending)])
            try:
                self.store.update_invoice_states(group, token)
                return
            except ConflictError as exc:
                for invoice_id in exc.written:
                    pending.pop(invoice_id, None)
                for invoice_id, (_, sent, events) in list(pending.items()):
                    fresh = self.store.get_invoice(invoice_id)
                    if fresh is None:
                        raise
                    pending[invoice_id] = (fresh, sent, events)
        first = next(iter(pending.values()))[1].step
        raise RelanceError(f"could not record step {first}", f"invoice(s) {', '.join(sorted(pending))}")

    # ---- escalation and team tasks ---------------------------------------------------------------
    def _escalate(self, customer: Customer, policy: Policy, claimed: list[tuple[InvoiceRecord, DueStep]],
                  all_records: Sequence[InvoiceRecord], run_date: dt.date, report: DispatchReport) -> None:
        step = claimed[0][1].step
        invoice_ids = sorted(r.invoice_id for r, _ in claimed)
        case_balance = sum((r.balance for r, _ in claimed), ZERO)
        # routed on the case: the invoices handed off together, not everything the customer owes
        overdue = max((run_date - invoice_due(r)).days for r, _ in claimed)
        partner = route_case(step, customer_context(customer, all_records, run_date),
                             [r.balance for r, _ in claimed], overdue) or claimed[0][1].partner
        case_id = case_id_for(customer.id, step.id, invoice_ids)
        if self._wait_for_open_case(customer, policy, claimed, step.id, partner, case_id, run_date):
            return
        case = {"case_id": case_id, "customer": customer.id, "invoices": invoice_ids, "step": step.id,
                "partner": partner, "run_date": run_date.isoformat(), "approval": bool(step.approval),
                "case_balance": str(case_balance)}
        if self.start_escalation is None:
            raise RelanceError("no state machine is configured for escalations (STATE_MACHINE_ARN)",
                               f"customer {customer.id}")
        execution = self.start_escalation(case)
        open_cases.remember(self.store, customer.id, str(partner), case_id)
        started = [(run_date, "escalation_started", {"step": step.id, "case_id": case_id, "partner": partner,
                                                     "execution": execution})]
        self._write_group(customer, policy, [(record, SentStep(step.id, run_date, ("escalate",)), started)
                                             for record, _ in claimed], run_date, "sent")
        report.escalations.append({**case, "execution": execution})

    def _wait_for_open_case(self, customer: Customer, policy: Policy, claimed: list[tuple[InvoiceRecord, DueStep]],
                            step_id: str, partner: str | None, case_id: str, run_date: dt.date) -> bool:
        """One open case per customer and partner: the new invoices wait a week for the open one to end."""
        other = open_cases.open_case(self.store, customer.id, str(partner), case_id)
        if other is None:
            return False
        later = run_date + dt.timedelta(days=open_cases.WAIT_DAYS)
        for record, _ in claimed:
            self.store.release_claim(record.invoice_id, step_id)
            with contextlib.suppress(ConflictError):
                self.store.update_invoice_state(record, changes={}, next_action=later, events=[
                    (run_date, "escalation_waiting", {"case_id": other, "partner": str(partner),
                                                      "until": later.isoformat()})])
        return True

    def _notify_team(self, customer: Customer, template: str, records: Sequence[InvoiceRecord],
                     run_date: dt.date, extra: Mapping[str, Any]) -> None:
        ctx = self.context(customer, template, records, run_date, extra)
        rendered = self.renderer(template, ("task",), ctx)
        self.channels["task"].send(OutgoingMessage(
            step=template, customer_id=customer.id, customer_name=customer.name,
            invoice_ids=tuple(r.invoice_id for r in records), run_date=run_date,
            subject=rendered.subject, task=rendered.task))


_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "AuthorizationError",
                           "AuthorizationErrorException", "UnauthorizedOperation"})


def _permission_denied(exc: BaseException) -> str | None:
    """``"AccessDenied (s3:PutObject)"`` when AWS refused the call for want of a permission, else ``None``.

    Read from the error's ``response`` (the shape every AWS SDK error carries), so the core needs no botocore.
    """
    response = getattr(exc, "response", None)
    error = (response.get("Error") or {}) if isinstance(response, dict) else {}
    code = str(error.get("Code", ""))
    if code not in _DENIED_CODES:
        return None
    action = re.search(r"perform:? `?([\w-]+:\w+)", str(error.get("Message", "")))
    return f"refused by AWS, {code}" + (f" ({action.group(1)})" if action else "")


def case_id_for(customer_id: str, step_id: str, invoice_ids: Sequence[str]) -> str:
    """A case is one customer's invoices handed off together; its id is stable, so a restart is a no-op."""
    digest = hashlib.sha256(json.dumps([customer_id, step_id, sorted(invoice_ids)]).encode()).hexdigest()
    # [A-Za-z0-9_-] only: a valid Step Functions execution name, S3 key segment and SES tag; the readable
    # prefix is lossy (``C/1`` and ``C_1`` both give ``C_1``), the digest of the exact ids keeps cases apart.
    return f"{safe_name(customer_id, 40)}-{digest[:16]}"


def invoice_line(customer: Customer, record: InvoiceRecord, on: dt.date, step_id: str,
                 notice_on: dt.date | None = None) -> tuple[InvoiceLine, RateMissingError | None]:
    """One invoice as a letter shows it, with penalties computed by the law core on ``on``.

    After partial payments the line follows the imputation of C. civ. 1343-1 (interest, then the 40 €,
    then the principal): ``balance`` is the principal still due, ``penalties`` and ``indemnity`` what is
    still due of each. A semester missing from the rate table leaves the interest unstated (the letter says
    in words how it accrues) but keeps every figure that needs no rate: principal and the 40 € indemnity.
    """
    from relance.law.penalties import INDEMNITY, compute
    from relance.law.table import penalty_table

    due = invoice_due(record)
    amount = invoice_amount(record)
    paid = amount - record.balance
    days_late = max((on - due).days, 0)
    # the formal notice takes effect on receipt (relance.escalation.letters.notice_date), when known
    notice = notice_on or record.notice_effective or next(
        (s.date for s in record.sent if not s.flagged and "letter" in s.channels), None)
    if notice is None and step_id == "formal_notice":
        notice = on
    # A contractual rate only exists between professionals (L441-10); consumers and public buyers have theirs.
    contract_rate = record.raw.get("contract_rate") if customer.kind == "b2b" else None
    basis = {"b2c": "legal", "public": "ecb+8"}.get(customer.kind) or (
        str(contract_rate) if contract_rate is not None else "ecb+10")
    issued = dt.date.fromisoformat(str(record.raw["issued"]))
    payments = tuple(record.payments)
    if step_id == "penalty_statement" and payments:
        return _statement_line(customer, record, basis, issued, due, amount, paid, days_late)
    try:
        statement = compute(amount, due, on, customer.kind,
                            rate=("legal-x3" if contract_rate == "legal-x3" else
                                  Decimal(str(contract_rate)) if contract_rate is not None else None),
                            notice=notice, payments=payments)
    except RateMissingError as exc:
        indemnity = INDEMNITY if customer.kind != "b2c" and days_late > 0 and record.balance > 0 else ZERO
        return InvoiceLine(number=record.invoice_id, issued=issued, due=due, amount=amount, paid=paid,
                           balance=record.balance, days_late=days_late, indemnity=indemnity,
                           rate_basis=basis, rates_missing=str(exc)), exc
    rate = statement.periods[-1].annual_rate if statement.periods else None
    if sum((a for _, a in payments), ZERO) != paid:
        # Payments not itemised (an imported balance): no imputation can be shown; keep the old split.
        indemnity = statement.indemnity if days_late > 0 else ZERO
        penalties = max(statement.total - record.balance - indemnity, ZERO)
        return InvoiceLine(number=record.invoice_id, issued=issued, due=due, amount=amount, paid=paid,
                           balance=record.balance, days_late=days_late, penalties=penalties,
                           indemnity=indemnity, rate=rate, rate_basis=basis), None
    return InvoiceLine(number=record.invoice_id, issued=issued, due=due, amount=amount, paid=paid,
                       balance=statement.remaining_principal, days_late=days_late,
                       penalties=statement.interest_unpaid, indemnity=statement.indemnity_unpaid, rate=rate,
                       table=penalty_table(record.invoice_id, statement), rate_basis=basis), None


def _statement_line(customer: Customer, record: InvoiceRecord, basis: str, issued: dt.date, due: dt.date,
                    amount: Decimal, paid: Decimal, days_late: int) -> tuple[InvoiceLine, RateMissingError | None]:
    """The « décompte des pénalités »: what remains once the payments covered the principal, stopped on the
    day of the last payment (law.penalties.accessories_after_principal)."""
    from relance.law.penalties import accessories_after_principal
    from relance.law.table import penalty_table

    notice = next((s.date for s in record.sent if not s.flagged and "letter" in s.channels), None)
    left = accessories_after_principal(amount, due, customer.kind, tuple(record.payments),
                                       record.raw.get("contract_rate"), notice)
    if left.statement is None:
        missing = RateMissingError(left.missing or "a rate is missing")
        return InvoiceLine(number=record.invoice_id, issued=issued, due=due, amount=amount, paid=paid,
                           balance=ZERO, days_late=days_late, indemnity=left.indemnity, rate_basis=basis,
                           rates_missing=left.missing), missing
    st = left.statement
    return InvoiceLine(number=record.invoice_id, issued=issued, due=due, amount=amount, paid=paid,
                       balance=left.principal, days_late=days_late, penalties=left.interest or ZERO,
                       indemnity=left.indemnity, rate=st.periods[-1].annual_rate if st.periods else None,
                       table=penalty_table(record.invoice_id, st), rate_basis=basis), None


def _stale(claim: Claim, run_date: dt.date) -> bool:
    """A claim is abandoned when it comes from an earlier run, or has outlived the lease today."""
    claimed_on = claim.run_date
    if claimed_on and dt.date.fromisoformat(str(claimed_on)) < run_date:
        return True
    return time.time() - int(claim.claimed_at) > CLAIM_LEASE_SECONDS


def _resumed_after_pause(record: InvoiceRecord, run_date: dt.date) -> list[Event]:
    """A ``resumed`` event on the first send after a promise or a « déjà payé » pause ran out unpaid.

    Those pauses end by themselves on their date (no one resumes them): the history says when the ladder
    took up again, once, in the same write as the send.
    """
    until = record.promise_until
    if until is None or until >= run_date or any(s.date > until for s in record.sent):
        return []
    return [(run_date, "resumed", {"reason": f"pause until {until.isoformat()} ended with no payment"})]


def _with(record: InvoiceRecord, **changes: Any) -> InvoiceRecord:
    from dataclasses import replace

    return replace(record, **changes)


def _flat(record: Mapping[str, Any] | None) -> dict[str, str]:
    if not record:
        return {}
    data = record.get("data", record)
    return {k: str(v)[:500] for k, v in (data.items() if isinstance(data, Mapping) else [])}


def _fields(item: InvoiceRecord | BadRecord | None) -> Mapping[str, Any] | None:
    if item is None:
        return None
    return item.fields if isinstance(item, BadRecord) else item.raw

