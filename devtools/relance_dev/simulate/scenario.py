"""The scenario of a simulated season (DESIGN.md, ``relance simulate``): parsed and checked with line numbers.

Two kinds of problems, on purpose:

* a scenario that cannot be run as written (unknown key, bad or out-of-season date, an event naming an
  invoice or customer the scenario does not declare, a policy that does not validate) is a
  :class:`ScenarioError` listing every ``FILE:LINE: message``; the CLI exits 2;
* an invoice or customer whose *data* is bad (negative amount, unknown customer, impossible due date...)
  is part of the season: it goes in as bad data and comes out quarantined with its reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from relance.errors import PolicyError, RelanceError
from relance.policy import Policy, load_policy
from relance.policy.loader import LineDict, LineList, YamlProblem

TOP_KEYS = ("name", "description", "start", "end", "policy", "company", "customers", "invoices", "events")
COMPANY_KEYS = {
    "name": "CompanyName", "email": "SenderEmail", "reply_to": "ReplyToEmail", "siren": "CompanySiren",
    "address": "CompanyAddress", "iban": "CompanyIban", "bic": "CompanyBic", "team_email": "TeamEmail",
    "approver_email": "ApproverEmail", "sms_sender_id": "SmsSenderId",
    "legal_form": "CompanyLegalForm", "share_capital": "CompanyShareCapital", "rcs_city": "CompanyRcsCity",
    "signatory": "CompanySignatory", "signatory_title": "CompanySignatoryTitle",
    "mediator_name": "MediatorName", "mediator_address": "MediatorAddress", "mediator_website": "MediatorWebsite",
}
CUSTOMER_KEYS = ("id", "name", "kind", "email", "phone", "address", "language", "segment", "policy", "siren")
INVOICE_KEYS = ("id", "customer", "issued", "due", "amount", "balance", "currency", "status", "delivered",
                "contract_rate")
# Event type -> (required keys, optional keys), beside ``date`` and ``type``.
EVENT_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "payment": (("invoice", "amount"), ("reference",)),
    "dispute": (("invoice",), ("reason",)),
    "dispute_resolved": (("invoice",), ()),
    "promise": (("invoice", "until"), ()),
    "approve": (("customer",), ("note",)),
    "reject": (("customer",), ("note", "reason")),
    "outage": ((), ()),
    "duplicate_run": ((), ()),
    "crash": (("point",), ()),
    "bank_statement": (("file",), ()),     # a statement dropped under statements/ of the bucket
    # the debtor follows the link of the latest message received: paid | dispute (reason) | promise (until)
    "debtor_reply": (("customer", "answer"), ("reason", "until", "reference")),
}
DEBTOR_ANSWERS = ("paid", "dispute", "promise")
CRASH_POINTS = ("after_send", "after_record")
MAX_DAYS = 3 * 366


class ScenarioError(RelanceError):
    """The scenario cannot be run; ``errors`` holds every ``FILE:LINE: message``."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(errors[0] if errors else "invalid scenario")
        self.errors = errors


@dataclass(frozen=True)
class Event:
    """One scenario event, applied on ``date`` before that day's run."""

    date: dt.date
    type: str
    line: int
    invoice: str | None = None
    customer: str | None = None
    amount: Decimal | None = None
    until: dt.date | None = None
    reason: str = ""
    point: str = ""
    reference: str | None = None
    file: Path | None = None               # bank_statement: the statement file on disk
    answer: str = ""                       # debtor_reply: paid | dispute | promise


@dataclass(frozen=True)
class Scenario:
    """A validated scenario. ``customers``/``invoices`` are the records as written (plain values)."""

    path: Path
    start: dt.date
    end: dt.date
    policy_path: Path
    policy: Policy
    company: dict[str, str]
    customers: list[dict[str, Any]]
    invoices: list[dict[str, Any]]
    events: list[Event]
    lines: dict[str, int] = field(default_factory=dict)   # "invoice A1" / "customer C1" -> line

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def events_on(self, day: dt.date) -> list[Event]:
        return [e for e in self.events if e.date == day]

    def parameters(self) -> dict[str, str]:
        """Template parameters from ``company`` (the rest keeps the embedded AWS's defaults)."""
        params = {COMPANY_KEYS[k]: v for k, v in self.company.items()}
        if "email" in self.company and "reply_to" not in self.company:
            params["ReplyToEmail"] = self.company["email"]
        params["DefaultPolicy"] = self.policy.name
        return params


