"""report.html of a season, and the figures it shows (shared with the weekly digest).

A plain offline page: inline CSS and SVG, no script, no external asset. Every value that comes from data
(customer names, subjects, reasons) is HTML-escaped; links point only at files under ``sent/``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape
from typing import Any

ZERO = Decimal("0")
BUCKETS = ("not due", "1–30", "31–60", "61–90", "90+")
OWED = ("open", "handed_off", "declined")
RECOVERY_WINDOW_DAYS = 14


@dataclass
class Invoice:
    """An invoice as the report sees it."""

    id: str
    customer: str
    issued: dt.date | None
    due: dt.date | None
    amount: Decimal
    balance: Decimal
    status: str = "open"
    valid: bool = True


@dataclass
class ReportData:
    """Everything a report (or a digest) shows. Built from a season or from the table."""

    title: str
    start: dt.date
    end: dt.date
    customers: dict[str, str]                                      # id -> name
    invoices: list[Invoice]
    lines: list[dict[str, Any]]                                    # log.jsonl lines
    payments: list[tuple[dt.date, str, Decimal]] = field(default_factory=list)
    balances: list[tuple[dt.date, Decimal]] = field(default_factory=list)
    bodies: dict[str, str] = field(default_factory=dict)
    attachments: dict[str, list[str]] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    events: list[tuple[dt.date, str, str, str]] = field(default_factory=list)   # (date, invoice, kind, text)


# ---- figures -------------------------------------------------------------------------------------------
def money(value: Decimal) -> str:
    """1 234,56 € (French grouping, no locale dependency)."""
    q = value.quantize(Decimal("0.01"))
    sign = "-" if q < 0 else ""
    whole, _, cents = f"{abs(q):.2f}".partition(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{sign}{' '.join(groups) or '0'},{cents} €"


def bucket_of(due: dt.date | None, on: dt.date) -> str:
    if due is None or due >= on:
        return BUCKETS[0]
    late = (on - due).days
    if late <= 30:
        return BUCKETS[1]
    if late <= 60:
        return BUCKETS[2]
    if late <= 90:
        return BUCKETS[3]
    return BUCKETS[4]


def aging(invoices: Iterable[Invoice], on: dt.date) -> list[tuple[str, int, Decimal]]:
    """(bucket, invoices, amount owed) for what is still owed on ``on``; every bucket listed."""
    counts: Counter[str] = Counter()
    amounts: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for inv in invoices:
        if inv.valid and inv.status in OWED and inv.balance > 0:
            bucket = bucket_of(inv.due, on)
            counts[bucket] += 1
            amounts[bucket] += inv.balance
    return [(b, counts[b], amounts[b]) for b in BUCKETS]


def dso(invoices: Sequence[Invoice], start: dt.date, end: dt.date) -> Decimal | None:
    """Days sales outstanding: receivables at ``end`` / invoiced over the period x days of the period.

    Invoiced over the period counts the invoices issued from ``start`` to ``end``; when the season has none
    (all were issued before), every invoice of the season counts. None when nothing was invoiced.
    """
    valid = [i for i in invoices if i.valid]
    days = max((end - start).days + 1, 1)
    in_period = [i for i in valid if i.issued and start <= i.issued <= end] or valid
    sales = sum((i.amount for i in in_period), ZERO)
    if sales <= 0:
        return None
    receivables = sum((i.balance for i in valid if i.status in OWED), ZERO)
    return (receivables / sales * days).quantize(Decimal("0.1"))


def recovery_by_step(lines: Sequence[Mapping[str, Any]], payments: Sequence[tuple[dt.date, str, Decimal]],
                     window: int = RECOVERY_WINDOW_DAYS) -> list[tuple[str, int, int, Decimal]]:
    """(step, invoices reminded, followed by a payment within ``window`` days, amount) per step.

    A payment counts for the last step sent on that invoice before it (and within the window), so each
    euro is credited to one step only.
    """
    sent: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
    order: list[str] = []
    reminded: dict[str, set[str]] = defaultdict(set)
    for entry in lines:
        if entry.get("kind") != "sent" or not entry.get("step"):
            continue
        step = str(entry["step"])
        if step not in order:
            order.append(step)
        day = dt.date.fromisoformat(str(entry["date"]))
        for iid in entry.get("invoices", []):
            if (day, step) not in sent[iid]:
                sent[iid].append((day, step))
            reminded[step].add(iid)
    followed: dict[str, set[str]] = defaultdict(set)
    amount: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for day, iid, paid in payments:
        before = [(d, s) for d, s in sent.get(iid, []) if d <= day and (day - d).days <= window]
        if before:
            step = max(before)[1]
            followed[step].add(iid)
            amount[step] += paid
    return [(s, len(reminded[s]), len(followed[s]), amount[s]) for s in order]


def messages_by_step(lines: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, int]]:
    """(step, channel, messages) of the ``sent`` lines, in first-seen step order."""
    counts: Counter[tuple[str, str]] = Counter()
    order: list[str] = []
    for entry in lines:
        if entry.get("kind") == "sent":
            step = str(entry.get("step", ""))
            if step not in order:
                order.append(step)
            counts[(step, str(entry.get("channel", "")))] += 1
    channels = ("email", "sms", "letter", "task")
    return [(s, c, counts[(s, c)]) for s in order for c in channels if counts[(s, c)]]


# ---- HTML ---------------------------------------------------------------------------------------------
CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#1d2433;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:2px solid #e3e7ee;padding-bottom:.3rem}
h3{margin:1.4rem 0 .4rem}.muted{color:#667085}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}th,td{text-align:left;padding:.35rem .6rem;
border-bottom:1px solid #e3e7ee;vertical-align:top}th{background:#f5f7fa;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.kpis{display:flex;gap:1rem;flex-wrap:wrap}.kpi{background:#f5f7fa;border-radius:8px;padding:.7rem 1rem;
min-width:150px}.kpi b{display:block;font-size:1.3rem}
.tag{display:inline-block;border-radius:4px;padding:0 .4rem;font-size:.85em;background:#eef2ff;color:#3538cd}
.k-payment{background:#ecfdf3;color:#067647}.k-quarantined,.k-flagged,.k-rejected{background:#fef3f2;
color:#b42318}.k-paused,.k-dispute{background:#fffaeb;color:#b54708}.k-handed_off,.k-approved{background:#f4f3ff;
color:#5925dc}pre{white-space:pre-wrap;margin:.2rem 0;font:12px/1.4 ui-monospace,monospace;color:#475467}
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()) -> str:
    """An escaped HTML table; ``numeric`` column indexes are right-aligned."""
    head = "".join(f'<th class="num">{_e(h)}</th>' if i in numeric else f"<th>{_e(h)}</th>"
                   for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td class="num">{_e(c)}</td>' if i in numeric else f"<td>{_e(c)}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def aging_table(invoices: Iterable[Invoice], on: dt.date) -> str:
    rows = aging(invoices, on)
    total = (sum(c for _, c, _ in rows), sum((a for _, _, a in rows), ZERO))
    return table(("Days past due", "Invoices", "Owed"),
                 [(b, c, money(a)) for b, c, a in rows] + [("Total", total[0], money(total[1]))], (1, 2))


def balance_svg(series: Sequence[tuple[dt.date, Decimal]], width: int = 1000, height: int = 240) -> str:
    """The outstanding balance over the season as an inline SVG line chart (no script)."""
    if not series:
        return "<p class='muted'>No data.</p>"
    pad_l, pad_r, pad_t, pad_b = 90, 20, 15, 30
    top = max((v for _, v in series), default=ZERO)
    top = top if top > 0 else Decimal("1")
    n = max(len(series) - 1, 1)

    def xy(i: int, v: Decimal) -> tuple[float, float]:
        x = pad_l + (width - pad_l - pad_r) * i / n
        y = pad_t + (height - pad_t - pad_b) * (1 - float(v / top))
        return round(x, 1), round(y, 1)

    points = " ".join(f"{x},{y}" for x, y in (xy(i, v) for i, (_, v) in enumerate(series)))
    area = f"{pad_l},{height - pad_b} {points} {xy(len(series) - 1, ZERO)[0]},{height - pad_b}"
    grid = []
    for k in range(5):
        value = top * k / 4
        _, y = xy(0, value)
        grid.append(f'<line x1="{pad_l}" x2="{width - pad_r}" y1="{y}" y2="{y}" stroke="#e3e7ee"/>'
                    f'<text x="{pad_l - 6}" y="{y + 4}" text-anchor="end" font-size="11" fill="#667085">'
                    f"{_e(money(value))}</text>")
    ticks = []
    for i, (day, _) in enumerate(series):
        if day.day == 1 or i == 0:
            x, _ = xy(i, ZERO)
            ticks.append(f'<text x="{x}" y="{height - 10}" font-size="11" fill="#667085">{_e(day.isoformat())}</text>')
    label = (f"Outstanding balance from {series[0][0]} ({money(series[0][1])}) to {series[-1][0]} "
             f"({money(series[-1][1])})")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{_e(label)}" width="100%"><title>{_e(label)}</title>{"".join(grid)}'
            f'<polygon points="{area}" fill="#dbe4ff" opacity=".6"/>'
            f'<polyline points="{points}" fill="none" stroke="#3538cd" stroke-width="2"/>{"".join(ticks)}</svg>')


def _link(path: str, text: str) -> str:
    # Only files we wrote under sent/ are linked; anything else is shown as text.
    if not path.startswith("sent/") or ".." in path:
        return _e(text)
    return f'<a href="{_e(path)}">{_e(text)}</a>'


def _entry_text(entry: Mapping[str, Any], data: ReportData) -> str:
    kind = str(entry["kind"])
    invoices = ", ".join(entry.get("invoices", []))
    parts = [f'<span class="tag k-{_e(kind)}">{_e(kind.replace("_", " "))}</span>']
    if kind == "sent":
        parts.append(f"{_e(entry.get('step', ''))} by {_e(entry.get('channel', ''))}")
        if entry.get("subject"):
            parts.append(f"“{_e(entry['subject'])}”")
    elif entry.get("step"):
        parts.append(_e(entry["step"]))
    if entry.get("amount"):              # payment / payment_unmatched lines
        parts.append(_e(money(Decimal(str(entry["amount"])))))
        if entry.get("source"):
            parts.append(f"<span class='muted'>via {_e(entry['source'])}</span>")
    if entry.get("answer"):              # debtor_reply lines: what the debtor answered on the page
        parts.append(f"<strong>{_e(entry['answer'])}</strong>")
    if invoices:
        parts.append(f"<span class='muted'>({_e(invoices)})</span>")
    if entry.get("partner"):
        parts.append(f"→ {_e(entry['partner'])}")
    if entry.get("reason"):
        parts.append(f"— {_e(entry['reason'])}")
    if entry.get("file"):
        parts.append(_link(str(entry["file"]), "message"))
        for extra in data.attachments.get(str(entry["file"]), []):
            parts.append(_link(extra, "PDF"))
    body = data.bodies.get(f"{entry['date']}|{entry.get('customer')}|{entry.get('step')}|{entry.get('channel')}")
    if body:
        parts.append(f"<pre>{_e(body[:600])}</pre>")
    return " ".join(parts)


def timelines(data: ReportData) -> str:
    """Per customer: every message, payment, dispute and decision, oldest first."""
    rows: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
    by_invoice = {i.id: i for i in data.invoices}
    for entry in data.lines:
        rows[str(entry.get("customer", ""))].append((str(entry["date"]), 1, _entry_text(entry, data)))
    logged = any(e.get("kind") == "payment" for e in data.lines)    # payments already in the log lines
    for day, iid, paid in ([] if logged else data.payments):
        inv = by_invoice.get(iid)
        if inv:
            html = (f'<span class="tag k-payment">payment</span> {_e(money(paid))} '
                    f"<span class='muted'>({_e(iid)})</span>")
            rows[inv.customer].append((day.isoformat(), 0, html))
    for day, iid, kind, text in data.events:
        inv = by_invoice.get(iid)
        if inv:
            rows[inv.customer].append((day.isoformat(), 0, f'<span class="tag k-{_e(kind)}">{_e(kind)}</span> '
                                                            f"{_e(text)} <span class='muted'>({_e(iid)})</span>"))
    out = []
    for cid in sorted(rows, key=lambda c: (str(data.customers.get(c, c)).lower(), c)):
        invs = [i for i in data.invoices if i.customer == cid]
        owed = sum((i.balance for i in invs if i.valid and i.status in OWED), ZERO)
        out.append(f"<h3>{_e(data.customers.get(cid, cid or 'unknown'))} <span class='muted'>{_e(cid)} · "
                   f"{len(invs)} invoice(s) · owes {_e(money(owed))}</span></h3>")
        out.append("<table><tbody>" + "".join(
            f"<tr><td class='num'>{_e(day)}</td><td>{html}</td></tr>"
            for day, _, html in sorted(rows[cid], key=lambda r: (r[0], r[1]))) + "</tbody></table>")
    return "".join(out)


def render_report(data: ReportData) -> str:
    """The whole report page."""
    valid = [i for i in data.invoices if i.valid]
    invoiced = sum((i.amount for i in valid), ZERO)
    recovered = sum((a for _, _, a in data.payments), ZERO)
    outstanding = sum((i.balance for i in valid if i.status in OWED), ZERO)
    handed = sum(1 for e in data.lines if e["kind"] == "handed_off")
    messages = sum(1 for e in data.lines if e["kind"] == "sent")
    days_sales = dso(data.invoices, data.start, data.end)
    kpis = [("Invoices", str(len(valid))), ("Invoiced", money(invoiced)), ("Recovered", money(recovered)),
            ("Outstanding", money(outstanding)), ("Messages sent", str(messages)), ("Cases handed off", str(handed)),
            ("DSO", f"{days_sales} days" if days_sales is not None else "n/a")]
    recovery = recovery_by_step(data.lines, data.payments)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>{_e(data.title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(data.title)}</h1><p class='muted'>Season {data.start} → {data.end}</p>",
        "<div class='kpis'>" + "".join(f"<div class='kpi'><span class='muted'>{_e(k)}</span><b>{_e(v)}</b></div>"
                                       for k, v in kpis) + "</div>",
        "<h2>Outstanding balance</h2>", balance_svg(data.balances),
        "<h2>Messages by step and channel</h2>",
        table(("Step", "Channel", "Messages"), messages_by_step(data.lines), (2,)),
        f"<h2>Recovery by step</h2><p class='muted'>A payment is credited to the last step sent on that invoice "
        f"in the {RECOVERY_WINDOW_DAYS} days before it.</p>",
        table(("Step", "Invoices reminded", f"Paid within {RECOVERY_WINDOW_DAYS} days", "Recovered"),
              [(s, n, p, money(a)) for s, n, p, a in recovery], (1, 2, 3)),
        "<h2>Customers</h2>", timelines(data),
    ]
    if data.refused:
        parts += ["<h2>Scenario events refused</h2><ul>", *(f"<li>{_e(r)}</li>" for r in data.refused), "</ul>"]
    parts += [f"<h2>Aging on {data.end}</h2>", aging_table(data.invoices, data.end),
              f"<p class='muted'>DSO = receivables on {data.end} ÷ invoiced over the season × days of the season.</p>",
              "</body></html>"]
    return "\n".join(parts)


def from_season(result: Any) -> ReportData:
    """ReportData of a finished SeasonResult (relance.simulate.runner)."""
    scenario = result.scenario
    company = scenario.company.get("name", "")
    title = f"Season report{' – ' + company if company else ''}"
    invoices = [Invoice(f.id, f.customer, f.issued, f.due, f.amount, f.balance, f.status, f.valid)
                for f in result.invoices.values()]
    customers = {cid: str(rec.get("name", cid)) for cid, rec in result.customers.items()}
    events = []
    for event in scenario.events:
        if event.type in ("dispute", "dispute_resolved", "promise") and event.invoice:
            text = {"dispute": f"dispute opened: {event.reason}", "dispute_resolved": "dispute resolved",
                    "promise": f"promise to pay by {event.until}"}[event.type]
            events.append((event.date, event.invoice, "dispute" if "dispute" in event.type else "promise", text))
    return ReportData(title, scenario.start, scenario.end, customers, invoices, result.lines, result.payments,
                      result.balances, result.bodies, result.attachments, result.refused, events)
