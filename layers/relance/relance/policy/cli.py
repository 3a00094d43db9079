"""``relance policy validate|timeline|schema|vocabulary``."""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

from relance.errors import RelanceError
from relance.money import parse_amount
from relance.policy.conditions import CUSTOMER_KINDS


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("policy", help="validate escalation policies, show their timeline")
    commands = parser.add_subparsers(dest="policy_command", required=True)

    validate = commands.add_parser("validate", help="check policy files; prints FILE:LINE: message per error")
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.add_argument("--no-templates", action="store_true",
                          help="do not check that the letter templates exist")
    validate.set_defaults(func=cmd_validate)

    timeline = commands.add_parser("timeline", help="the dates an unpaid invoice would get (JSON)")
    timeline.add_argument("file", metavar="FILE")
    timeline.add_argument("--due", required=True, metavar="DATE", help="due date, YYYY-MM-DD")
    timeline.add_argument("--amount", default="1000.00",
                          help="invoice balance (and case balance), e.g. 1800.00")
    timeline.add_argument("--kind", default="b2b", help="customer kind: b2b, b2c or public")
    timeline.add_argument("--segment", default=None, help="customer segment, for segment_in conditions")
    timeline.set_defaults(func=cmd_timeline)

    schema = commands.add_parser("schema", help="print the JSON schema of the policy format")
    schema.set_defaults(func=cmd_schema)

    vocabulary = commands.add_parser("vocabulary", help="print the conditions and actions (Markdown)")
    vocabulary.set_defaults(func=cmd_vocabulary)


def cmd_validate(args: argparse.Namespace) -> int:
    from relance.policy.validate import validate_files

    failed = False
    for path in args.files:
        errors = validate_files([path], check_templates=not args.no_templates)
        if errors:
            failed = True
            for line in errors:
                print(line)
        else:
            print(f"{path}: ok")
    return 2 if failed else 0


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RelanceError(f"{text!r} is not a date (YYYY-MM-DD)", where=option) from None


def cmd_timeline(args: argparse.Namespace) -> int:
    from relance.policy.timeline import timeline
    from relance.policy.validate import load_policy

    due = _date(args.due, "--due")
    amount = parse_amount(args.amount, "--amount")
    if args.kind not in CUSTOMER_KINDS:
        raise RelanceError(f"unknown customer kind {args.kind!r}: expected one of "
                           f"{', '.join(CUSTOMER_KINDS)}", where="--kind")
    # Dates only: the letter templates are validate's business, not the timeline's.
    policy = load_policy(args.file, check_templates=False)
    print(json.dumps(timeline(policy, due, amount, args.kind, args.segment), indent=2, ensure_ascii=False))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from relance.policy.schema import schema_json

    print(schema_json(), end="")
    return 0


def cmd_vocabulary(args: argparse.Namespace) -> int:
    from relance.policy.schema import vocabulary_markdown

    print(vocabulary_markdown(), end="")
    return 0