class _Errors:
    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: list[str] = []

    def add(self, line: int, message: str) -> None:
        self.lines.append(f"{self.name}:{line}: {message}")


def _plain(value: Any) -> Any:
    """LineDict/LineList -> dict/list; dates stay dates, the rest as written."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _line(mapping: Any, key: str | None = None) -> int:
    if isinstance(mapping, LineDict):
        return mapping.line_of(key) if key else mapping.line
    return 1


def load_scenario(path: Path | str, base: Path | None = None) -> Scenario:
    """Read and check a scenario file; relative paths in it resolve from ``base`` (default: the cwd)."""
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([f"{name}: cannot read the scenario ({getattr(exc, 'strerror', None) or exc})"]
                            ) from None
    return parse_scenario(text, name, base or Path.cwd())


class _Loader(yaml.SafeLoader):
    """The safe loader without implicit timestamps: dates stay text and are checked by us, so an impossible
    date (``2026-02-30``) in an invoice is bad data to quarantine, not a crash of the YAML parser."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def parse_yaml(text: str) -> tuple[Any, list[YamlProblem]]:
    """Like relance.policy.loader.parse_yaml (lines kept, duplicate keys reported), dates kept as text."""
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            what = " ".join(part for part in (exc.context, exc.problem) if part)
            raise YamlProblem(mark.line + 1 if mark else 1, f"YAML syntax error: {what}") from None
        except yaml.YAMLError as exc:
            raise YamlProblem(1, f"YAML syntax error: {exc}") from None
        problems: list[YamlProblem] = []
        return (_build(loader, node, problems, 0) if node is not None else None), problems
    finally:
        loader.dispose()


def _build(loader: yaml.SafeLoader, node: yaml.Node, problems: list[YamlProblem], depth: int) -> Any:
    line = node.start_mark.line + 1
    if depth > 20:
        raise YamlProblem(line, "YAML nesting is too deep")
    if isinstance(node, yaml.MappingNode):
        mapping = LineDict()
        mapping.line, mapping.key_lines = line, {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True) if isinstance(key_node, yaml.ScalarNode) else None
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, str) or key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(YamlProblem(key_line, "keys must be words"))
                continue
            if key in mapping:
                problems.append(YamlProblem(key_line, f"duplicate key '{key}' (first at line "
                                                      f"{mapping.key_lines[key]})"))
                continue
            mapping.key_lines[key] = key_line
            mapping[key] = _build(loader, value_node, problems, depth + 1)
        return mapping
    if isinstance(node, yaml.SequenceNode):
        sequence = LineList()
        sequence.line, sequence.item_lines = line, []
        for item in node.value:
            sequence.item_lines.append(item.start_mark.line + 1)
            sequence.append(_build(loader, item, problems, depth + 1))
        return sequence
    try:
        return loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError) as exc:
        raise YamlProblem(line, f"YAML value error: {getattr(exc, 'problem', None) or exc}") from None


