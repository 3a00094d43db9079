"""Letters: the PDF is kept in the letters bucket (the files port), then handed to a registered-letter provider."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

from relance.channels.base import ChannelRefused, OutgoingMessage, Receipt
from relance.keys import key_list, key_part
from relance.ports import Files


def safe_key_part(value: str) -> str:
    """An S3 key segment that cannot climb out of its prefix (no '/', no '..') and never collides."""
    return key_part(value)


class LetterProvider(Protocol):
    """Sends a stored PDF as a registered letter (postal LRAR or eIDAS electronic LRE)."""

    def submit(self, key: str, message: OutgoingMessage) -> str:
        """Hand the letter stored at ``key`` over; returns the provider's reference."""


@dataclass
class PrintQueueProvider:
    """Default provider: a print queue in the bucket (``print-queue/``) that the team posts by hand.

    An online registered-letter provider plugs in by implementing ``submit`` (see LetterProvider).
    """

    files: Files

    def submit(self, key: str, message: OutgoingMessage) -> str:
        entry_key = "print-queue/" + key.removeprefix("letters/").removesuffix(".pdf") + ".json"
        self.files.put(entry_key, content_type="application/json",
                       body=json.dumps({"pdf": key, "customer": message.customer_id,
                                        "recipient": message.customer_name, "address": message.address,
                                        "step": message.step, "invoices": list(message.invoice_ids),
                                        "registered": True}).encode())
        return entry_key


@dataclass
class LetterChannel:
    files: Files
    provider: LetterProvider
    name: str = "letter"

    def available(self, message: OutgoingMessage) -> bool:
        return bool(message.address)

    def key_for(self, message: OutgoingMessage) -> str:
        return (f"letters/{message.run_date.isoformat()}/{key_part(message.customer_id)}/"
                f"{key_part(message.step)}-{key_list(message.invoice_ids)}.pdf")   # step ids have no "-"

    def send(self, message: OutgoingMessage) -> Receipt:
        if not message.pdf:
            raise ChannelRefused(f"no PDF rendered for step {message.step}")
        if not message.address:
            raise ChannelRefused(f"no postal address for customer {message.customer_id}")
        key = self.key_for(message)
        self.files.put(key, message.pdf, "application/pdf",
                       {"customer": key_part(message.customer_id), "step": key_part(message.step),
                        "invoices": ",".join(key_part(i) for i in message.invoice_ids)})
        reference = self.provider.submit(key, message)
        return Receipt("letter", message.address, reference, {"key": key})
