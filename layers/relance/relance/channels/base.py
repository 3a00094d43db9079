"""What every channel receives and returns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message for one customer and one step; it may cover several invoices."""

    step: str
    customer_id: str
    customer_name: str
    invoice_ids: tuple[str, ...]
    run_date: dt.date
    subject: str = ""
    text: str | None = None
    html: str | None = None
    sms: str | None = None
    task: str | None = None
    pdf: bytes | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    attachments: tuple[tuple[str, bytes], ...] = ()   # extra files (the original invoice PDF)


@dataclass(frozen=True, slots=True)
class Receipt:
    """Proof of hand-over to AWS: the channel, the address used and the provider's message id."""

    channel: str
    to: str
    message_id: str
    extra: dict[str, Any] = field(default_factory=dict)


class ChannelRefused(Exception):
    """The provider refused this message for good (bad address, rejected content): not sent, retry later."""


class Channel(Protocol):
    name: str

    def available(self, message: OutgoingMessage) -> bool:
        """Whether this channel can reach the customer (an address, a phone number...)."""

    def send(self, message: OutgoingMessage) -> Receipt: ...
