"""``relance customer export ID`` and ``relance customer erase ID [--force]`` (GDPR, see relance.gdpr).

Configuration as for the operators' commands (relance.ops.cli): ``TABLE_NAME``, ``DUE_SHARDS``,
``DEFAULT_POLICY``, and ``LETTERS_BUCKET`` for erase to delete the letters that are not evidence.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from relance.models import _ID


def register(subparsers: Any) -> None:
    # `relance customer list|show` (relance.ops.operator) may have made the group already: join it.
    cmds = getattr(subparsers.choices.get("customer"), "relance_commands", None)
    if cmds is None:
        customer = subparsers.add_parser("customer", help="personal data of a customer (GDPR export and erasure)")
        cmds = customer.add_subparsers(dest="customer_command", required=True)
    export = cmds.add_parser("export", help="JSON of everything stored about the customer")
    export.add_argument("id", metavar="ID")
    export.set_defaults(func=cmd_export)
    erase = cmds.add_parser("erase", help="erase the customer's personal data, keeping what the law requires")
    erase.add_argument("id", metavar="ID")
    erase.add_argument("--force", action="store_true",
                       help="erase even with open invoices (their reminders are paused)")
    erase.set_defaults(func=cmd_erase)


def _checked_id(value: str) -> str:
    from relance.errors import ValidationError

    if not _ID.match(value):
        raise ValidationError(f"{value!r} is not a valid customer id", "ID")
    return value


def cmd_export(args: argparse.Namespace) -> int:
    from relance import gdpr
    from relance.ops.cli import _aws_call, _ledger

    customer_id = _checked_id(args.id)
    ledger = _ledger()
    document = _aws_call(lambda: gdpr.export(ledger.store, customer_id))
    print(json.dumps(document, indent=2, ensure_ascii=False))
    return 0


def cmd_erase(args: argparse.Namespace) -> int:
    from relance import gdpr, wiring
    from relance.ops.cli import _aws_call, _ledger, _today

    customer_id = _checked_id(args.id)
    ledger = _ledger()
    bucket = os.environ.get("LETTERS_BUCKET", "").strip() or None
    files = wiring.bucket(bucket) if bucket else None
    report = _aws_call(lambda: gdpr.erase(ledger.store, customer_id, _today(), force=args.force, files=files,
                                          ledger=ledger))
    print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    return 0
