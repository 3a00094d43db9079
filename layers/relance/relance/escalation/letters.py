"""Registered letters that really go: the day's batch for the team, then posting and receipt recorded.

The letter channel stores each letter's PDF under ``letters/<date>/`` and hands it to a
:class:`relance.channels.letter.LetterProvider`. The default provider, ``PrintQueueProvider``, queues it
for the team (``print-queue/<date>/...json``: recipient, address, step, invoices). Every morning the daily
run gathers the previous days' queue into one batch per day
(:func:`relance.adapters.aws.letter_batch.post_batches`, the daily run's own code: it reads and writes the
bucket and needs pypdf, a dependency of that function only):

* ``print-queue/<date>/batch.pdf``: every letter of the day, one after the other, to print at once;
* ``print-queue/<date>/batch.csv``: the list with the addresses (for the registered-mail forms);
* one task to the team naming both, and the command that records each posting.

The team then records what the law counts from (history events on every invoice of the letter):
``relance letter posted INVOICE|CUSTOMER --step STEP --tracking N [--date D]`` (``letter_posted``) and
``relance letter received ... --date D`` (``letter_received``, the avis de réception).
:func:`notice_date` gives the date a formal notice takes effect: its receipt, else its posting plus
``LETTER_DELIVERY_DAYS`` (default 2), else the day it was generated.

An electronic registered-letter service (LRE, eIDAS / CPCE L100) plugs in as another ``LetterProvider``:
``submit(bucket, key, message)`` reads the stored PDF, sends it through the provider's API and returns the
provider's reference; the provider's proofs of posting and receipt are then recorded with the same
``letter_posted`` / ``letter_received`` events (e.g. from its webhook or a daily poll), so deadlines run
the same way. Such a provider never goes through the print queue, so no batch is made for its letters.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from typing import Any

from relance.errors import RelanceError, ValidationError


def record(ledger: Any, target: str, step: str, kind: str, day: dt.date, *, tracking: str = "") -> list[str]:
    """Record ``letter_posted`` or ``letter_received`` on the invoices of the letter of ``step``.

    ``target`` is an invoice id, or a customer id (every open invoice of that customer sent a letter at
    that step). Returns the invoices recorded; RelanceError when no letter of that step was sent.
    """
    if kind not in ("letter_posted", "letter_received"):
        raise ValueError(kind)
    invoices = _letter_invoices(ledger, target, step)
    if not invoices:
        raise RelanceError(f"no letter was sent at step {step!r} for {target}", "INVOICE|CUSTOMER")
    for _, sent_on in invoices:
        if day < sent_on:
            raise ValidationError(f"{day} is before the letter was generated ({sent_on})", "--date")
    details: dict[str, str] = {"step": step}
    if tracking:
        details["tracking"] = tracking[:60]
    # the date the notice takes effect, kept on the invoice so the dispatcher needs no history read: the
    # receipt, else the posting plus the delivery days (a later receipt replaces it)
    effective = day if kind == "letter_received" else day + dt.timedelta(days=delivery_days())

    def mutate(record: Any) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
        keep = kind == "letter_posted" and record.notice_effective is not None
        return ({} if keep else {"notice_effective": effective}), [(kind, dict(details))]

    for invoice_id, _ in invoices:
        ledger._change(invoice_id, day, mutate)
    return [i for i, _ in invoices]


def _letter_invoices(ledger: Any, target: str, step: str) -> list[tuple[str, dt.date]]:
    from relance.errors import NotFoundError

    try:
        records = [ledger.invoice(target)]
    except NotFoundError:
        _, open_ids = ledger.store.customer_collection(target)
        records = [ledger.invoice(i) for i in open_ids]
    found = []
    for record in records:
        sent = next((s for s in record.sent if s.step == step and "letter" in s.channels), None)
        if sent is not None:
            found.append((record.invoice_id, sent.date))
    return found


def delivery_days() -> int:
    """Days from posting to presumed receipt when no avis de réception is recorded (LETTER_DELIVERY_DAYS)."""
    text = os.environ.get("LETTER_DELIVERY_DAYS", "2").strip()
    return int(text) if text.isdigit() else 2


def notice_date(history: Sequence[Mapping[str, Any]], step: str, generated: dt.date) -> dt.date:
    """When the letter of ``step`` took effect: its receipt, else posting + delivery days, else generation."""
    received = [str(e["date"]) for e in history if e.get("kind") == "letter_received"
                and (e.get("details") or {}).get("step") == step]
    if received:
        return dt.date.fromisoformat(min(received)[:10])
    posted = [str(e["date"]) for e in history if e.get("kind") == "letter_posted"
              and (e.get("details") or {}).get("step") == step]
    if posted:
        return dt.date.fromisoformat(min(posted)[:10]) + dt.timedelta(days=delivery_days())
    return generated
