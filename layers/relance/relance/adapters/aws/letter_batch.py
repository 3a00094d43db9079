"""The day's batch of registered letters to post (S3 print queue -> one PDF, one CSV, one team task).

Called by the daily run (``functions/daily_run``), whose own requirements bring pypdf: the shared layer does
not carry it. What the batch is for, and how posting and receipt are then recorded, is in
:mod:`relance.escalation.letters`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

from relance.adapters.aws.services import sns_subject

BATCH_DAYS = 7        # the daily run gathers the queues of the last 7 days not batched yet (weekends, outages)


def _queue(s3: Any, bucket: str, day: dt.date, keys: list[str] | None = None
           ) -> tuple[list[dict[str, Any]], bool]:
    """The day's print-queue entries, and whether the day is batched already (``keys``: the day's keys,
    listed by the caller; otherwise the day's folder is listed). A batched day's entries are not read."""
    prefix = f"print-queue/{day.isoformat()}/"
    if keys is None:
        keys = [obj["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
                for obj in page.get("Contents", [])]
    if any(key.endswith("/batch.pdf") for key in keys):
        return [], True
    entries = [json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
               for key in keys if key.endswith(".json")]
    return sorted(entries, key=lambda e: (str(e.get("recipient", "")), str(e.get("pdf", "")))), False


def _recent_keys(s3: Any, bucket: str, run_date: dt.date) -> dict[dt.date, list[str]]:
    """The print-queue keys of the :data:`BATCH_DAYS` days before ``run_date``, by day, in one listing (keys
    are listed in order: the listing starts at the first day and stops at ``run_date``)."""
    first = run_date - dt.timedelta(days=BATCH_DAYS)
    by_day: dict[dt.date, list[str]] = {}
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="print-queue/",
                                                         StartAfter=f"print-queue/{first.isoformat()}")
    for page in pages:
        for obj in page.get("Contents", []):
            key = obj["Key"]
            try:
                day = dt.date.fromisoformat(key.split("/")[1])
            except (IndexError, ValueError):
                continue
            if day >= run_date:
                return by_day
            by_day.setdefault(day, []).append(key)
    return by_day


def batch_day(s3: Any, sns: Any, bucket: str, topic_arn: str, day: dt.date,
              keys: list[str] | None = None) -> dict[str, Any] | None:
    """Make the batch of ``day`` and tell the team; None when the day had no letter or was done already."""
    from pypdf import PdfReader, PdfWriter

    entries, batched = _queue(s3, bucket, day, keys)
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
    sns.publish(TopicArn=topic_arn, Subject=sns_subject(f"Lettres recommandées à poster – "
                                                        f"{day.strftime('%d/%m/%Y')} – {len(entries)} lettre(s)"),
                Message="\n".join(lines),
                MessageAttributes={"step": {"DataType": "String", "StringValue": "letters_to_post"},
                                   "customer": {"DataType": "String", "StringValue": "team"},
                                   "invoices": {"DataType": "String", "StringValue": json.dumps(invoices)}})
    return {"date": day.isoformat(), "letters": len(entries), "pages": pages, "pdf": prefix + "batch.pdf"}


def post_batches(s3: Any, sns: Any, bucket: str, topic_arn: str, run_date: dt.date) -> list[dict[str, Any]]:
    """The batches of the days before ``run_date`` not made yet (safe to run twice).

    One listing finds the last days' queues; a day without letters costs nothing more, a batched day
    nothing more either (its entries are not read again).
    """
    done = []
    for day, keys in sorted(_recent_keys(s3, bucket, run_date).items()):
        made = batch_day(s3, sns, bucket, topic_arn, day, keys)
        if made:
            done.append(made)
    return done


# ---- posting and receipt ---------------------------------------------------------------------------
