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
