"""The operator's commands on the deployed table: customers, invoices by status, decisions, plans, preview.

``relance customer list|show``, ``relance invoice list|pause|resume|write-off``, ``relance plan add``,
``relance preview [--date D]`` (relance.ops.preview). The
changes go through :class:`relance.api.service.ApiService`, the code behind the REST API, so a pause from
the command line and one from the API are the same thing. Each command takes ``--json`` and ``--lang
fr|en`` (French by default); bad input exits 2 with one line.

Statuses an operator filters on (``invoice list --status``):

* ``open``: chased by the ladder (not paused);
* ``to_decide``: a hand-off refused or whose approval expired, still owed, waiting for the team;
* ``paused``: dispute, promise to pay, payment plan on schedule, paused by hand;
* ``stopped``: paid, written off, handed off, cancelled (``handed_off`` is still owed, with a partner).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from relance.errors import RelanceError
from relance.money import ZERO, fmt

STATUSES = ("open", "to_decide", "paused", "stopped")
OWED_STATUSES = ("open", "handed_off", "escalation_declined")

_FR = {
    "open": "en cours", "to_decide": "à décider", "paused": "en pause", "stopped": "arrêtée",
    "paid": "payée", "written_off": "passée en perte", "handed_off": "transmise", "cancelled": "annulée",
    "escalation_declined": "à décider", "dispute": "litige", "promise": "promesse", "payment_plan": "échéancier",
    "manual": "pause manuelle",
    "Invoice": "Facture", "Customer": "Client", "Due": "Échéance", "Amount": "Montant", "Owed": "Reste dû",
    "Status": "Statut", "Why": "Motif", "Next action": "Prochaine action", "Name": "Nom", "Kind": "Type",
    "Email": "E-mail", "Phone": "Téléphone", "Invoices": "Factures",
    "invoiced": "facturé", "recovered": "encaissé", "written off": "passé en perte", "outstanding": "encours",
    "of which to decide": "dont à décider", "no invoice": "aucune facture", "no customer": "aucun client",
}


def tr(text: str, lang: str) -> str:
    """``text`` in French when ``lang`` is fr (the default), else as is."""
    return _FR.get(text, text) if lang == "fr" else text


def money(value: Decimal, lang: str) -> str:
    """1 234,56 € in French, EUR 1,234.56 in English."""
    text = f"{value:,.2f}"
    if lang == "fr":
        return text.replace(",", "\u202f").replace(".", ",") + " €"
    return f"EUR {text}"


# ---------------------------------------------------------------------------- reading the table
def invoice_records(store: Any) -> Iterator[Any]:
    """Every invoice of the table, read page by page (the store's operators' listing)."""
    return iter(store.all_invoices())


def customer_items(store: Any) -> Iterator[dict[str, Any]]:
    return iter(store.all_customers())


@dataclass(frozen=True)
class Row:
    """One invoice as the operator sees it."""

    invoice: str
    customer: str
    due: str
    amount: Decimal
    balance: Decimal
    paid: Decimal
    state: str           # open | to_decide | paused | stopped
    status: str          # the stored status (open, paid, written_off, handed_off...)
    why: str
    next_action: str | None

    @property
    def owed(self) -> bool:
        return self.status in OWED_STATUSES

    def as_json(self) -> dict[str, Any]:
        return {"invoice": self.invoice, "customer": self.customer, "due": self.due, "amount": fmt(self.amount),
                "balance": fmt(self.balance), "paid": fmt(self.paid), "state": self.state, "status": self.status,
                "reason": self.why, "next_action": self.next_action}


def row_of(record: Any, today: dt.date) -> Row:
    """Classify an invoice record (relance.store.InvoiceRecord) for the operator."""
    from relance.ledger import paid_total, plan_paused_until

    raw = record.raw
    why = ""
    if record.status != "open":
        state = "stopped"
        why = record.status
    elif record.to_decide:
        state, why = "to_decide", str(record.to_decide)
    elif record.disputed:
        state, why = "paused", "dispute"
    elif record.promise_until and record.promise_until >= today:
        state, why = "paused", f"promise {record.promise_until.isoformat()}"
    elif record.plan and plan_paused_until(record, today) is not None:
        state, why = "paused", "payment_plan"
    elif record.manual_pause:
        state, why = "paused", "manual"
    else:
        state = "open"
    return Row(record.invoice_id, record.customer_id, str(raw.get("due", "")), Decimal(str(raw.get("amount", "0"))),
               record.balance, paid_total(record), state, record.status, why,
               record.next_action.isoformat() if record.next_action else None)


def invoice_rows(store: Any, today: dt.date, *, status: str | None = None, due_before: dt.date | None = None,
                 customer: str | None = None) -> list[Row]:
    """The invoices of the table, filtered; malformed items are left out (the daily run quarantines them)."""
    rows = []
    for record in invoice_records(store):
        try:
            row = row_of(record, today)
        except (KeyError, ValueError, TypeError, ArithmeticError):
            continue
        if status and row.state != status:
            continue
        if customer and row.customer != customer:
            continue
        if due_before and not (row.due and row.due < due_before.isoformat()):
            continue
        rows.append(row)
    return sorted(rows, key=lambda r: (r.customer, r.due, r.invoice))


def totals(rows: list[Row]) -> dict[str, Decimal]:
    """invoiced, recovered, written off, outstanding (= invoiced − recovered − written off, cancelled aside),
    and the part of the outstanding waiting for a decision."""
    counted = [r for r in rows if r.status != "cancelled"]
    invoiced = sum((r.amount for r in counted), ZERO)
    recovered = sum((min(r.paid, r.amount) for r in counted), ZERO)
    written_off = sum((r.balance for r in counted if r.status == "written_off"), ZERO)
    outstanding = sum((r.balance for r in counted if r.owed), ZERO)
    deciding = sum((r.balance for r in counted if r.state == "to_decide"), ZERO)
    return {"invoiced": invoiced, "recovered": recovered, "written off": written_off, "outstanding": outstanding,
            "of which to decide": deciding}


def _table(headers: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def fmt_row(cells: list[str]) -> str:
        return "  ".join(c.rjust(widths[i]) if i in numeric else c.ljust(widths[i])
                         for i, c in enumerate(cells)).rstrip()

    return "\n".join([fmt_row(headers), *(fmt_row(r) for r in rows)])


def render_invoices(rows: list[Row], lang: str) -> str:
    if not rows:
        return tr("no invoice", lang)
    headers = [tr(h, lang) for h in ("Invoice", "Customer", "Due", "Amount", "Owed", "Status", "Why",
                                     "Next action")]
    body = [[r.invoice, r.customer, r.due, money(r.amount, lang), money(r.balance, lang),
             tr(r.state if r.state != "stopped" else r.status, lang), tr(r.why, lang) if r.state != "stopped" else "",
             r.next_action or ""] for r in rows]
    sums = totals(rows)
    summary = " · ".join(f"{tr(k, lang)} {money(v, lang)}" for k, v in sums.items())
    return _table(headers, body, {3, 4}) + "\n\n" + summary[:1].upper() + summary[1:]


# ---------------------------------------------------------------------------- commands
def register(subparsers: Any, invoice_cmds: Any) -> None:
    """Add ``customer``, ``plan`` and the ``invoice list|pause|resume|write-off`` sub-commands."""

    def common(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.add_argument("--lang", choices=("fr", "en"), default="fr", help="output language (default fr)")
        return parser

    lst = common(invoice_cmds.add_parser("list", help="invoices by status, with the outstanding total"))
    lst.add_argument("--status", choices=STATUSES, help="open | to_decide | paused | stopped")
    lst.add_argument("--due-before", metavar="D", help="only invoices due before this date (YYYY-MM-DD)")
    lst.add_argument("--customer", metavar="ID")
    lst.set_defaults(func=cmd_invoice_list)
    pause = common(invoice_cmds.add_parser("pause", help="pause the reminders of an invoice"))
    pause.add_argument("id", metavar="ID")
    pause.add_argument("--reason", default="", metavar="R")
    pause.set_defaults(func=cmd_invoice_pause)
    resume = common(invoice_cmds.add_parser("resume", help="resume a paused invoice (also ends « à décider »)"))
    resume.add_argument("id", metavar="ID")
    resume.set_defaults(func=cmd_invoice_resume)
    write_off = common(invoice_cmds.add_parser("write-off", help="pass the claim to loss (ends the ladder)"))
    write_off.add_argument("id", metavar="ID")
    write_off.add_argument("--reason", required=True, metavar="R")
    write_off.set_defaults(func=cmd_invoice_write_off)

    customer = subparsers.add_parser("customer", help="customers of the deployed table (list, show, GDPR)")
    customer_cmds = customer.add_subparsers(dest="customer_command", required=True)
    customer.relance_commands = customer_cmds    # relance.gdpr_cli adds to it
    clist = common(customer_cmds.add_parser("list", help="every customer with what it owes"))
    clist.set_defaults(func=cmd_customer_list)
    show = common(customer_cmds.add_parser("show", help="a customer, its invoices and what it owes"))
    show.add_argument("id", metavar="ID")
    show.set_defaults(func=cmd_customer_show)

    prev = common(subparsers.add_parser("preview", help="what the next run will send (sends and claims nothing)"))
    prev.add_argument("--date", metavar="D", help="the run date (YYYY-MM-DD; default tomorrow)")
    prev.set_defaults(func=cmd_preview)

    from relance.ops import tasks

    tasks.register(subparsers)   # task list|done

    letter = subparsers.add_parser("letter", help="registered letters: record posting and receipt")
    letter_cmds = letter.add_subparsers(dest="letter_command", required=True)
    for verb, text in (("posted", "the letter was posted (registered, with acknowledgement of receipt)"),
                       ("received", "the acknowledgement of receipt came back: deadlines run from this date")):
        cmd = common(letter_cmds.add_parser(verb, help=text))
        cmd.add_argument("target", metavar="INVOICE|CUSTOMER")
        cmd.add_argument("--step", required=True, metavar="STEP", help="the step of the letter (formal_notice)")
        cmd.add_argument("--date", metavar="D", required=verb == "received",
                         help="YYYY-MM-DD" + ("" if verb == "received" else " (default today)"))
        if verb == "posted":
            cmd.add_argument("--tracking", required=True, metavar="N", help="the registered-mail number")
        cmd.set_defaults(func=cmd_letter, letter_kind=f"letter_{verb}")

    partners = subparsers.add_parser("partners", help="the partners cases are handed to")
    partners_cmds = partners.add_subparsers(dest="partners_command", required=True)
    check = partners_cmds.add_parser("check", help="every route of the policies has a partner (run before a "
                                                   "deploy; exit 2 naming the route otherwise)")
    check.add_argument("--file", metavar="FILE", help="the partners file (default: RELANCE_PARTNERS_FILE, else "
                                                      "policies/partners/partners.yaml)")
    check.set_defaults(func=cmd_partners_check)

    plan = subparsers.add_parser("plan", help="payment plans (échéanciers)")
    plan_cmds = plan.add_subparsers(dest="plan_command", required=True)
    padd = common(plan_cmds.add_parser("add", help="set a payment plan; the reminders pause while it is kept"))
    padd.add_argument("id", metavar="ID")
    padd.add_argument("--instalment", action="append", required=True, metavar="D:AMOUNT",
                      help="one instalment, e.g. 2026-06-30:500.00 (repeat; they add up to the balance)")
    padd.set_defaults(func=cmd_plan_add)


def _service() -> Any:
    from relance.api.service import ApiService
    from relance.ops.cli import _ledger, _today

    return ApiService(_ledger(), _today)


def _call(action: Callable[[], Any], where: str) -> Any:
    """Run a service call: API errors and AWS failures become one line (exit 2)."""
    from relance.api.service import ApiError
    from relance.ops.cli import _aws_call

    try:
        return _aws_call(action)
    except ApiError as exc:
        field = getattr(exc, "field", None)
        raise RelanceError(str(getattr(exc, "message", exc)) + (f" (field {field})" if field else ""),
                           where=where) from None


def _show_invoice(view: Any, args: argparse.Namespace, verb: str) -> int:
    data = view.model_dump(mode="json")
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    lang = args.lang
    owed = money(Decimal(data["balance"]), lang)
    paused = ", ".join(tr(p, lang) for p in data.get("paused", [])) or "-"
    if lang == "fr":
        print(f"Facture {data['id']} ({data['customer']}) {verb} : statut {tr(data['status'], lang)}, reste dû {owed}, "
              f"pauses {paused}, prochaine action {data.get('next_action') or '-'}")
    else:
        print(f"Invoice {data['id']} ({data['customer']}) {verb}: status {data['status']}, owed {owed}, "
              f"paused {paused}, next action {data.get('next_action') or '-'}")
    return 0


def cmd_invoice_list(args: argparse.Namespace) -> int:
    from relance.ops.cli import _aws_call, _date, _ledger, _today

    due_before = _date(args.due_before, "--due-before") if args.due_before else None
    ledger = _ledger()
    rows = _aws_call(lambda: invoice_rows(ledger.store, _today(), status=args.status, due_before=due_before,
                                          customer=args.customer))
    if args.json:
        print(json.dumps({"invoices": [r.as_json() for r in rows],
                          "totals": {k.replace(" ", "_"): fmt(v) for k, v in totals(rows).items()}},
                         indent=2, ensure_ascii=False))
    else:
        print(render_invoices(rows, args.lang))
    return 0


def cmd_invoice_pause(args: argparse.Namespace) -> int:
    from relance.api.models import OptionalReasonIn

    service = _service()
    view = _call(lambda: service.pause(args.id, OptionalReasonIn(reason=args.reason)), f"invoice {args.id}")
    return _show_invoice(view, args, "mise en pause" if args.lang == "fr" else "paused")


def cmd_invoice_resume(args: argparse.Namespace) -> int:
    service = _service()
    view = _call(lambda: service.resume(args.id), f"invoice {args.id}")
    return _show_invoice(view, args, "reprise" if args.lang == "fr" else "resumed")


def cmd_invoice_write_off(args: argparse.Namespace) -> int:
    from relance.api.models import ReasonIn

    if not args.reason.strip():
        raise RelanceError("a reason is required", where="--reason")
    service = _service()
    view = _call(lambda: service.write_off(args.id, ReasonIn(reason=args.reason)), f"invoice {args.id}")
    return _show_invoice(view, args, "passée en perte" if args.lang == "fr" else "written off")


def cmd_plan_add(args: argparse.Namespace) -> int:
    import pydantic

    from relance.api.models import PlanIn
    from relance.money import parse_amount

    instalments = []
    for text in args.instalment:
        day, sep, amount = text.partition(":")
        if not sep:
            raise RelanceError(f"{text!r} is not DATE:AMOUNT (e.g. 2026-06-30:500.00)", where="--instalment")
        try:
            when = dt.date.fromisoformat(day.strip())
        except ValueError:
            raise RelanceError(f"{day!r} is not a date (YYYY-MM-DD)", where="--instalment") from None
        instalments.append({"date": when.isoformat(), "amount": str(parse_amount(amount.strip(), "--instalment"))})
    try:
        body = PlanIn.model_validate({"instalments": instalments})
    except pydantic.ValidationError as exc:
        from relance.models import describe_pydantic_error

        raise RelanceError(describe_pydantic_error(exc), where="--instalment") from None
    service = _service()
    view = _call(lambda: service.set_plan(args.id, body), f"invoice {args.id}")
    return _show_invoice(view, args, "échéancier enregistré" if args.lang == "fr" else "payment plan set")


def cmd_customer_list(args: argparse.Namespace) -> int:
    from relance.ops.cli import _aws_call, _ledger, _today

    ledger = _ledger()
    today = _today()
    customers = _aws_call(lambda: list(customer_items(ledger.store)))
    rows = _aws_call(lambda: invoice_rows(ledger.store, today))
    owed: dict[str, Decimal] = {}
    count: dict[str, int] = {}
    for r in rows:
        count[r.customer] = count.get(r.customer, 0) + 1
        if r.owed:
            owed[r.customer] = owed.get(r.customer, ZERO) + r.balance
    listing: list[dict[str, Any]]
    listing = sorted(({"id": str(c.get("id", "")), "name": str(c.get("name", "")), "kind": str(c.get("kind", "")),
                       "email": str(c.get("email") or ""), "phone": str(c.get("phone") or ""),
                       "invoices": count.get(str(c.get("id", "")), 0),
                       "owed": owed.get(str(c.get("id", "")), ZERO)} for c in customers), key=lambda c: str(c["id"]))
    if args.json:
        print(json.dumps([{**c, "owed": fmt(c["owed"])} for c in listing], indent=2, ensure_ascii=False))
        return 0
    if not listing:
        print(tr("no customer", args.lang))
        return 0
    lang = args.lang
    headers = [tr(h, lang) for h in ("Customer", "Name", "Kind", "Email", "Phone", "Invoices", "Owed")]
    print(_table(headers, [[c["id"], c["name"], c["kind"], c["email"], c["phone"], str(c["invoices"]),
                            money(c["owed"], lang)] for c in listing], {5, 6}))
    return 0


def cmd_customer_show(args: argparse.Namespace) -> int:
    from relance.ops.cli import _aws_call, _ledger, _today

    service = _service()
    customer = _call(lambda: service.get_customer(args.id), f"customer {args.id}")
    ledger = _ledger()
    rows = _aws_call(lambda: invoice_rows(ledger.store, _today(), customer=args.id))
    data = customer.model_dump(mode="json", exclude_none=True)
    if args.json:
        print(json.dumps({"customer": data, "invoices": [r.as_json() for r in rows],
                          "totals": {k.replace(" ", "_"): fmt(v) for k, v in totals(rows).items()}},
                         indent=2, ensure_ascii=False))
        return 0
    print("\n".join(f"{k}: {v}" for k, v in data.items()))
    print()
    print(render_invoices(rows, args.lang))
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    from relance.ops import preview
    from relance.ops.cli import _aws_call, _date, _ledger, _today

    run_date = _date(args.date, "--date") if args.date else _today() + dt.timedelta(days=1)
    ledger = _ledger()
    planned = _aws_call(lambda: preview.preview(ledger, run_date))
    if args.json:
        print(json.dumps({"date": run_date.isoformat(), "messages": [p.as_json() for p in planned]},
                         indent=2, ensure_ascii=False))
    else:
        print(preview.render(planned, run_date, args.lang))
    return 0


def cmd_partners_check(args: argparse.Namespace) -> int:
    from pathlib import Path

    from relance import runtime
    from relance.escalation import partners

    path = Path(args.file) if args.file else partners.partners_file()
    problems = partners.check_routes(runtime.policies(), partners.load_partners(path))
    if problems:
        raise RelanceError(problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
                           where=str(path))
    print(f"{path}: every route of the policies has a partner")
    return 0


def cmd_letter(args: argparse.Namespace) -> int:
    from relance.escalation import letters
    from relance.ops.cli import _aws_call, _date, _ledger, _today

    today = _today()
    day = _date(args.date, "--date") if args.date else today
    if day > today:
        raise RelanceError(f"{day} is in the future", where="--date")
    ledger = _ledger()
    invoices = _aws_call(lambda: letters.record(ledger, args.target, args.step, args.letter_kind, day,
                                                tracking=getattr(args, "tracking", "") or ""))
    if args.json:
        print(json.dumps({"event": args.letter_kind, "date": day.isoformat(), "step": args.step,
                          "invoices": invoices}, ensure_ascii=False))
    elif args.lang == "fr":
        what = "postée" if args.letter_kind == "letter_posted" else "reçue"
        print(f"Lettre {args.step} {what} le {day.isoformat()} : {', '.join(invoices)}")
    else:
        what = "posted" if args.letter_kind == "letter_posted" else "received"
        print(f"Letter {args.step} {what} on {day.isoformat()}: {', '.join(invoices)}")
    return 0
