"""Tasks for the team (phone calls, checks) as messages on the team's topic (SNS)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from relance.channels.base import OutgoingMessage, Receipt
from relance.channels.email import one_line
from relance.ports import Topic


@dataclass
class SnsTaskChannel:
    topic: Topic
    address: str = "team"
    name: str = "task"

    def available(self, message: OutgoingMessage) -> bool:
        return True

    def send(self, message: OutgoingMessage) -> Receipt:
        message_id = self.topic.publish(
            one_line(message.subject or f"relance: {message.step}", 100), message.task or message.text or "",
            {"step": message.step, "customer": message.customer_id, "invoices": json.dumps(list(message.invoice_ids))})
        return Receipt("task", self.address, message_id)
