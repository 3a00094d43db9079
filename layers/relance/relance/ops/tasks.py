"""``relance task list`` and ``relance task done ID --outcome ...``: the team's calls, closed with what happened.

A task is a step of the ladder sent on the ``task`` channel (the call of the standard policy) that nobody
closed yet. Its id is ``INVOICE:STEP``. Closing it records a ``task_done`` history event with the outcome,
and the ladder follows it:

* ``reached`` / ``no_answer``: noted; the ladder goes on;
* ``promise --until D``: a promise to pay, the reminders pause until D;
* ``dispute --reason R``: a dispute, the reminders pause until it is resolved;
* ``wrong_number``: the phone number is removed from the customer, so no SMS goes to it and the next
  call is a task to find the right number.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from relance.errors import RelanceError
from relance.money import fmt

OUTCOMES = ("reached", "no_answer", "promise", "dispute", "wrong_number")
_FR_OUTCOMES = {"reached": "client joint", "no_answer": "pas de réponse", "promise": "promesse de paiement",
                "dispute": "litige", "wrong_number": "mauvais numéro"}


@dataclass(frozen=True)
class Task:
    id: str
    invoice: str
    customer: str
    step: str
    date: str
    balance: Decimal
    phone: str | None
    name: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "invoice": self.invoice, "customer": self.customer, "name": self.name,
                "phone": self.phone, "step": self.step, "date": self.date, "balance": fmt(self.balance)}


def open_tasks(ledger: Any) -> list[Task]:
    """Every task step sent on an open invoice and not closed yet."""
    from relance.ops.operator import invoice_records

    tasks: list[Task] = []
    names: dict[str, tuple[str, str | None]] = {}
    for record in invoice_records(ledger.store):
        if record.status != "open":
            continue
        steps = [s for s in record.sent if "task" in s.channels and not s.flagged]
        if not steps:
            continue
        closed = {(str(e.get("details", {}).get("step", ""))) for e in ledger.history(record.invoice_id)
                  if e.get("kind") == "task_done"}
        for sent in steps:
            if sent.step in closed:
                continue
            if record.customer_id not in names:
                profile = ledger.store.get_customer_raw(record.customer_id) or {}
                names[record.customer_id] = (str(profile.get("name", record.customer_id)), profile.get("phone"))
            name, phone = names[record.customer_id]
            tasks.append(Task(f"{record.invoice_id}:{sent.step}", record.invoice_id, record.customer_id, sent.step,
                              sent.date.isoformat(), record.balance, phone, name))
    return sorted(tasks, key=lambda t: (t.date, t.customer, t.id))


def close_task(ledger: Any, task_id: str, outcome: str, today: dt.date, *, until: dt.date | None = None,
               reason: str = "") -> dict[str, Any]:
    """Record what the call gave and let the ladder follow it; RelanceError on a bad id or input."""
    invoice_id, sep, step = task_id.partition(":")
    if not sep or not invoice_id or not step:
        raise RelanceError(f"{task_id!r} is not a task id (INVOICE:STEP, as `relance task list` shows)", "ID")
    if outcome not in OUTCOMES:
        raise RelanceError(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}", "--outcome")
    if outcome == "promise" and until is None:
        raise RelanceError("a promise needs --until D", "--until")
    if outcome == "dispute" and not reason.strip():
        raise RelanceError("a dispute needs --reason R", "--reason")
    record = ledger.invoice(invoice_id)
    if not any(s.step == step and "task" in s.channels for s in record.sent):
        raise RelanceError(f"no task {step!r} was sent for this invoice", f"task {task_id}")
    if any(e.get("kind") == "task_done" and e.get("details", {}).get("step") == step
           for e in ledger.history(invoice_id)):
        raise RelanceError("this task is already closed", f"task {task_id}")
    details = {"step": step, "outcome": outcome}
    if until:
        details["until"] = until.isoformat()
    if reason:
        details["reason"] = reason[:500]
    ledger.note(invoice_id, today, "task_done", details)
    if outcome == "promise" and until is not None:
        ledger.record_promise(invoice_id, today, until)
    elif outcome == "dispute":
        ledger.open_dispute(invoice_id, today, reason)
    elif outcome == "wrong_number":
        ledger.update_customer(record.customer_id, {"phone": None})
    return {"task": task_id, **details}


# ---------------------------------------------------------------------------- commands
def register(subparsers: Any) -> None:
    task = subparsers.add_parser("task", help="the team's tasks (calls): list them, close them with the outcome")
    cmds = task.add_subparsers(dest="task_command", required=True)
    lst = cmds.add_parser("list", help="open tasks, with the customer's phone number and what is owed")
    lst.add_argument("--json", action="store_true")
    lst.add_argument("--lang", choices=("fr", "en"), default="fr")
    lst.set_defaults(func=cmd_task_list)
    done = cmds.add_parser("done", help="close a task with what happened; the ladder follows it")
    done.add_argument("id", metavar="ID", help="INVOICE:STEP, as `relance task list` shows")
    done.add_argument("--outcome", required=True, choices=OUTCOMES)
    done.add_argument("--until", metavar="D", help="with --outcome promise: the promised payment date")
    done.add_argument("--reason", default="", metavar="R", help="with --outcome dispute: what is contested")
    done.add_argument("--json", action="store_true")
    done.add_argument("--lang", choices=("fr", "en"), default="fr")
    done.set_defaults(func=cmd_task_done)


def cmd_task_list(args: argparse.Namespace) -> int:
    from relance.ops.cli import _aws_call, _ledger
    from relance.ops.operator import money

    ledger = _ledger()
    tasks = _aws_call(lambda: open_tasks(ledger))
    if args.json:
        print(json.dumps([t.as_json() for t in tasks], indent=2, ensure_ascii=False))
        return 0
    fr = args.lang == "fr"
    if not tasks:
        print("Aucune tâche ouverte." if fr else "No open task.")
        return 0
    for t in tasks:
        phone = t.phone or ("numéro à trouver" if fr else "number to find")
        print(f"{t.id}  {t.date}  {t.name} ({t.customer})  {phone}  {money(t.balance, args.lang)}")
    return 0


def cmd_task_done(args: argparse.Namespace) -> int:
    from relance.ops.cli import _aws_call, _date, _ledger, _today

    until = _date(args.until, "--until") if args.until else None
    ledger = _ledger()
    result = _aws_call(lambda: close_task(ledger, args.id, args.outcome, _today(), until=until, reason=args.reason))
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    elif args.lang == "fr":
        print(f"Tâche {args.id} close : {_FR_OUTCOMES[args.outcome]}")
    else:
        print(f"Task {args.id} closed: {args.outcome.replace('_', ' ')}")
    return 0
