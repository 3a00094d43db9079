"""Tasks for the team (phone calls, checks) as messages on the team's SNS topic."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from relance.channels.base import OutgoingMessage, Receipt
from relance.channels.email import one_line


@dataclass
class SnsTaskChannel:
    sns: Any
    topic_arn: str
    name: str = "task"

    def available(self, message: OutgoingMessage) -> bool:
        return True

    def send(self, message: OutgoingMessage) -> Receipt:
        resp = self.sns.publish(
            TopicArn=self.topic_arn,
            Subject=one_line(message.subject or f"relance: {message.step}", 100),
            Message=message.task or message.text or "",
            MessageAttributes={
                "step": {"DataType": "String", "StringValue": message.step},
                "customer": {"DataType": "String", "StringValue": message.customer_id},
                "invoices": {"DataType": "String", "StringValue": json.dumps(list(message.invoice_ids))},
            })
        return Receipt("task", self.topic_arn, resp["MessageId"])
