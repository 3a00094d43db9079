"""``relance preview [--date D]``: what the next run will send, per customer, step and channel.

It reads what the daily run reads (the due index up to the date, each due customer's open invoices) and
asks the same code the dispatcher asks: the policy engine, the day's grouping
(:func:`relance.policy.grouping.group_due`), the route of a case and the dispatcher's choice of channels.
It renders nothing, claims nothing and sends nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from relance.channels.base import OutgoingMessage


@dataclass(frozen=True)
class Planned:
    """One message (or one hand-off) the run will make."""

    customer: str
    name: str
    step: str
    channels: tuple[str, ...]               # email, sms, letter, task; ("escalate",) for a hand-off
    invoices: tuple[str, ...]
    stages: dict[str, str] = field(default_factory=dict)   # invoice -> its own step, when grouped
    partner: str | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"customer": self.customer, "name": self.name, "step": self.step,
                                "channels": list(self.channels), "invoices": list(self.invoices)}
        if self.stages:
            data["stages"] = self.stages
        if self.partner:
            data["partner"] = self.partner
        return data


class _Reach:
    """A channel as the dispatcher's choice sees it: a name and whether it reaches the customer."""

    def __init__(self, name: str) -> None:
        self.name = name

    def available(self, message: OutgoingMessage) -> bool:
        from relance.channels.sms import SnsSmsChannel

        if self.name == "email":
            return bool(message.email)
        if self.name == "sms":
            return SnsSmsChannel.available(self, message)  # type: ignore[arg-type]  # the same rule
        if self.name == "letter":
            return bool(message.address)
        return True


def preview(ledger: Any, run_date: dt.date) -> list[Planned]:
    """What the run of ``run_date`` would do, customer by customer (unusable records are left out: the run
    quarantines them)."""
    from relance.dispatch import Dispatcher
    from relance.errors import RelanceError
    from relance.ledger import customer_context, engine_state, invoice_due
    from relance.models import Customer, parse_record
    from relance.policy import evaluate
    from relance.policy.grouping import group_due, route_case
    from relance.store import invoice_from_item

    store = ledger.store
    reach: dict[str, Any] = {n: _Reach(n) for n in ("email", "sms", "letter", "task")}
    chooser = Dispatcher(store, ledger, reach,
                         None)  # type: ignore[arg-type]
    customers = sorted({customer for customer, _ in store.due_entries(run_date)})
    planned: list[Planned] = []
    for customer_id in customers:
        profile, open_ids = store.customer_collection(customer_id)
        if profile is None:
            continue
        try:
            customer = parse_record(Customer, dict(profile), f"customer {customer_id}")
            policy = ledger.policy_for(customer)
        except RelanceError:
            continue
        if not customer.reachable:
            continue
        records = []
        for item in store.get_invoice_items(open_ids).values():
            try:
                records.append(invoice_from_item(item))
            except (KeyError, ValueError, TypeError, ArithmeticError):
                continue
        records.sort(key=lambda r: r.invoice_id)
        ctx = customer_context(customer, records, run_date)
        due = []
        for record in records:
            if record.next_action is None or record.next_action > run_date:
                continue
            decision = evaluate(policy, engine_state(record, run_date), ctx, run_date)
            if decision.due:
                due.append((record, decision.due[0]))
        for group in group_due(policy, due):
            invoices = tuple(sorted(r.invoice_id for r, _ in group.members))
            stages = {r.invoice_id: d.step.id for r, d in group.members} if group.mixed else {}
            if group.step.action == "escalate":
                overdue = max((run_date - invoice_due(r)).days for r, _ in group.members)
                partner = route_case(group.step, ctx, [r.balance for r, _ in group.members], overdue)
                planned.append(Planned(customer.id, customer.name, group.step.id, ("escalate",), invoices,
                                       stages, partner or group.members[0][1].partner))
                continue
            message = OutgoingMessage(step=group.step.id, customer_id=customer.id, customer_name=customer.name,
                                      invoice_ids=invoices, run_date=run_date,
                                      email=None if customer.email_bounced else customer.email,
                                      phone=customer.phone, address=customer.address)
            channels = tuple(c.name for c in chooser._channels_for(group.step.channels, message))
            planned.append(Planned(customer.id, customer.name, group.step.id, channels, invoices, stages))
    return planned


def render(planned: list[Planned], run_date: dt.date, lang: str) -> str:
    """A plain listing, one line per message and channel."""
    fr = lang == "fr"
    if not planned:
        return (f"Rien à envoyer le {run_date.isoformat()}." if fr else f"Nothing to send on {run_date.isoformat()}.")
    lines = [f"Prochain envoi, {run_date.isoformat()} :" if fr else f"Next run, {run_date.isoformat()}:"]
    for p in planned:
        what = (f"transmission à {p.partner}" if fr else f"hand-off to {p.partner}") if p.partner else \
            ", ".join(p.channels)
        stages = ""
        if p.stages:
            stages = " (" + ", ".join(f"{i}: {s}" for i, s in sorted(p.stages.items())) + ")"
        lines.append(f"  {p.customer}  {p.name}  {p.step}  {what}  {', '.join(p.invoices)}{stages}")
    return "\n".join(lines)
