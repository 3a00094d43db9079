"""Email as raw MIME: text and HTML, the letter as PDF, tracking headers and tags, sent through the
mailer port (SES v2 in :mod:`relance.adapters.aws.services`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from relance.channels.base import ChannelRefused, OutgoingMessage, Receipt
from relance.keys import key_part, tag_value
from relance.ports import Mailer, Refused


def one_line(value: str, limit: int = 250) -> str:
    """Header-safe text: CR, LF, other control characters and Unicode line breaks (NEL, U+2028, U+2029,
    which the email library refuses in a header) become spaces."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", " ", value).strip()[:limit]


@dataclass
class SesEmailChannel:
    mailer: Mailer
    sender: str
    sender_name: str
    reply_to: str
    configuration_set: str | None = None
    name: str = "email"

    def available(self, message: OutgoingMessage) -> bool:
        return bool(message.email)

    def build(self, message: OutgoingMessage) -> EmailMessage:
        mime = EmailMessage()
        mime["From"] = Address(display_name=one_line(self.sender_name, 100), addr_spec=self.sender)
        mime["To"] = Address(display_name=one_line(message.customer_name, 100), addr_spec=message.email or "")
        mime["Reply-To"] = self.reply_to
        mime["Subject"] = one_line(message.subject)
        mime["Date"] = format_datetime(_noon(message))
        mime["Message-ID"] = make_msgid(domain=self.sender.rsplit("@", 1)[-1])
        mime["X-Relance-Step"] = one_line(message.step, 64)
        # Ids percent-encoded (``key_part``): lossless, ASCII, no comma or CR/LF inside one id.
        mime["X-Relance-Invoices"] = ",".join(key_part(i) for i in message.invoice_ids)
        mime["X-Relance-Customer"] = key_part(message.customer_id)
        mime.set_content(message.text or "", charset="utf-8")
        if message.html:
            mime.add_alternative(message.html, subtype="html", charset="utf-8")
        if message.pdf:
            mime.add_attachment(message.pdf, maintype="application", subtype="pdf",
                                filename=f"{message.step}-{'-'.join(message.invoice_ids)[:80]}.pdf")
        for filename, content in message.attachments:
            mime.add_attachment(content, maintype="application", subtype="pdf", filename=filename)
        return mime

    def send(self, message: OutgoingMessage) -> Receipt:
        mime = self.build(message)
        try:
            message_id = self.mailer.send_raw(
                sender=self.sender, to=message.email or "", reply_to=self.reply_to, mime=mime.as_bytes(),
                # Tag values allow [A-Za-z0-9_-] only: base64url keeps ``C/1`` and ``C_1`` apart (bounces.py decodes).
                tags={"step": key_part(message.step)[:256], "customer": tag_value(message.customer_id)},
                configuration_set=self.configuration_set)
        except Refused as exc:
            raise ChannelRefused(str(exc)) from exc
        return Receipt("email", message.email or "", message_id)


def _noon(message: OutgoingMessage) -> Any:
    import datetime as dt
    from zoneinfo import ZoneInfo

    return dt.datetime.combine(message.run_date, dt.time(8, 0), tzinfo=ZoneInfo("Europe/Paris"))
