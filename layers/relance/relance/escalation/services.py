"""What the escalation's steps use: its ports (store, ledger, files, workflow, mailer, secrets, team topic)
built by :mod:`relance.wiring`, and the few settings only the escalation reads.

Settings are read at call time (the embedded AWS sets the environment per invocation).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from relance import wiring
from relance.errors import RelanceError
from relance.keys import key_part, safe_name, tag_value
from relance.ports import EscalationStore, Files, Mailer, Secrets, Workflow
from relance.settings import Settings
from relance.store import InvoiceRecord

if TYPE_CHECKING:   # rendering and the dispatcher load only when a step sends (not in the daily sweep's import)
    from relance.ledger import Ledger
    from relance.models import Customer
    from relance.rendering import MessageContext

PARIS = ZoneInfo("Europe/Paris")
APPROVAL_BASE_URL = "APPROVAL_BASE_URL"
APPROVAL_SECRET_ARN = "APPROVAL_SECRET_ARN"


def env(name: str) -> str:
    """A required escalation variable, or a RelanceError naming it."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise RelanceError(f"environment variable {name} is not set", where="settings")
    return value


def today_in_paris() -> dt.date:
    return dt.datetime.now(PARIS).date()


@dataclass
class Services:
    """What the escalation's steps use; built once per invocation by :meth:`from_env`."""

    settings: Settings
    store: EscalationStore
    ledger: Ledger
    workflow: Workflow
    mailer: Mailer
    secrets: Secrets
    _files: Files | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls) -> Services:
        return cls.from_settings(Settings.from_env())

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        store = wiring.escalation_store(settings)
        return cls(settings, store, wiring.ledger(settings, store), wiring.workflow(settings), wiring.mailer(),
                   wiring.secrets(), wiring.files(settings) if settings.letters_bucket else None)

    @property
    def files(self) -> Files:
        """The letters bucket (case files); a RelanceError naming LETTERS_BUCKET when it is not set."""
        if self._files is None:
            self._files = wiring.files(self.settings)
        return self._files

    # ---- reading the case's records ---------------------------------------------------------------
    def customer(self, customer_id: str) -> Customer:
        return self.ledger.customer(customer_id)

    def records(self, invoice_ids: Sequence[str]) -> list[InvoiceRecord]:
        return [self.ledger.invoice(i) for i in invoice_ids]

    def context(self, customer: Customer, template: str, records: Sequence[InvoiceRecord], on: dt.date,
                extra: Mapping[str, Any], language: str | None = None) -> MessageContext:
        """The dispatcher's message context (amounts by the law core on ``on``), optionally re-languaged."""
        from relance.dispatch import Dispatcher

        helper = Dispatcher(self.store, self.ledger, {}, wiring.company(self.settings))
        ctx = helper.context(customer, template, records, on, extra)
        if language and language != ctx.language:
            from dataclasses import replace

            ctx = replace(ctx, language=language)  # type: ignore[arg-type]
        return ctx

    # ---- sending ----------------------------------------------------------------------------------
    def send_email(self, *, to: str, to_name: str, template: str, ctx: MessageContext, case_id: str,
                   invoice_ids: Sequence[str], on: dt.date,
                   attachments: Sequence[tuple[str, bytes]] = ()) -> str:
        """Render ``template`` and send it to a person of the company or a partner; returns the SES id.

        Not the customer's channel: no ``customer`` tag, so a bounce here never marks the debtor's address.
        """
        from relance.channels.base import OutgoingMessage
        from relance.channels.email import SesEmailChannel
        from relance.rendering import render

        rendered = render(template, ("email",), ctx)
        channel = SesEmailChannel(self.mailer, self.settings.sender_email, self.settings.company_name,
                                  self.settings.reply_to_email, self.settings.ses_configuration_set or None)
        message = OutgoingMessage(step=template, customer_id=case_id, customer_name=to_name,
                                  invoice_ids=tuple(invoice_ids), run_date=on, subject=rendered.subject,
                                  text=rendered.text, html=rendered.html, pdf=rendered.pdf, email=to,
                                  attachments=tuple(attachments))
        mime = channel.build(message)
        del mime["X-Relance-Customer"]
        mime["X-Relance-Case"] = key_part(case_id)
        return self.mailer.send_raw(sender=self.settings.sender_email, to=to,
                                    reply_to=self.settings.reply_to_email, mime=mime.as_bytes(),
                                    tags={"step": template, "case": _tag(case_id)},
                                    configuration_set=self.settings.ses_configuration_set or None)

    def team_task(self, customer: Customer, template: str, records: Sequence[InvoiceRecord], on: dt.date,
                  extra: Mapping[str, Any]) -> str:
        """A task for the team on the task topic (handoff, escalation_declined...)."""
        ctx = self.context(customer, template, records, on, extra)
        from relance.channels.base import OutgoingMessage
        from relance.channels.task import SnsTaskChannel
        from relance.rendering import render

        rendered = render(template, ("task",), ctx)
        task_topic = self.settings.need("task_topic_arn")
        channel = SnsTaskChannel(wiring.topic(task_topic), task_topic)
        receipt = channel.send(OutgoingMessage(
            step=template, customer_id=customer.id, customer_name=customer.name,
            invoice_ids=tuple(r.invoice_id for r in records), run_date=on,
            subject=rendered.task_subject or rendered.subject, task=rendered.task))
        return receipt.message_id

    def note(self, invoice_ids: Sequence[str], on: dt.date, kind: str, details: Mapping[str, Any]) -> None:
        """The same history event on every invoice of the case."""
        for invoice_id in invoice_ids:
            self.store.add_event(invoice_id, on, kind, {k: str(v) for k, v in details.items()})


def _tag(value: str) -> str:
    """Case ids are made of ``[A-Za-z0-9_-]`` (dispatch.case_id_for); base64url if one ever is not."""
    return value if value and safe_name(value, 256) == value else tag_value(value)
