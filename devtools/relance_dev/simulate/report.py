"""report.html of a season, and the figures it shows (those shared with the weekly digest are in
:mod:`relance.reporting`).

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

from relance.reporting import stylesheet
from relance.reporting.figures import OWED, WRITTEN_OFF, ZERO, Invoice, aging, money
from relance.reporting.labels import step_name, t

RECOVERY_WINDOW_DAYS = 14



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

    A payment counts for the last step sent on that invoice before its day (and within the window), so each
    euro is credited to one step only. A day's payments are booked before that day's run, so what the run
    sends that day (the statement of penalties left after a late payment, say) comes after the payment.
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
        before = [(d, s) for d, s in sent.get(iid, []) if d < day and (day - d).days <= window]
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
CSS = "\n" + stylesheet()


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()) -> str:
    """An escaped HTML table; ``numeric`` column indexes are right-aligned."""
    head = "".join(f'<th class="num">{_e(h)}</th>' if i in numeric else f"<th>{_e(h)}</th>"
                   for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td class="num">{_e(c)}</td>' if i in numeric else f"<td>{_e(c)}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def aging_table(invoices: Iterable[Invoice], on: dt.date, lang: str = "en") -> str:
    rows = aging(invoices, on)
    total = (sum(c for _, c, _ in rows), sum((a for _, _, a in rows), ZERO))
    return table((t("Days past due", lang), t("Invoices", lang), t("Owed", lang)),
                 [(t(b, lang), c, money(a)) for b, c, a in rows] + [(t("Total", lang), total[0], money(total[1]))],
                 (1, 2))


def balance_svg(series: Sequence[tuple[dt.date, Decimal]], width: int = 1000, height: int = 240,
                lang: str = "en") -> str:
    """The outstanding balance over the season as an inline SVG line chart (no script)."""
    if not series:
        return f"<p class='muted'>{_e(t('No data.', lang))}</p>"
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
    last_x = -1000.0
    for i, (day, _) in enumerate(series):
        if day.day in (1, 15) or i == 0:
            x, _ = xy(i, ZERO)
            if x - last_x < 70:        # labels never overlap: ~60 px per label at 11 px
                continue
            last_x = x
            ticks.append(f'<line x1="{x}" x2="{x}" y1="{height - pad_b}" y2="{height - pad_b + 4}" '
                         f'stroke="#98a2b3"/><text x="{x}" y="{height - 10}" font-size="11" fill="#667085" '
                         f'text-anchor="middle">{_e(day.strftime("%d/%m"))}</text>')
    label = (f"{t('Outstanding balance', lang)} : {series[0][0]} ({money(series[0][1])}) → {series[-1][0]} "
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


def _entry_text(entry: Mapping[str, Any], data: ReportData, lang: str = "en") -> str:
    kind = str(entry["kind"])
    invoices = ", ".join(entry.get("invoices", []))
    parts = [f'<span class="tag k-{_e(kind)}">{_e(t(kind, lang).replace("_", " "))}</span>']
    if kind == "sent":
        parts.append(f"{_e(step_name(str(entry.get('step', '')), lang))} {t('by', lang)} "
                     f"{_e(t(str(entry.get('channel', '')), lang))}")
        if entry.get("subject"):
            parts.append(f"“{_e(entry['subject'])}”")
    elif entry.get("step"):
        parts.append(_e(step_name(str(entry["step"]), lang)))
    if entry.get("amount"):              # payment / payment_unmatched lines
        parts.append(_e(money(Decimal(str(entry["amount"])))))
        if entry.get("source"):
            parts.append(f"<span class='muted'>{_e(t('via', lang))} {_e(t(str(entry['source']), lang))}</span>")
    if entry.get("answer"):              # debtor_reply lines: what the debtor answered on the page
        parts.append(f"<strong>{_e(entry['answer'])}</strong>")
    if invoices:
        parts.append(f"<span class='muted'>({_e(invoices)})</span>")
    if entry.get("partner"):
        parts.append(f"→ {_e(entry['partner'])}")
    if entry.get("reason"):
        parts.append(f"— {_e(entry['reason'])}")
    if entry.get("file"):
        parts.append(_link(str(entry["file"]), t("message", lang)))
        for extra in data.attachments.get(str(entry["file"]), []):
            parts.append(_link(extra, "PDF"))
    body = data.bodies.get(f"{entry['date']}|{entry.get('customer')}|{entry.get('step')}|{entry.get('channel')}")
    if body:
        parts.append(f"<pre>{_e(body[:600])}</pre>")
    return " ".join(parts)


def timelines(data: ReportData, lang: str = "en") -> str:
    """Per customer: every message, payment, dispute and decision, oldest first."""
    rows: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
    by_invoice = {i.id: i for i in data.invoices}
    for entry in data.lines:
        rows[str(entry.get("customer", ""))].append((str(entry["date"]), 1, _entry_text(entry, data, lang)))
    logged = any(e.get("kind") == "payment" for e in data.lines)    # payments already in the log lines
    for day, iid, paid in ([] if logged else data.payments):
        inv = by_invoice.get(iid)
        if inv:
            html = (f'<span class="tag k-payment">{_e(t("payment", lang))}</span> {_e(money(paid))} '
                    f"<span class='muted'>({_e(iid)})</span>")
            rows[inv.customer].append((day.isoformat(), 0, html))
    for day, iid, kind, text in data.events:
        inv = by_invoice.get(iid)
        if inv:
            rows[inv.customer].append((day.isoformat(), 0, f'<span class="tag k-{_e(kind)}">{_e(t(kind, lang))}'
                                                            f"</span> {_e(text)} <span class='muted'>({_e(iid)})"
                                                            "</span>"))
    out = []
    for cid in sorted(rows, key=lambda c: (str(data.customers.get(c, c)).lower(), c)):
        invs = [i for i in data.invoices if i.customer == cid]
        owed = sum((i.balance for i in invs if i.valid and i.status in OWED), ZERO)
        deciding = sum((i.balance for i in invs if i.valid and i.status == "open" and i.to_decide), ZERO)
        count = f"{len(invs)} {t('invoice' if len(invs) == 1 else 'invoices', lang)}"
        decide = f" ({t('To decide', lang).lower()} {_e(money(deciding))})" if deciding else ""
        out.append(f"<h3>{_e(data.customers.get(cid, cid or 'unknown'))} <span class='muted'>{_e(cid)} · "
                   f"{count} · {t('owes', lang)} {_e(money(owed))}{decide}</span></h3>")
        out.append("<table><tbody>" + "".join(
            f"<tr><td class='num'>{_e(day)}</td><td>{html}</td></tr>"
            for day, _, html in sorted(rows[cid], key=lambda r: (r[0], r[1]))) + "</tbody></table>")
    return "".join(out)


def render_report(data: ReportData, lang: str = "fr") -> str:
    """The whole report page, in French unless ``lang="en"``."""
    valid = [i for i in data.invoices if i.valid]
    invoiced = sum((i.amount for i in valid), ZERO)
    recovered = sum((a for _, _, a in data.payments), ZERO)
    outstanding = sum((i.balance for i in valid if i.status in OWED), ZERO)
    written_off = sum((i.balance for i in valid if i.status in WRITTEN_OFF), ZERO)
    deciding = sum((i.balance for i in valid if i.status == "open" and i.to_decide), ZERO)
    handed = sum(1 for e in data.lines if e["kind"] == "handed_off")
    messages = sum(1 for e in data.lines if e["kind"] == "sent")
    days = max((data.end - data.start).days + 1, 1)
    # DSO on the figures the cards show: outstanding ÷ invoiced × days of the season
    days_sales = (outstanding / invoiced * days).quantize(Decimal("0.1")) if invoiced > 0 else None
    kpis = [("Invoices", str(len(valid))), ("Invoiced", money(invoiced)), ("Recovered", money(recovered)),
            ("Written off", money(written_off)), ("Outstanding", money(outstanding)),
            ("To decide", money(deciding)), ("Messages sent", str(messages)), ("Cases handed off", str(handed)),
            ("DSO", (f"{days_sales} {t('days', lang)}".replace(".", "," if lang == "fr" else ".")
                     if days_sales is not None else "n/a"))]
    recovery = recovery_by_step(data.lines, data.payments)
    title = data.title
    if lang == "fr" and title.startswith("Season report"):
        title = t("Season report", lang) + title.removeprefix("Season report")
    parts = [
        f"<!doctype html><html lang='{_e(lang)}'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1><p class='muted'>{t('Season', lang)} {data.start} → {data.end}</p>",
        "<div class='kpis'>" + "".join(f"<div class='kpi'><span class='muted'>{_e(t(k, lang))}</span>"
                                       f"<b>{_e(v)}</b></div>" for k, v in kpis) + "</div>",
        f"<h2>{t('Outstanding balance', lang)}</h2>", balance_svg(data.balances, lang=lang),
        f"<h2>{t('Messages by step and channel', lang)}</h2>",
        table((t("Step", lang), t("Channel", lang), t("Messages", lang)),
              [(step_name(s_, lang), t(c, lang), n) for s_, c, n in messages_by_step(data.lines)], (2,)),
        f"<h2>{t('Recovery by step', lang)}</h2><p class='muted'>"
        f"{_e(t('credit_note', lang).format(n=RECOVERY_WINDOW_DAYS))}</p>",
        table((t("Step", lang), t("Invoices reminded", lang),
               f"{t('Recovered within', lang)} {RECOVERY_WINDOW_DAYS} {t('days', lang)}", t("Recovered", lang)),
              [(step_name(s_, lang), n, p, money(a)) for s_, n, p, a in recovery], (1, 2, 3)),
        f"<h2>{t('Customers', lang)}</h2>", timelines(data, lang),
    ]
    if data.refused:
        parts += [f"<h2>{t('Scenario events refused', lang)}</h2><ul>",
                  *(f"<li>{_e(r)}</li>" for r in data.refused), "</ul>"]
    parts += [f"<h2>{t('Aging on', lang)} {data.end}</h2>", aging_table(data.invoices, data.end, lang),
              f"<p class='muted'>{_e(t('dso_note', lang).format(end=data.end, days=days))}</p>",
              "</body></html>"]
    return "\n".join(parts)


def from_season(result: Any) -> ReportData:
    """ReportData of a finished SeasonResult (relance_dev.simulate.runner)."""
    scenario = result.scenario
    company = scenario.company.get("name", "")
    title = f"Season report{' – ' + company if company else ''}"
    invoices = [Invoice(f.id, f.customer, f.issued, f.due, f.amount, f.balance, f.status, f.valid, f.to_decide)
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
