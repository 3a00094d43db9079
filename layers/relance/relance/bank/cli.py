"""``relance bank import FILE [--dry-run] [--json]`` and ``relance bank match ENTRY INVOICE...``.

Same environment as the other operators' commands (``TABLE_NAME``, ``DUE_SHARDS``, ``DEFAULT_POLICY``, AWS
credentials); ``TASK_TOPIC_ARN`` (the stack's team topic) sends the team a task per entry not matched, else
those entries are only listed. ``--dry-run`` needs no table: without ``TABLE_NAME`` it only parses.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from relance.errors import RelanceError


def register(subparsers: Any) -> None:
    bank = subparsers.add_parser("bank", help="bank statements: import (camt.053, OFX, CFONB 120) and match")
    cmds = bank.add_subparsers(dest="bank_command", required=True)
    imp = cmds.add_parser("import", help="book the credits of a statement that match open invoices")
    imp.add_argument("file", metavar="FILE", help="camt.053 XML, OFX or CFONB 120 (format read from the content)")
    imp.add_argument("--dry-run", action="store_true", help="parse and show the matches; book nothing")
    imp.add_argument("--json", action="store_true", help="print the full report as JSON")
    imp.set_defaults(func=cmd_bank_import)
    match = cmds.add_parser("match", help="book an entry put to the team on the invoices you choose")
    match.add_argument("entry", metavar="ENTRY", help="the entry's key, as in the team task or the report")
    match.add_argument("invoices", metavar="INVOICE", nargs="+")
    match.set_defaults(func=cmd_bank_match)


def _needs_libraries() -> None:
    missing = []
    for module, package in (("lxml", "lxml"), ("ofxtools", "ofxtools"), ("stdnum", "python-stdnum")):
        try:
            __import__(module)
        except ImportError:
            missing.append(package)
    if missing:
        raise RelanceError(f"bank statements need {', '.join(missing)}: pip install 'relance[bank]'",
                           where="bank")


def _stores() -> tuple[Any, Any]:
    from relance import wiring
    from relance.ops.cli import _ledger

    ledger = _ledger()
    return ledger, wiring.bank_store(ledger.store)


def _notify() -> Any:
    from relance import wiring

    return wiring.bank_notify(os.environ.get("TASK_TOPIC_ARN", "").strip() or None)


def cmd_bank_import(args: argparse.Namespace) -> int:
    from relance.bank.service import import_statement
    from relance.ops.cli import _aws_call, _today, offline_dry_run, read_input

    path, data = read_input(args.file)
    _needs_libraries()
    if offline_dry_run(args):
        report = import_statement(data, str(path), None, None, _today(), dry_run=True)
    else:
        ledger, store = _stores()
        report = _aws_call(lambda: import_statement(data, str(path), ledger, store, _today(), notify=_notify(),
                                                    dry_run=args.dry_run))
    print(json.dumps(report.to_json(), indent=2, ensure_ascii=False) if args.json else report.to_text())
    unmatched = report.count("unmatched") + report.count("failed")
    if unmatched and not args.dry_run:
        print(f"relance: {unmatched} entr{'y' if unmatched == 1 else 'ies'} not booked: "
              "see the team task(s), then `relance bank match ENTRY INVOICE...`", file=sys.stderr)
    return 0


def cmd_bank_match(args: argparse.Namespace) -> int:
    from relance.bank.service import match_entry
    from relance.ops.cli import _aws_call, _today

    _needs_libraries()
    ledger, store = _stores()
    result = _aws_call(lambda: match_entry(args.entry, list(args.invoices), ledger, store, _today()))
    print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    return 0
