"""SES bounces and complaints: a permanent bounce or a complaint marks the customer's email as unusable."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from relance.keys import from_tag_value
from relance.ports import Store


def handle_ses_notification(store: Store, notification: dict[str, Any]) -> int:
    """Mark the customer behind a bounced/complained message. Returns how many customers were marked.

    The customer is found from the SES tag ``customer`` that every relance email carries (base64url of
    the id, see relance.keys: ``C/1`` and ``C_1`` stay apart); a value that is not one is ignored rather
    than guessed. Transient bounces (mailbox full) are ignored, the next step will simply try again.
    """
    kind = notification.get("eventType") or notification.get("notificationType")
    if kind == "Bounce":
        if notification.get("bounce", {}).get("bounceType") != "Permanent":
            return 0
    elif kind != "Complaint":
        return 0
    tags = notification.get("mail", {}).get("tags", {})
    customers = tags.get("customer") or []
    marked = 0
    when = _event_date(notification)
    for tag in customers:
        customer_id = from_tag_value(str(tag))
        if customer_id is None or store.get_customer_raw(customer_id) is None:
            continue
        store.set_customer_fields(customer_id, email_bounced=True)
        for invoice_id in store.customer_collection(customer_id)[1]:
            store.add_event(invoice_id, when, "email_bounced", {"type": kind})
        marked += 1
    return marked


def _event_date(notification: dict[str, Any]) -> dt.date:
    stamp = notification.get("mail", {}).get("timestamp")
    try:
        return dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).date()
    except ValueError:
        return dt.datetime.now(ZoneInfo("Europe/Paris")).date()
