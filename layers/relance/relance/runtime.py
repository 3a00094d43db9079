"""Wiring: builds the store, ledger, channels and dispatcher from the function's settings.

Handlers call these factories at invocation time; boto3 clients are cached per (service, endpoint) in the
process, as a warm Lambda would keep them.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from relance.ledger import Ledger
from relance.paths import policies_dir
from relance.policy import load_policies
from relance.policy.model import Policy
from relance.settings import Settings
from relance.store import Store

if TYPE_CHECKING:   # the dispatcher pulls in rendering: only the functions that send pay for its import
    from relance.channels import Channel
    from relance.dispatch import Dispatcher
    from relance.rendering.context import CompanyInfo

# Development hook: a function the dispatcher is passed through once built (the simulator's fault
# injection wraps its store and channels). Production never sets it.
_dispatcher_hook: Callable[[Dispatcher], Dispatcher] | None = None

# Standard retry mode with more attempts: throttling (SES rate, DynamoDB bursts) backs off and retries.
_BOTO_CONFIG = Config(retries={"max_attempts": 8, "mode": "adaptive"})


def client(service: str) -> Any:
    return _client(service, os.environ.get("AWS_ENDPOINT_URL", ""), os.environ.get("AWS_DEFAULT_REGION", ""))


@functools.lru_cache(maxsize=64)
def _client(service: str, endpoint: str, region: str) -> Any:
    return boto3.client(service, region_name=region or None, endpoint_url=endpoint or None, config=_BOTO_CONFIG)


def reset_clients() -> None:
    """Forget cached clients (a new embedded AWS was started in this process)."""
    _client.cache_clear()
    _rate_store_cached.cache_clear()


@functools.lru_cache(maxsize=8)
def _policies(directory: str) -> dict[str, Policy]:
    return load_policies(Path(directory))


def policies() -> dict[str, Policy]:
    return _policies(str(policies_dir()))


def store(settings: Settings) -> Store:
    return Store(client("dynamodb"), settings.table_name, settings.due_shards)


def ledger(settings: Settings) -> Ledger:
    return Ledger(store(settings), policies(), settings.default_policy)


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


def set_dispatcher_hook(hook: Callable[[Dispatcher], Dispatcher] | None) -> None:
    """Pass every dispatcher built from now on through ``hook`` (None: no hook)."""
    global _dispatcher_hook
    _dispatcher_hook = hook


def dispatcher(settings: Settings) -> Dispatcher:
    from relance.channels import LetterChannel, PrintQueueProvider, SesEmailChannel, SnsSmsChannel, SnsTaskChannel
    from relance.dispatch import Dispatcher

    s3 = client("s3")
    sns = client("sns")
    channels: dict[str, Channel] = {
        "email": SesEmailChannel(client("sesv2"), settings.sender_email, settings.company_name,
                                 settings.reply_to_email, settings.ses_configuration_set or None),
        "sms": SnsSmsChannel(sns, settings.sms_sender_id),
        "task": SnsTaskChannel(sns, settings.need("task_topic_arn")),
        "letter": LetterChannel(s3, settings.need("letters_bucket"), PrintQueueProvider(s3)),
    }

    def start_escalation(case: dict[str, Any]) -> str:
        sfn = client("stepfunctions")
        machine = settings.need("state_machine_arn")
        name = case["case_id"][:80]
        try:
            resp = sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps(case))
            return str(resp["executionArn"])
        except sfn.exceptions.ExecutionAlreadyExists:   # the same case was started before: a no-op
            return f"{machine.replace(':stateMachine:', ':execution:')}:{name}"

    def attachment(key: str) -> bytes | None:
        try:
            return bytes(s3.get_object(Bucket=settings.letters_bucket, Key=key)["Body"].read())
        except s3.exceptions.NoSuchKey:
            return None

    built = Dispatcher(store(settings), ledger(settings), channels, company(settings),
                       start_escalation=start_escalation if settings.state_machine_arn else None,
                       attachments=attachment, rates=_rate_store(settings.table_name),
                       debtor_link=debtor_links(settings))
    return _dispatcher_hook(built) if _dispatcher_hook is not None else built


@functools.lru_cache(maxsize=8)
def _rate_store_cached(table_name: str, endpoint: str) -> Any:
    from relance.adapters.aws.rates import DynamoRateStore

    return DynamoRateStore(client("dynamodb"), table_name)


def _rate_store(table_name: str) -> Any:
    """One rates adapter per table in a warm process (its load is cached a minute)."""
    return _rate_store_cached(table_name, os.environ.get("AWS_ENDPOINT_URL", ""))


def debtor_links(settings: Settings) -> Callable[[str, dt.date], str] | None:
    """The signer of the debtor's page links, when DEBTOR_PAGE_URL and the signing secret are set."""
    base, secret = os.environ.get("DEBTOR_PAGE_URL", "").strip(), os.environ.get("APPROVAL_SECRET_ARN", "").strip()
    if not base or not secret:
        return None
    from relance.adapters.aws.debtor_links import DynamoLinkStore
    from relance.debtor.links import make_link
    from relance.escalation.approvals import signing_key

    links = DynamoLinkStore(store(settings))

    def link(customer_id: str, day: dt.date) -> str:
        return make_link(signing_key(secret, client("secretsmanager")), base, customer_id, day, links)

    return link
