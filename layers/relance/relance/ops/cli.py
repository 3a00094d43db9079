"""Operators' commands on the deployed table: ``relance invoice|payment|dispute|promise|import``
(and, from relance.ops.operator, ``customer``, ``plan``, ``invoice list|pause|resume|write-off``).

They go through the same Ledger as the API. Configuration comes from the environment: ``TABLE_NAME``
(required), ``DUE_SHARDS`` and ``DEFAULT_POLICY`` (the stack's values; defaults 1 and ``standard`` as in
template.yaml), ``AWS_REGION``/``AWS_PROFILE`` as for the AWS CLI; ``LETTERS_BUCKET`` to import Factur-X.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

from relance.errors import RelanceError
from relance.money import parse_amount


def register(subparsers: Any) -> None:
    invoice = subparsers.add_parser("invoice", help="show an invoice of the deployed table")
    invoice_cmds = invoice.add_subparsers(dest="invoice_command", required=True)
    show = invoice_cmds.add_parser("show", help="the invoice, its balance, state and history (JSON)")
    show.add_argument("id", metavar="ID")
    show.set_defaults(func=cmd_invoice_show)
    from relance.ops import operator

    operator.register(subparsers, invoice_cmds)   # invoice list|pause|resume|write-off, customer, plan

    payment = subparsers.add_parser("payment", help="record payments")
    payment_cmds = payment.add_subparsers(dest="payment_command", required=True)
    add = payment_cmds.add_parser("add", help="record a payment (partial allowed; overpayment kept as credit)")
    add.add_argument("id", metavar="ID")
    add.add_argument("amount", metavar="AMOUNT", help="euros, e.g. 900.00")
    add.add_argument("--date", metavar="D", help="day the funds were credited (YYYY-MM-DD; default today)")
    add.add_argument("--reference", help="bank reference")
    add.set_defaults(func=cmd_payment_add)

    dispute = subparsers.add_parser("dispute", help="open or resolve a dispute (pauses the reminders)")
    dispute_cmds = dispute.add_subparsers(dest="dispute_command", required=True)
    dopen = dispute_cmds.add_parser("open", help="the customer contests the invoice")
    dopen.add_argument("id", metavar="ID")
    dopen.add_argument("--reason", required=True, metavar="R")
    dopen.set_defaults(func=cmd_dispute_open)
    resolve = dispute_cmds.add_parser("resolve", help="the dispute is settled: reminders resume")
    resolve.add_argument("id", metavar="ID")
    resolve.set_defaults(func=cmd_dispute_resolve)

    promise = subparsers.add_parser("promise", help="record promises to pay")
    promise_cmds = promise.add_subparsers(dest="promise_command", required=True)
    padd = promise_cmds.add_parser("add", help="the customer promises to pay by a date (pauses until then)")
    padd.add_argument("id", metavar="ID")
    padd.add_argument("--until", required=True, metavar="D", help="YYYY-MM-DD")
    padd.set_defaults(func=cmd_promise_add)

    imp = subparsers.add_parser("import", help="import a CSV file (or a Factur-X PDF) into the deployed table")
    imp.add_argument("file", metavar="FILE", help="FILE.csv (see relance.imports.csv_import) or FILE.pdf")
    imp.add_argument("--dry-run", action="store_true", help="validate and report; write nothing")
    imp.add_argument("--json", action="store_true", help="print the full report as JSON")
    imp.set_defaults(func=cmd_import)


# ---------------------------------------------------------------------------- wiring
def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, "").strip() or default
    if not value:
        raise RelanceError(f"environment variable {name} is not set (the stack's {name.lower()}; see "
                           "`aws cloudformation describe-stacks`)", where="settings")
    return value


def _ledger() -> Any:
    from relance import wiring
    from relance.ledger import Ledger

    table = _env("TABLE_NAME")
    shards_text = _env("DUE_SHARDS", "1")
    if not shards_text.isdigit() or int(shards_text) < 1:
        raise RelanceError(f"environment variable DUE_SHARDS must be a positive integer, got {shards_text!r}",
                           where="settings")
    try:
        return Ledger(wiring.table(table, int(shards_text)), wiring.policies(), _env("DEFAULT_POLICY", "standard"))
    except Exception as exc:  # no Region, no credentials...
        raise RelanceError(f"cannot reach DynamoDB ({type(exc).__name__}: set AWS_REGION and credentials)",
                           where="settings") from None


class _EmptyStore:
    """A table with nothing in it: ``import --dry-run`` checks a file before any deploy."""

    def get_customer_raw(self, customer_id: str) -> None:
        return None

    def get_invoice(self, invoice_id: str) -> None:
        return None

    def get_customers_raw(self, customer_ids: Any) -> dict[str, Any]:
        return {}

    def get_invoice_items(self, invoice_ids: Any) -> dict[str, Any]:
        return {}


def _offline_ledger() -> Any:
    from relance import runtime
    from relance.ledger import Ledger

    return Ledger(_EmptyStore(), runtime.policies(), _env("DEFAULT_POLICY", "standard"))  # type: ignore[arg-type]


def _today() -> dt.date:
    from relance.imports import today_paris

    return today_paris()


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise RelanceError(f"{text!r} is not a date (YYYY-MM-DD)", where=option) from None


def _print_invoice(record: Any) -> None:
    from relance.api.service import invoice_view

    print(json.dumps(invoice_view(record, _today()).model_dump(), indent=2, ensure_ascii=False))


def _aws_call(action: Any) -> Any:
    """Run a ledger call; AWS failures (credentials, table) become one line instead of a traceback."""
    from relance.wiring import provider_failure

    try:
        return action()
    except Exception as exc:
        message = provider_failure(exc)
        if message is None:
            raise
        raise RelanceError(message, where="aws") from None


# ---------------------------------------------------------------------------- commands
def cmd_invoice_show(args: argparse.Namespace) -> int:
    ledger = _ledger()
    record = _aws_call(lambda: ledger.invoice(args.id))
    from relance.api.service import invoice_view

    view = invoice_view(record, _today()).model_dump()
    view["history"] = _aws_call(lambda: ledger.history(args.id))
    print(json.dumps(view, indent=2, ensure_ascii=False))
    return 0


def cmd_payment_add(args: argparse.Namespace) -> int:
    amount = parse_amount(args.amount, "AMOUNT")
    today = _today()
    paid_on = _date(args.date, "--date") if args.date else today
    if paid_on > today:
        raise RelanceError(f"payment date {paid_on} is in the future", where="--date")
    ledger = _ledger()
    before = _aws_call(lambda: ledger.invoice(args.id))
    record = _aws_call(lambda: ledger.record_payment(args.id, amount, paid_on, args.reference))
    credit = max(amount - before.balance, 0)
    _print_invoice(record)
    if credit:
        print(f"relance: overpayment of {credit:.2f} kept as a credit on invoice {args.id}", file=sys.stderr)
    return 0


def cmd_dispute_open(args: argparse.Namespace) -> int:
    ledger = _ledger()
    _print_invoice(_aws_call(lambda: ledger.open_dispute(args.id, _today(), args.reason)))
    return 0


def cmd_dispute_resolve(args: argparse.Namespace) -> int:
    ledger = _ledger()
    if not _aws_call(lambda: ledger.invoice(args.id)).disputed:
        raise RelanceError("has no open dispute", where=f"invoice {args.id}")
    _print_invoice(_aws_call(lambda: ledger.resolve_dispute(args.id, _today())))
    return 0


def cmd_promise_add(args: argparse.Namespace) -> int:
    until = _date(args.until, "--until")
    ledger = _ledger()
    _print_invoice(_aws_call(lambda: ledger.record_promise(args.id, _today(), until)))
    return 0


def read_input(file: str) -> tuple[Path, bytes]:
    """A file given on the command line, or RelanceError naming it (never a traceback)."""
    path = Path(file)
    try:
        return path, path.read_bytes()
    except OSError as exc:
        raise RelanceError(f"cannot read the file ({exc.strerror})", where=str(path)) from None


def offline_dry_run(args: argparse.Namespace) -> bool:
    """``--dry-run`` with no deployed table named (TABLE_NAME): checked here, nothing read from AWS."""
    return bool(args.dry_run) and not os.environ.get("TABLE_NAME", "").strip()


def cmd_import(args: argparse.Namespace) -> int:
    path, data = read_input(args.file)
    offline = offline_dry_run(args)
    ledger = _offline_ledger() if offline else _ledger()
    if path.suffix.lower() == ".pdf":
        return _import_pdf(path, data, ledger, args.dry_run)
    from relance.imports.csv_import import import_csv

    report = _aws_call(lambda: import_csv(data, ledger, _today(), dry_run=args.dry_run, source=str(path)))
    print(json.dumps(report.to_json(), indent=2, ensure_ascii=False) if args.json else report.to_text())
    if offline:
        print("relance: no TABLE_NAME: checked without the table (every row counted as new)", file=sys.stderr)
    if report.ok:
        return 0
    first = report.errors[0]
    column = f" (column {first.field})" if first.field else ""
    print(f"relance: {path}:{first.line}: {first.reason}{column}", file=sys.stderr)
    return 2


def _import_pdf(path: Path, data: bytes, ledger: Any, dry_run: bool) -> int:
    from relance import wiring
    from relance.imports.facturx import import_facturx, read_facturx, to_records

    if dry_run:
        customer, invoice = to_records(read_facturx(data, str(path)), None, str(path))
        print(json.dumps({"customer": customer, "invoice": invoice, "dry_run": True}, indent=2, ensure_ascii=False))
        return 0
    bucket = _env("LETTERS_BUCKET")
    files = wiring.bucket(bucket)
    result = _aws_call(lambda: import_facturx(data, ledger, files, _today(), source=str(path)))
    print(f"{path}: invoice {result.invoice_id} " + ("created" if result.created else "already imported")
          + f" (customer {result.customer_id}, PDF at s3://{bucket}/{result.attachment_key})")
    return 0