def parse_scenario(text: str, name: str = "<scenario>", base: Path | None = None) -> Scenario:
    """Parse a scenario text; raises ScenarioError with every problem found."""
    errors = _Errors(name)
    try:
        doc, problems = parse_yaml(text)
    except YamlProblem as exc:
        raise ScenarioError([f"{name}:{exc.line}: {exc.message}"]) from None
    for problem in problems:
        errors.add(problem.line, problem.message)
    if not isinstance(doc, LineDict):
        raise ScenarioError([f"{name}:1: a scenario is a mapping with start, end, policy, customers, invoices"])
    for key in doc:
        if key not in TOP_KEYS:
            errors.add(doc.line_of(key), f"unknown key '{key}' (expected one of: {', '.join(TOP_KEYS)})")
    start, end = _date(doc.get("start")), _date(doc.get("end"))
    for key, value in (("start", start), ("end", end)):
        if value is None:
            errors.add(doc.line_of(key), f"'{key}' must be a date (YYYY-MM-DD), got {doc.get(key)!r}")
    if start and end:
        if end < start:
            errors.add(doc.line_of("end"), f"end {end} is before start {start}")
        elif (end - start).days > MAX_DAYS:
            errors.add(doc.line_of("end"), f"a season is at most {MAX_DAYS} days long")

    policy = None
    policy_path = Path(".")
    raw_policy = doc.get("policy")
    if not isinstance(raw_policy, str) or not raw_policy.strip():
        errors.add(doc.line_of("policy"), "'policy' must name a policy file (e.g. policies/standard.yaml)")
    else:
        policy_path = Path(raw_policy)
        if not policy_path.is_absolute():
            policy_path = (base or Path.cwd()) / policy_path
        if not policy_path.is_file():
            errors.add(doc.line_of("policy"), f"policy file {raw_policy} not found (relative paths resolve "
                                              f"from the current folder)")
        else:
            try:
                policy = load_policy(policy_path)
            except PolicyError as exc:
                errors.lines.extend(exc.errors)

    company = _company(doc.get("company"), _line(doc, "company"), errors)
    customers, lines = _records(doc, "customers", CUSTOMER_KEYS, "customer", errors)
    invoices, inv_lines = _records(doc, "invoices", INVOICE_KEYS, "invoice", errors)
    lines.update(inv_lines)
    events = _events(doc.get("events"), _line(doc, "events"), start, end,
                     {str(c.get("id")) for c in customers}, {str(i.get("id")) for i in invoices}, errors,
                     base or Path.cwd())
    if errors.lines or policy is None or start is None or end is None:
        raise ScenarioError(errors.lines or [f"{name}:1: invalid scenario"])
    return Scenario(Path(name), start, end, policy_path, policy, company, customers, invoices, events, lines)


def _company(value: Any, line: int, errors: _Errors) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, LineDict):
        errors.add(line, "'company' must be a mapping like {name: ..., email: ...}")
        return {}
    company: dict[str, str] = {}
    for key, item in value.items():
        if key not in COMPANY_KEYS:
            errors.add(value.line_of(key), f"unknown company key '{key}' (expected one of: "
                                           f"{', '.join(COMPANY_KEYS)})")
        elif not isinstance(item, str | int) or isinstance(item, bool):
            errors.add(value.line_of(key), f"company '{key}' must be text")
        else:
            company[key] = str(item)
    return company


def _records(doc: LineDict, key: str, allowed: tuple[str, ...], what: str, errors: _Errors
             ) -> tuple[list[dict[str, Any]], dict[str, int]]:
    value = doc.get(key)
    if value is None:
        return [], {}
    if not isinstance(value, LineList):
        errors.add(doc.line_of(key), f"'{key}' must be a list of {what} records")
        return [], {}
    records: list[dict[str, Any]] = []
    lines: dict[str, int] = {}
    for index, item in enumerate(value):
        line = value.line_of(index)
        if not isinstance(item, LineDict):
            errors.add(line, f"each {what} must be a mapping like {{id: ..., ...}}")
            continue
        record_id = item.get("id")
        if not isinstance(record_id, str | int) or isinstance(record_id, bool) or not str(record_id).strip():
            errors.add(item.line, f"{what} #{index + 1} has no 'id'")
            continue
        rid = str(record_id)
        for field_name in item:
            if field_name not in allowed:
                errors.add(item.line_of(field_name), f"{what} {rid}: unknown key '{field_name}' "
                                                     f"(expected one of: {', '.join(allowed)})")
        if f"{what} {rid}" in lines:
            errors.add(item.line, f"{what} {rid} is declared twice (first at line {lines[f'{what} {rid}']})")
            continue
        lines[f"{what} {rid}"] = item.line
        record = _plain(item)
        record["id"] = rid
        # Dates written bare in YAML become dates; the ledger wants them as text, like an import would.
        records.append({k: v.isoformat() if isinstance(v, dt.date) else v for k, v in record.items()})
    return records, lines


def _statement_file(value: Any, base: Path) -> Path | None:
    """A bank_statement's file: relative paths resolve from the current folder (DESIGN.md)."""
    if not isinstance(value, str) or not value.strip():
        return None
    path = Path(value)
    return path if path.is_absolute() else base / path


