"""SMS through the SMS port (SNS): E.164 numbers, transactional type, a sender ID, one GSM-7 segment where possible."""

from __future__ import annotations

import re
from dataclasses import dataclass

from relance.channels.base import ChannelRefused, OutgoingMessage, Receipt
from relance.ports import Refused, Sms

_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
# GSM 03.38 basic set (+ the extension table, which costs two septets).
_GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
            "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM7_EXT = set("^{}\\[~]|€")
_REPLACEMENTS = {"’": "'", "‘": "'", "«": '"', "»": '"', "“": '"', "”": '"', "–": "-", "—": "-",
                 "\u00a0": " ", "\u202f": " ", "ê": "e", "ë": "e", "â": "a", "î": "i", "ï": "i", "ô": "o",
                 "û": "u", "ç": "c", "œ": "oe", "Ê": "E", "È": "E", "À": "A", "Ô": "O", "…": "..."}


def gsm7(text: str) -> str:
    """Fold typographic characters to their GSM-7 look-alikes so that an SMS stays in the 160-char alphabet."""
    return "".join(_REPLACEMENTS.get(ch, ch) for ch in text)


def sms_segments(text: str) -> int:
    """How many SMS segments ``text`` costs (GSM-7: 160/153 septets, otherwise UCS-2: 70/67 chars)."""
    if all(ch in _GSM7 or ch in _GSM7_EXT for ch in text):
        septets = sum(2 if ch in _GSM7_EXT else 1 for ch in text)
        return 1 if septets <= 160 else -(-septets // 153)
    return 1 if len(text) <= 70 else -(-len(text) // 67)


@dataclass
class SnsSmsChannel:
    sms: Sms
    sender_id: str
    name: str = "sms"

    def available(self, message: OutgoingMessage) -> bool:
        return bool(message.phone and _E164.match(message.phone))

    def send(self, message: OutgoingMessage) -> Receipt:
        if not self.available(message):
            raise ChannelRefused(f"no valid E.164 phone number for customer {message.customer_id}")
        body = gsm7(message.sms or "").strip()
        try:
            message_id = self.sms.send_sms(message.phone or "", body, self.sender_id)
        except Refused as exc:
            raise ChannelRefused(str(exc)) from exc
        return Receipt("sms", message.phone or "", message_id, {"segments": sms_segments(body)})
