"""What the bank import needs from storage: a small port, implemented for DynamoDB in
``relance.adapters.aws.bank_store`` and in memory by the tests."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from relance.ports import Topic

TASK_STEP = "bank_unmatched"
"""The step a team task about a bank entry carries (the dispatcher's tasks carry theirs)."""


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    """An invoice still owed, as the matcher sees it."""

    invoice_id: str
    customer_id: str
    balance: Decimal
    due: dt.date
    customer_name: str = ""


class BankStore(Protocol):
    def open_invoices(self) -> list[OpenInvoice]:
        """Every open invoice with a balance (and its customer's name)."""
        ...

    def customers_of_iban(self, iban: str) -> set[str]:
        """Customers a payment from this IBAN was booked to before."""
        ...

    def learn_iban(self, iban: str, customer_id: str, when: dt.date) -> None: ...

    def get_entry(self, key: str) -> dict[str, Any] | None:
        """The stored record of a statement entry already seen (``status`` booked or unmatched)."""
        ...

    def claim_entry(self, key: str, record: Mapping[str, Any]) -> bool:
        """Store the entry as booked unless it was booked before (conditional write): False if it was."""
        ...

    def put_unmatched(self, key: str, record: Mapping[str, Any]) -> bool:
        """Keep an entry put to the team (only if the entry is not known yet): False if it was."""
        ...

    def set_entry(self, key: str, fields: Mapping[str, Any]) -> None: ...


class Notify(Protocol):
    def __call__(self, subject: str, message: str, customer: str, invoices: Sequence[str]) -> None: ...


def team_tasks(topic: Topic) -> Notify:
    """The team task for an entry not matched: one message on the team topic, tagged like the dispatcher's
    tasks (step, customer when known, invoices)."""

    def notify(subject: str, message: str, customer: str, invoices: Sequence[str]) -> None:
        attributes = {"step": TASK_STEP, "invoices": json.dumps(list(invoices))}
        if customer:
            attributes["customer"] = customer
        topic.publish(subject, message, attributes)

    return notify
