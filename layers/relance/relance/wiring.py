"""Wiring: the one place that builds the adapters behind the ports for a handler, from its settings.

Handlers (``functions/*/app.py``), the operators' CLI and the escalation call these factories at
invocation time; the boto3 clients underneath are cached per (service, endpoint) in the process, as a
warm Lambda keeps them (:mod:`relance.adapters.aws.clients`). Nothing else constructs an adapter.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relance.adapters.aws.clients import client, reset_clients
from relance.paths import policies_dir
from relance.settings import Settings

if TYPE_CHECKING:   # imported where used: a handler pays only for what it builds (cold start)
    from relance.bank.ports import BankStore, Notify
    from relance.channels import Channel
    from relance.dispatch import Dispatcher
    from relance.ledger import Ledger
    from relance.policy.model import Policy
    from relance.ports import EscalationStore, Files, Mailer, Queue, Secrets, Store, Topic, Workflow
    from relance.rendering.context import CompanyInfo

__all__ = [
    "bank_notify",
    "bank_store",
    "bucket",
    "client",
    "company",
    "debtor_links",
    "dispatcher",
    "escalation_store",
    "files",
    "forget_secrets",
    "is_throttling",
    "ledger",
    "mailer",
    "policies",
    "provider_failure",
    "queue",
    "reset_clients",
    "secrets",
    "set_dispatcher_hook",
    "store",
    "table",
    "topic",
    "workflow",
]


@functools.lru_cache(maxsize=8)
def _policies(directory: str) -> dict[str, Policy]:
    from relance.policy import load_policies

    return load_policies(Path(directory))


def policies() -> dict[str, Policy]:
    return _policies(str(policies_dir()))


def store(settings: Settings) -> Store:
    return escalation_store(settings)


def escalation_store(settings: Settings) -> EscalationStore:
    return table(settings.table_name, settings.due_shards)


def table(name: str, due_shards: int = 1) -> EscalationStore:
    """The store on the DynamoDB table ``name`` (the operators' CLI names it without full settings)."""
    from relance.adapters.aws.dynamodb import EscalationStore as DynamoEscalationStore

    return DynamoEscalationStore(client("dynamodb"), name, due_shards)


def ledger(settings: Settings, on: Store | None = None) -> Ledger:
    from relance.ledger import Ledger

    return Ledger(on or store(settings), policies(), settings.default_policy)


def bank_store(on: Store) -> BankStore:
    """Bank statements' entries and the open invoices to match, on the same table as ``on``."""
    from relance.adapters.aws.bank_store import DynamoBankStore

    return DynamoBankStore(on)


def bank_notify(topic_arn: str | None) -> Notify | None:
    """The team task for an entry not matched, on the team topic; None without a topic (only listed)."""
    from relance.bank.ports import team_tasks

    return team_tasks(topic(topic_arn)) if topic_arn else None


def files(settings: Settings) -> Files:
    return bucket(settings.need("letters_bucket"))


def bucket(name: str) -> Files:
    """The files port on the S3 bucket ``name``."""
    from relance.adapters.aws.services import S3Files

    return S3Files(client("s3"), name)


def queue(settings: Settings) -> Queue:
    from relance.adapters.aws.services import SqsQueue

    return SqsQueue(client("sqs"), settings.need("queue_url"))


def workflow(settings: Settings) -> Workflow:
    from relance.adapters.aws.services import StepFunctionsWorkflow

    return StepFunctionsWorkflow(client("stepfunctions"), settings.state_machine_arn or "")


def mailer() -> Mailer:
    from relance.adapters.aws.services import SesMailer

    return SesMailer(client("sesv2"))


def topic(arn: str) -> Topic:
    from relance.adapters.aws.services import SnsTopic

    return SnsTopic(client("sns"), arn)


def secrets() -> Secrets:
    from relance.adapters.aws.services import SecretsManagerSecrets

    return SecretsManagerSecrets(client("secretsmanager"))


def forget_secrets() -> None:
    """Drop cached secrets (a rotated secret, a new embedded AWS)."""
    from relance.adapters.aws.services import forget_secrets as forget

    forget()


def provider_failure(exc: BaseException) -> str | None:
    """One line saying why AWS failed a call (refused, unreachable), or None when ``exc`` is not AWS's."""
    from relance.adapters.aws.clients import provider_failure as aws_failure

    return aws_failure(exc)


def is_throttling(exc: BaseException) -> bool:
    """Whether a failure is the provider asking us to slow down."""
    from relance.adapters.aws.services import is_throttling as aws_throttling

    return aws_throttling(exc)


def company(settings: Settings) -> CompanyInfo:
    from relance.rendering.context import CompanyInfo

    return CompanyInfo(name=settings.company_name, siren=settings.company_siren,
                       address=settings.company_address, email=settings.sender_email,
                       reply_to=settings.reply_to_email, phone=None, iban=settings.company_iban,
                       bic=settings.company_bic, team_email=settings.team_email,
                       legal_form=settings.company_legal_form, share_capital=settings.company_share_capital,
                       rcs_city=settings.company_rcs_city, signatory=settings.company_signatory,
                       signatory_title=settings.company_signatory_title, mediator_name=settings.mediator_name,
                       mediator_address=settings.mediator_address, mediator_website=settings.mediator_website)


def channels(settings: Settings) -> dict[str, Channel]:
    from relance.adapters.aws.services import SnsSms
    from relance.channels import LetterChannel, PrintQueueProvider, SesEmailChannel, SnsSmsChannel, SnsTaskChannel

    task_topic = settings.need("task_topic_arn")
    letters = files(settings)
    return {
        "email": SesEmailChannel(mailer(), settings.sender_email, settings.company_name,
                                 settings.reply_to_email, settings.ses_configuration_set or None),
        "sms": SnsSmsChannel(SnsSms(client("sns")), settings.sms_sender_id),
        "task": SnsTaskChannel(topic(task_topic), task_topic),
        "letter": LetterChannel(letters, PrintQueueProvider(letters)),
    }


def dispatcher(settings: Settings) -> Dispatcher:
    from relance.dispatch import Dispatcher

    letters = files(settings) if settings.letters_bucket else None
    escalations = workflow(settings) if settings.state_machine_arn else None

    def start_escalation(case: dict[str, Any]) -> str:
        assert escalations is not None
        return escalations.start(case["case_id"][:80], case)

    the_store = store(settings)
    built = Dispatcher(the_store, ledger(settings, the_store), channels(settings), company(settings),
                       start_escalation=start_escalation if escalations else None,
                       attachments=letters.get if letters else None, rates=_rate_store(settings.table_name),
                       debtor_link=debtor_links(settings), debtor_link_id=debtor_link_ids())
    return _dispatcher_hook(built) if _dispatcher_hook is not None else built


def set_dispatcher_hook(hook: Callable[[Dispatcher], Dispatcher] | None) -> None:
    """Development hook: pass every dispatcher built from now on through ``hook`` (the simulator's fault
    injection wraps its store and channels); None removes it. Production never sets it."""
    global _dispatcher_hook
    _dispatcher_hook = hook


_dispatcher_hook: Callable[[Dispatcher], Dispatcher] | None = None


def rate_store(table_name: str) -> Any:
    """The stored rates on the table (RateStore and RateAlerts): for what writes them (RatesCheckFunction,
    ``relance rates``); the dispatcher reads through the cached one below."""
    from relance.adapters.aws.rates import DynamoRateStore

    return DynamoRateStore(client("dynamodb"), table_name)


@functools.lru_cache(maxsize=8)
def _rate_store_cached(table_name: str, endpoint: str) -> Any:
    return rate_store(table_name)


def _rate_store(table_name: str) -> Any:
    """One rates adapter per table in a warm process (its load is cached a minute)."""
    return _rate_store_cached(table_name, os.environ.get("AWS_ENDPOINT_URL", ""))


def debtor_links(settings: Settings) -> Callable[[str, dt.date], str] | None:
    """The signer of the debtor's page links, when DEBTOR_PAGE_URL and the signing secret are set. It writes
    nothing: the link's item is written with the message's claim (:func:`debtor_link_ids`)."""
    base, secret = os.environ.get("DEBTOR_PAGE_URL", "").strip(), os.environ.get("APPROVAL_SECRET_ARN", "").strip()
    if not base or not secret:
        return None
    from relance.debtor.links import signed_link
    from relance.escalation.approvals import signing_key

    def link(customer_id: str, day: dt.date) -> str:
        return signed_link(signing_key(secret, secrets()), base, customer_id, day)

    return link


def debtor_link_ids() -> Callable[[str], str] | None:
    """A customer's link id (the item dispatch writes in the claim's call), when links are signed."""
    base, secret = os.environ.get("DEBTOR_PAGE_URL", "").strip(), os.environ.get("APPROVAL_SECRET_ARN", "").strip()
    if not base or not secret:
        return None
    from relance.debtor.links import link_id
    from relance.escalation.approvals import signing_key

    def lid(customer_id: str) -> str:
        return link_id(signing_key(secret, secrets()), customer_id)

    return lid
