"""Logs, metrics and traces of the Lambda functions (Powertools), with personal data kept out of the logs.

Every handler starts with::

    from relance import observability
    logger, tracer, metrics = observability.powertools()

- **Logs**: Powertools JSON lines; a filter and the formatter redact email addresses, phone numbers
  (E.164 and French formats) and IBANs from the message, the ``extra`` fields, the appended keys and
  exception texts of every record. Correlation ids: the SQS message id (dispatch), the execution name
  (escalation: the case id), the scheduled event id (daily run), the API Gateway request id (API).
- **Metrics** (namespace ``Relance``, CloudWatch embedded metric format): ``MessagesSent`` per step and
  channel (dimensions ``Step``, ``Channel``, one record per pair), and per function ``DueInvoices``,
  ``CustomersQueued``, ``DailyRunCompleted``, ``AmountRecovered`` (euros), ``QuarantinedRecords``,
  ``FlaggedClaims``, ``SendFailures``, ``EscalationsStarted``... The dashboard and the alarms of
  template.yaml read these names: rename them in both places.
- **Traces**: Powertools Tracer (X-Ray, ``Tracing: Active`` in the template), patching botocore only.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "Relance"
TRACED_MODULES = ("botocore",)
REDACTED = "[redacted]"

# An address: local part @ domain with a dot (what the template's parameters accept too).
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# An IBAN, compact or printed in groups: country, check digits, 11 to 30 letters or digits.
_IBAN = re.compile(r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\b")
# E.164 (+33612345678, +33 6 12 34 56 78, +33 (0)6 12 34 56 78) and 0033 6 12 34 56 78.
_PHONE_INTL = re.compile(r"(?:\+|\b00)[1-9][0-9]{0,2}[\s.-]?(?:\(0\)[\s.-]?)?[0-9](?:[\s.-]?[0-9]){5,13}\b")
# French national numbers: 06 12 34 56 78, 06.12.34.56.78, 06-12-34-56-78, 0612345678.
_PHONE_FR = re.compile(r"\b0[1-9](?:[\s.-]?[0-9]{2}){4}\b")
_PATTERNS = (_EMAIL, _IBAN, _PHONE_INTL, _PHONE_FR)

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def redact_text(text: str) -> str:
    """``text`` with every email address, phone number and IBAN replaced by ``[redacted]``."""
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def redact(value: Any) -> Any:
    """``value`` with :func:`redact_text` applied to every string in it (dicts, lists, tuples)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [redact(item) for item in value]
    return value


class RedactingFilter(logging.Filter):
    """Redacts the message (arguments merged) and the ``extra`` fields of each record, in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg, record.args = record.getMessage(), None
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        elif isinstance(record.msg, Mapping | list | tuple):
            record.msg = redact(record.msg)
        for key, value in list(vars(record).items()):
            if key not in _RECORD_ATTRIBUTES:
                setattr(record, key, redact(value))
        return True


class RedactingFormatter(LambdaPowertoolsFormatter):
    """The Powertools JSON formatter, redacting the whole entry (appended keys and exceptions included)."""

    def serialize(self, log: Any) -> str:
        return super().serialize(log=redact(log) if isinstance(log, Mapping) else log)


def install_redaction(logger: Logger) -> Logger:
    """Make ``logger`` (and the runtime's root handlers) redact; safe to call more than once.

    Powertools configures the ``relance`` logging.Logger once per process: when another ``Logger()`` got
    there first with the stock formatter, that formatter is switched to :class:`RedactingFormatter` (same
    state, one more step).
    """
    formatter = logger.registered_formatter
    if type(formatter) is LambdaPowertoolsFormatter:
        formatter.__class__ = RedactingFormatter
    targets: list[logging.Filterer] = [logger._logger, *logger._logger.handlers, *logging.getLogger().handlers]
    for target in targets:
        if not any(isinstance(f, RedactingFilter) for f in target.filters):
            target.addFilter(RedactingFilter())
    return logger


def powertools(service: str | None = None) -> tuple[Logger, Tracer, Metrics]:
    """The Logger (JSON, redacting), Tracer and Metrics of a handler module."""
    logger = install_redaction(Logger(service=service, logger_formatter=RedactingFormatter()))
    # Only botocore is traced: patching every library X-Ray knows imports each of them (cold start).
    return logger, Tracer(service=service, patch_modules=TRACED_MODULES), Metrics(service=service, namespace=None)


def correlate(logger: Logger, **ids: str) -> None:
    """Tag the following log lines with ``ids`` (e.g. ``sqs_message_id=...``); the first is the correlation id."""
    ids = {key: value for key, value in ids.items() if value}
    if ids:
        logger.set_correlation_id(next(iter(ids.values())))
        logger.append_keys(**ids)


# ---------------------------------------------------------------------- metrics
def count_sends(sent: Iterable[tuple[str, str]], namespace: str | None = None) -> Counter[tuple[str, str]]:
    """``MessagesSent`` with dimensions ``Step`` and ``Channel``: one EMF record per (step, channel) pair.

    ``Metrics`` shares one dimension set across a whole invocation, so per-pair dimensions need their
    own record (Powertools ``single_metric``). Returns the counts.
    """
    counts = Counter(sent)
    namespace = namespace or os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or NAMESPACE
    for (step, channel), count in sorted(counts.items()):
        with single_metric(name="MessagesSent", unit=MetricUnit.Count, value=count, namespace=namespace) as metric:
            metric.add_dimension(name="Step", value=step)
            metric.add_dimension(name="Channel", value=channel)
    return counts


def add_count(metrics: Metrics, name: str, value: int | float) -> None:
    """A Count metric, only when there is something to count (no zero-filled series)."""
    if value:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def add_amount_recovered(metrics: Metrics, amounts: Iterable[Decimal | str]) -> Decimal:
    """``AmountRecovered`` (euros, no unit): payments recorded. Returns the total."""
    total = sum((Decimal(str(a)) for a in amounts), Decimal("0"))
    if total:
        metrics.add_metric(name="AmountRecovered", unit=MetricUnit.NoUnit, value=float(total))
    return total
