"""``relance penalties``: late-payment interest and 40 € indemnity of one invoice, as JSON (DESIGN.md).

    relance penalties --amount 6000.00 --due 2026-02-14 --on 2026-04-16 [--kind b2b|b2c|public]
                      [--rate 0.15|legal-x3] [--notice DATE] [--payment DATE:AMOUNT ...]

Bad input raises RelanceError: relance.cli prints one line and exits 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
from decimal import Decimal, InvalidOperation
from typing import Any

from relance.errors import RelanceError
from relance.law.penalties import KINDS, LEGAL_X3, RateOption, compute
from relance.money import parse_amount

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RATE = re.compile(r"^(\d+(\.\d*)?|\.\d+)$")


def parse_date(value: str, where: str) -> dt.date:
    """Strict ISO date (YYYY-MM-DD); anything else is a RelanceError naming ``where``."""
    text = value.strip()
    if not _DATE.match(text):
        raise RelanceError(f"{value!r} is not a date (expected YYYY-MM-DD)", where)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise RelanceError(f"{value!r} is not a real calendar date", where) from None


def parse_rate(value: str | None) -> RateOption:
    """``0.15`` (annual rate as a fraction, at most 1) or ``legal-x3``."""
    if value is None:
        return None
    text = value.strip()
    if text == LEGAL_X3:
        return "legal-x3"
    if not _RATE.match(text):
        raise RelanceError(f"{value!r} is not a rate: give an annual fraction such as 0.15, or legal-x3",
                           "--rate")
    try:
        rate = Decimal(text)
    except InvalidOperation:  # pragma: no cover - guarded by the regex
        raise RelanceError(f"{value!r} is not a number", "--rate") from None
    if rate > 1:
        raise RelanceError(f"{value} is above 1: give the annual rate as a fraction (0.15 for 15 %)",
                           "--rate")
    return rate


def parse_payment(value: str) -> tuple[dt.date, Decimal]:
    """``DATE:AMOUNT`` (date the funds were credited, amount TTC)."""
    where = f"--payment {value}"
    day, sep, amount = value.partition(":")
    if not sep:
        raise RelanceError("expected DATE:AMOUNT, e.g. 2026-03-31:4000.00", where)
    return parse_date(day, where), parse_amount(amount, where)


def run(args: argparse.Namespace) -> int:
    kind = args.kind.strip().lower()
    if kind not in KINDS:
        raise RelanceError(f"unknown kind {args.kind!r} (expected b2b, b2c or public)", "--kind")
    statement = compute(
        parse_amount(args.amount, "--amount"),
        parse_date(args.due, "--due"),
        parse_date(args.on, "--on"),
        kind,  # checked against KINDS above
        rate=parse_rate(args.rate),
        notice=parse_date(args.notice, "--notice") if args.notice is not None else None,
        payments=[parse_payment(p) for p in args.payment],
    )
    try:
        print(json.dumps(statement.to_dict(), indent=2, ensure_ascii=False), flush=True)
    except BrokenPipeError:  # `relance penalties ... | head`: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def register(subparsers: Any) -> None:
    """Add ``penalties`` to the ``relance`` command line."""
    parser = subparsers.add_parser(
        "penalties",
        help="late-payment interest and 40 € indemnity of one invoice (JSON)",
        description="Late-payment interest (L441-10 C. com.; C. civ. 1231-6 for consumers; R2192-31 CCP for "
                    "public buyers) and the 40 € indemnity (D441-5) of one invoice, as JSON.",
    )
    parser.add_argument("--amount", required=True, help="invoice amount TTC, e.g. 6000.00")
    parser.add_argument("--due", required=True, metavar="DATE", help="due date (YYYY-MM-DD)")
    parser.add_argument("--on", required=True, metavar="DATE",
                        help="date of the statement: funds credited, or the day the claim is computed")
    parser.add_argument("--kind", default="b2b", metavar="{b2b,b2c,public}", help="debtor (default b2b)")
    parser.add_argument("--rate", metavar="{0.15,legal-x3}",
                        help="contractual rate (b2b): an annual fraction, or legal-x3 (3 × the legal rate)")
    parser.add_argument("--notice", metavar="DATE", help="date the formal notice was sent (b2c)")
    parser.add_argument("--payment", action="extend", nargs="+", default=[], metavar="DATE:AMOUNT",
                        help="payment credited on DATE (repeatable, or several after one flag)")
    parser.set_defaults(func=run)
    register_rates(subparsers)


# ---------------------------------------------------------------------------- relance rates
def _rate_store() -> Any:
    """The deployed table's rates (``TABLE_NAME``, AWS credentials as for the other operator commands)."""
    from relance import wiring

    table_name = os.environ.get("TABLE_NAME", "").strip()
    if not table_name:
        raise RelanceError("environment variable TABLE_NAME is not set (the stack's table_name; see "
                           "`aws cloudformation describe-stacks`)", "settings")
    try:
        return wiring.rate_store(table_name)
    except Exception as exc:  # no Region, no credentials...
        raise RelanceError(f"cannot reach DynamoDB ({type(exc).__name__}: set AWS_REGION and credentials)",
                           "settings") from None


