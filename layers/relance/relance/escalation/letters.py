"""Registered letters that really go: the day's batch for the team, then posting and receipt recorded.

The letter channel stores each letter's PDF under ``letters/<date>/`` and hands it to a
:class:`relance.channels.letter.LetterProvider`. The default provider, ``PrintQueueProvider``, queues it
for the team (``print-queue/<date>/...json``: recipient, address, step, invoices). Every morning the daily
run gathers the previous days' queue into one batch per day (:func:`post_batches`):

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

import csv
import datetime as dt
import io
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from relance.errors import RelanceError, ValidationError

BATCH_DAYS = 7        # the daily run gathers the queues of the last 7 days not batched yet (weekends, outages)


def _queue(s3: Any, bucket: str, day: dt.date) -> tuple[list[dict[str, Any]], bool]:
    """The day's print-queue entries, and whether the day is batched already."""
    entries, batched = [], False
    prefix = f"print-queue/{day.isoformat()}/"
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            if key.endswith("/batch.pdf"):
                batched = True
            elif key.endswith(".json"):
                entry = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
                entries.append(entry)
    return sorted(entries, key=lambda e: (str(e.get("recipient", "")), str(e.get("pdf", "")))), batched


def batch_day(s3: Any, sns: Any, bucket: str, topic_arn: str, day: dt.date) -> dict[str, Any] | None:
    """Make the batch of ``day`` and tell the team; None when the day had no letter or was done already."""
    from pypdf import PdfReader, PdfWriter

    entries, batched = _queue(s3, bucket, day)
    if not entries or batched:
        return None
    writer = PdfWriter()
    pages = 0
    for entry in entries:
        reader = PdfReader(io.BytesIO(s3.get_object(Bucket=bucket, Key=str(entry["pdf"]))["Body"].read()))
        for page in reader.pages:
            writer.add_page(page)
            pages += 1
    pdf = io.BytesIO()
    writer.write(pdf)
    listing = io.StringIO()
    table = csv.writer(listing, delimiter=";")
    table.writerow(["destinataire", "adresse", "client", "étape", "factures", "pdf"])
    for entry in entries:
        table.writerow([entry.get("recipient", ""), entry.get("address", ""), entry.get("customer", ""),
                        entry.get("step", ""), " ".join(entry.get("invoices", [])), entry.get("pdf", "")])
    prefix = f"print-queue/{day.isoformat()}/"
    s3.put_object(Bucket=bucket, Key=prefix + "batch.csv", Body=listing.getvalue().encode("utf-8-sig"),
                  ContentType="text/csv; charset=utf-8", ServerSideEncryption="AES256")
    # batch.pdf last: its presence marks the day done (a retried run re-makes an unfinished batch)
    s3.put_object(Bucket=bucket, Key=prefix + "batch.pdf", Body=pdf.getvalue(), ContentType="application/pdf",
                  ServerSideEncryption="AES256")
    lines = [f"{len(entries)} lettre(s) recommandée(s) avec accusé de réception à poster, générées le "
             f"{day.strftime('%d/%m/%Y')} ({pages} pages).", "",
             f"À imprimer en une fois : s3://{bucket}/{prefix}batch.pdf",
             f"Liste avec les adresses : s3://{bucket}/{prefix}batch.csv", ""]
    for entry in entries:
        lines.append(f"- {entry.get('recipient', '')}, {entry.get('address', '')} : {entry.get('step', '')}, "
                     f"facture(s) {', '.join(entry.get('invoices', []))}")
    lines += ["", "Une fois postées, enregistrez chaque lettre (le délai de la mise en demeure court de sa "
                  "réception) :",
              "  relance letter posted FACTURE --step ETAPE --tracking NUMERO --date AAAA-MM-JJ",
              "À réception de l'avis de réception :",
              "  relance letter received FACTURE --step ETAPE --date AAAA-MM-JJ"]
    invoices = sorted({i for e in entries for i in e.get("invoices", [])})
    sns.publish(TopicArn=topic_arn, Subject=f"Lettres recommandées à poster – {day.strftime('%d/%m/%Y')} – "
                                            f"{len(entries)} lettre(s)"[:100],
                Message="\n".join(lines),
                MessageAttributes={"step": {"DataType": "String", "StringValue": "letters_to_post"},
                                   "customer": {"DataType": "String", "StringValue": "team"},
                                   "invoices": {"DataType": "String", "StringValue": json.dumps(invoices)}})
    return {"date": day.isoformat(), "letters": len(entries), "pages": pages, "pdf": prefix + "batch.pdf"}


def post_batches(s3: Any, sns: Any, bucket: str, topic_arn: str, run_date: dt.date) -> list[dict[str, Any]]:
    """The batches of the days before ``run_date`` not made yet (safe to run twice)."""
    done = []
    for back in range(BATCH_DAYS, 0, -1):
        made = batch_day(s3, sns, bucket, topic_arn, run_date - dt.timedelta(days=back))
        if made:
            done.append(made)
    return done


# ---- posting and receipt ---------------------------------------------------------------------------
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
    for invoice_id, _ in invoices:
        ledger.note(invoice_id, day, kind, details)
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
