"""Monthly cost of a book of invoices, from the season's measured counts times eu-west-3 list prices.

A book of B invoices a month: every invoice is imported (the season's ``import`` calls per invoice),
``REMINDED_SHARE`` of them get at least one message and then cost what an invoice that got messages cost
in the season (its share of the dispatch and daily-run calls, DynamoDB units, Lambda GB-s, SES, SNS, S3,
logs and traces). Fixed monthly costs: 30 daily runs and the SQS event source mapping's idle polling.
SMS and registered letters are shown apart (the big variable costs); free tiers are ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bench.season import SeasonResult

PRICES = Path(__file__).with_name("prices-eu-west-3.yaml")
BOOKS = (1_000, 10_000, 100_000, 1_000_000)
REMINDED_SHARE = 0.30             # brief: ~30 % of invoices get at least one message
RUNS_PER_MONTH = 30
# Lambda's SQS event source mapping long-polls with (at least) 5 pollers even when the queue is empty:
# 5 x 3 ReceiveMessage a minute (20 s long polls) x 43,200 minutes.
ESM_IDLE_REQUESTS_PER_MONTH = 5 * 3 * 43_200
RESIDENT_MONTHS = 72              # history is kept ~6 years (store.HISTORY_RETENTION_DAYS), then TTL
LETTERS_RESIDENT_MONTHS = 72      # letters are evidence: kept as long as the history
ESCALATED_SHARE_OF_REMINDED = 0.05   # not measured: the escalation state machine is not deployed yet
TRANSITIONS_PER_ESCALATION = 15


def load_prices(path: Path = PRICES) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _per(season: SeasonResult, value: float) -> float:
    """A season total per invoice that got messages."""
    return value / max(season.invoices_messaged, 1)


def monthly_cost(book: int, season: SeasonResult, prices: dict[str, Any]) -> dict[str, float]:
    """USD (and EUR for registered letters) per month for a book of ``book`` invoices a month."""
    p = prices
    chased = book * REMINDED_SHARE
    dispatch = "handler:DispatchFunction"
    daily = "handler:DailyRunFunction"

    def calls(label: str, prefix: str = "") -> float:
        return sum(n for op, n in season.calls.get(label, {}).items() if op.startswith(prefix))

    def units(label: str, kind: str) -> float:
        return season.units.get(label, {}).get(kind, 0.0)

    # DynamoDB request units: imports per invoice, dispatch and events per chased invoice, daily runs.
    imported_per_invoice = 1 / max(season.invoices, 1)
    wru = (units("import", "wru") * imported_per_invoice * book
           + _per(season, units(dispatch, "wru") + units("events", "wru")) * chased)
    rru = (units("import", "rru") * imported_per_invoice * book
           + _per(season, units(dispatch, "rru") + units("events", "rru") + units(daily, "rru")) * chased)
    ddb = p["dynamodb"]
    table_gb = season.table_item_bytes / max(season.invoices, 1) * book * RESIDENT_MONTHS / 1e9
    dynamodb = (wru * ddb["per_million_write_request_units"] + rru * ddb["per_million_read_request_units"]) / 1e6
    dynamodb_storage = table_gb * (ddb["storage_gb_month"] + ddb["pitr_gb_month"])

    # Lambda: dispatch invocations per chased invoice, 30 daily runs (their per-run duration measured).
    lam = p["lambda"]
    dispatch_inv = _per(season, season.invocations.get("DispatchFunction", 0)) * chased
    dispatch_gbs = dispatch_inv * season.durations_s.get("DispatchFunction", 0.0) * \
        season.memory_mb.get("DispatchFunction", 1024) / 1024
    daily_gbs = RUNS_PER_MONTH * season.durations_s.get("DailyRunFunction", 0.0) * \
        season.memory_mb.get("DailyRunFunction", 512) / 1024
    invocations = dispatch_inv + RUNS_PER_MONTH
    lambda_cost = (dispatch_gbs + daily_gbs) * lam["gb_second_arm"] + invocations * lam["per_million_requests"] / 1e6

    # SQS: the daily run's sends, the event source mapping's receives/deletes, and its idle polling.
    sqs_requests = _per(season, calls(daily, "sqs.") + season.esm_calls) * chased + ESM_IDLE_REQUESTS_PER_MONTH
    sqs = sqs_requests * p["sqs"]["per_million_requests"] / 1e6

    # SES: emails and attachment bytes.
    emails = _per(season, season.deliveries.get("email", 0)) * chased
    attach_gb = _per(season, season.email_attachment_bytes_total) * chased / 1e9
    ses = emails * p["ses"]["per_1000_emails"] / 1000 + attach_gb * p["ses"]["attachments_per_gb"]

    # SNS: task publishes (+ the team's email notifications); SMS apart.
    tasks = _per(season, season.deliveries.get("task", 0)) * chased
    sns = tasks * (p["sns"]["publish_per_million"] / 1e6 + p["sns"]["email_notifications_per_100k"] / 1e5)
    sms_segments = _per(season, season.sms_segments_total) * chased
    sms = sms_segments * p["sns"]["sms_france_per_message"]

    # S3: letter PDFs and print-queue entries (PUTs), letters kept as evidence.
    puts = _per(season, calls(dispatch, "s3.PutObject")) * chased
    letters = _per(season, season.deliveries.get("letter", 0)) * chased
    letters_gb = _per(season, season.letter_bytes_total) * chased * LETTERS_RESIDENT_MONTHS / 1e9
    s3 = puts * p["s3"]["put_per_1000"] / 1000 + letters_gb * p["s3"]["storage_gb_month"]

    # Step Functions: escalations (assumed share, see ESCALATED_SHARE_OF_REMINDED).
    sfn = chased * ESCALATED_SHARE_OF_REMINDED * TRANSITIONS_PER_ESCALATION * \
        p["stepfunctions"]["per_1000_state_transitions"] / 1000

    # CloudWatch Logs (handler logs + platform lines) and X-Ray (Tracing: Active, one trace per invoke).
    all_invocations = sum(season.invocations.values())
    log_gb = season.log_bytes / max(all_invocations, 1) * invocations / 1e9
    logs = log_gb * (p["cloudwatch"]["logs_ingestion_per_gb"] + p["cloudwatch"]["logs_storage_gb_month"])
    xray = invocations * p["xray"]["per_million_traces_recorded"] / 1e6

    aws = {"lambda": lambda_cost, "dynamodb_requests": dynamodb, "dynamodb_storage": dynamodb_storage,
           "sqs": sqs, "ses": ses, "sns_tasks": sns, "s3": s3, "stepfunctions": sfn, "cloudwatch_logs": logs,
           "xray": xray}
    out = {k: round(v, 4) for k, v in aws.items()}
    out["aws_total_usd"] = round(sum(aws.values()), 2)
    out["aws_usd_per_1000_invoices"] = round(sum(aws.values()) / book * 1000, 3)
    out["sms_segments"] = round(sms_segments)
    out["sms_usd"] = round(sms, 2)
    out["registered_letters"] = round(letters)
    out["of_which_formal_notice"] = round(_per(season, season.letter_steps.get("formal_notice", 0)) * chased)
    out["registered_letters_eur"] = round(letters * p["registered_letter"]["per_letter"], 2)
    out["wru"] = round(wru)
    out["rru"] = round(rru)
    return out


def cost_table(season: SeasonResult, prices: dict[str, Any] | None = None) -> dict[str, dict[str, float]]:
    """The monthly cost of every book size of :data:`BOOKS`."""
    prices = prices or load_prices()
    return {str(book): monthly_cost(book, season, prices) for book in BOOKS}