def _events(value: Any, line: int, start: dt.date | None, end: dt.date | None, customers: set[str],
            invoices: set[str], errors: _Errors, base: Path | None = None) -> list[Event]:
    if value is None:
        return []
    if not isinstance(value, LineList):
        errors.add(line, "'events' must be a list of {date: ..., type: ...}")
        return []
    events: list[Event] = []
    for index, item in enumerate(value):
        where = value.line_of(index)
        if not isinstance(item, LineDict):
            errors.add(where, "each event must be a mapping like {date: ..., type: ...}")
            continue
        kind = item.get("type")
        if kind not in EVENT_KEYS:
            errors.add(item.line_of("type"), f"unknown event type {kind!r} (expected one of: "
                                             f"{', '.join(EVENT_KEYS)})")
            continue
        required, optional = EVENT_KEYS[kind]
        ok = True
        for key in item:
            if key not in ("date", "type", *required, *optional):
                errors.add(item.line_of(key), f"{kind} event: unknown key '{key}' (expected: "
                                              f"{', '.join(('date', 'type', *required, *optional))})")
                ok = False
        for key in required:
            if key not in item:
                errors.add(item.line, f"{kind} event: missing '{key}'")
                ok = False
        day = _date(item.get("date"))
        if day is None:
            errors.add(item.line_of("date"), f"{kind} event: 'date' must be a date (YYYY-MM-DD), "
                                             f"got {item.get('date')!r}")
            ok = False
        elif start and end and not start <= day <= end:
            errors.add(item.line_of("date"), f"{kind} event on {day} is outside the season ({start} to {end})")
            ok = False
        invoice = str(item["invoice"]) if "invoice" in item else None
        if invoice is not None and invoice not in invoices:
            errors.add(item.line_of("invoice"), f"{kind} event: invoice {invoice} is not in 'invoices'")
            ok = False
        customer = str(item["customer"]) if "customer" in item else None
        if customer is not None and customer not in customers:
            errors.add(item.line_of("customer"), f"{kind} event: customer {customer} is not in 'customers'")
            ok = False
        amount = None
        if "amount" in item:
            try:
                amount = Decimal(str(item["amount"]))
                if not amount.is_finite() or amount <= 0:
                    raise InvalidOperation
            except InvalidOperation:
                errors.add(item.line_of("amount"), f"{kind} event: amount must be a positive number like "
                                                   f"\"900.00\", got {item['amount']!r}")
                ok = False
        until = None
        if "until" in item:
            until = _date(item["until"])
            if until is None or (day is not None and until < day):
                errors.add(item.line_of("until"), f"{kind} event: 'until' must be a date on or after the event")
                ok = False
        point = str(item.get("point", ""))
        if kind == "crash" and point not in CRASH_POINTS:
            errors.add(item.line_of("point"), f"crash event: point must be one of {', '.join(CRASH_POINTS)}")
            ok = False
        statement = None
        if kind == "bank_statement":
            statement = _statement_file(item.get("file"), base or Path.cwd())
            if statement is None or not statement.is_file():
                errors.add(item.line_of("file"), f"bank_statement event: file {item.get('file')!r} not found "
                                                 "(relative paths resolve from the current folder)")
                ok = False
        answer = str(item.get("answer", ""))
        if kind == "debtor_reply":
            if answer not in DEBTOR_ANSWERS:
                errors.add(item.line_of("answer"), f"debtor_reply event: answer must be one of "
                                                   f"{', '.join(DEBTOR_ANSWERS)}, got {item.get('answer')!r}")
                ok = False
            elif answer == "promise" and "until" not in item:
                errors.add(item.line, "debtor_reply event: a promise needs 'until' (the date the debtor will pay)")
                ok = False
            elif answer == "dispute" and not str(item.get("reason", "")).strip():
                errors.add(item.line, "debtor_reply event: a dispute needs 'reason'")
                ok = False
        if ok and day is not None:
            reason = item.get("reason", item.get("note", ""))
            events.append(Event(day, str(kind), item.line, invoice, customer, amount, until,
                                str(reason or ""), point, item.get("reference"), statement, answer))
    events.sort(key=lambda e: (e.date, e.line))
    return events