def _aws(action: Any) -> Any:
    try:
        return action()
    except RelanceError:
        raise
    except Exception as exc:  # botocore errors: one line, never a traceback
        error = getattr(exc, "response", {}).get("Error", {})
        detail = f"{error.get('Code')}: {error.get('Message')}" if error else f"{type(exc).__name__}: {exc}"
        raise RelanceError(f"AWS refused the call: {detail}", "aws") from None


def run_rates_set(args: argparse.Namespace) -> int:
    from relance.imports import today_paris
    from relance.law.ratecheck import legal_entry

    individual = args.legal_individual
    if individual is None:
        raise RelanceError("give the rate for individual creditors (1° of the arrêté) with "
                           "--legal-individual (or --legal-professional)", "rates set")
    entry = legal_entry(args.semester, individual, args.legal_other, args.source, today_paris())
    store = _rate_store()
    _aws(lambda: store.put_legal(entry))
    print(json.dumps({"semester": str(entry.semester), "individual": f"{entry.individual * 100:.2f}",
                      "other": f"{entry.professional * 100:.2f}", "source": entry.source, "read": entry.read},
                     ensure_ascii=False), flush=True)
    return 0


def run_rates_show(args: argparse.Namespace) -> int:
    from relance.law.rates import Semester, table, use_stored

    if os.environ.get("TABLE_NAME", "").strip():
        store = _rate_store()
        use_stored(*_aws(store.load))
    rates = table()
    rows = []
    for year in range(args.since, dt.date.today().year + 2):
        for half in (1, 2):
            sem = Semester(year, half)
            row: dict[str, Any] = {"semester": str(sem)}
            try:
                row["ecb"] = f"{rates.reference_ecb_rate(sem) * 100:.2f}"
            except RelanceError:
                row["ecb"] = None
            entry = rates.legal.get(sem)
            row["legal_individual"] = f"{entry.individual * 100:.2f}" if entry else None
            row["legal_other"] = f"{entry.professional * 100:.2f}" if entry else None
            row["warnings"] = rates.caveats(sem, ecb=True, legal=True)
            rows.append(row)
    print(json.dumps(rows, indent=2, ensure_ascii=False), flush=True)
    return 0


def register_rates(subparsers: Any) -> None:
    """``relance rates set|show``: the legal rate published by arrêté, and the table in use."""
    rates = subparsers.add_parser("rates", help="the rate table: enter the legal rate of a semester, show it")
    cmds = rates.add_subparsers(dest="rates_command", required=True)
    setp = cmds.add_parser(
        "set", help="store the legal interest rate of a semester (arrêté, C. monét. fin. L313-2) in the table",
        description="Stores the two legal interest rates of a semester, as published by arrêté in the Journal "
                    "officiel, in the deployed table (TABLE_NAME): letters use them from the next run.")
    setp.add_argument("--semester", required=True, metavar="YYYY-S1|YYYY-S2")
    setp.add_argument("--legal-individual", "--legal-professional", dest="legal_individual", metavar="X",
                      help="1° of the arrêté, percent: créances des personnes physiques n'agissant pas pour des "
                           "besoins professionnels")
    setp.add_argument("--legal-other", required=True, metavar="Y",
                      help="2° of the arrêté, percent: « tous les autres cas » (every professional creditor: "
                           "the rate relance claims from consumers and uses for the 3 × floor)")
    setp.add_argument("--source", required=True, metavar="URL", help="address of the arrêté (Légifrance, JORF)")
    setp.set_defaults(func=run_rates_set)
    show = cmds.add_parser("show", help="the rates in use per semester (file + table), as JSON")
    show.add_argument("--since", type=int, default=2021, metavar="YEAR")
    show.set_defaults(func=run_rates_show)
