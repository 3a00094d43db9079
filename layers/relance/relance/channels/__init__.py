"""Delivery channels. Each is a small class with ``send(message) -> Receipt`` over a port (mailer, SMS,
topic, files); tests, the local simulation and production use the same classes, only the adapters differ."""

from __future__ import annotations

from relance.channels.base import Channel, ChannelRefused, OutgoingMessage, Receipt
from relance.channels.email import SesEmailChannel
from relance.channels.letter import LetterChannel, LetterProvider, PrintQueueProvider
from relance.channels.sms import SnsSmsChannel, sms_segments
from relance.channels.task import SnsTaskChannel

__all__ = [
    "Channel", "ChannelRefused", "LetterChannel", "LetterProvider", "OutgoingMessage", "PrintQueueProvider",
    "Receipt", "SesEmailChannel", "SnsSmsChannel", "SnsTaskChannel", "sms_segments",
]
