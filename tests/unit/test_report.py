"""The figures and the HTML of the season report (shared with the weekly digest)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from relance.reporting.figures import Invoice, aging, money
from relance_dev.simulate.report import ReportData, balance_svg, dso, recovery_by_step, render_report

D = dt.date
HOSTILE = '<img src=x onerror="alert(1)">&Co'


def inv(iid: str, due: D, balance: str, status: str = "open", amount: str = "100.00") -> Invoice:
    return Invoice(iid, "C1", D(2026, 3, 1), due, Decimal(amount), Decimal(balance), status)


def test_money_is_french() -> None:
    assert money(Decimal("1234567.5")) == "1 234 567,50 €"
    assert money(Decimal("0")) == "0,00 €"


def test_aging_buckets() -> None:
    on = D(2026, 6, 30)
    rows = aging([inv("a", D(2026, 7, 1), "10"), inv("b", D(2026, 6, 20), "20"), inv("c", D(2026, 5, 15), "30"),
                  inv("d", D(2026, 4, 10), "40"), inv("e", D(2026, 3, 1), "50"), inv("f", D(2026, 3, 1), "0"),
                  inv("g", D(2026, 3, 1), "70", status="paid")], on)
    assert rows == [("not due", 1, Decimal("10")), ("1–30", 1, Decimal("20")), ("31–60", 1, Decimal("30")),
                    ("61–90", 1, Decimal("40")), ("90+", 1, Decimal("50"))]


def test_dso() -> None:
    invoices = [inv("a", D(2026, 4, 1), "50", amount="100"), inv("b", D(2026, 4, 1), "0", "paid", "100")]
    assert dso(invoices, D(2026, 3, 1), D(2026, 3, 30)) == Decimal("7.5")     # 50 / 200 x 30 days
    assert dso([], D(2026, 3, 1), D(2026, 3, 30)) is None


def test_recovery_credits_the_last_step_within_the_window() -> None:
    lines = [{"date": "2026-04-01", "kind": "sent", "step": "due", "channel": "email", "invoices": ["A", "B"]},
             {"date": "2026-04-08", "kind": "sent", "step": "call", "channel": "email", "invoices": ["A"]},
             {"date": "2026-04-08", "kind": "sent", "step": "call", "channel": "task", "invoices": ["A"]}]
    payments = [(D(2026, 4, 10), "A", Decimal("100")), (D(2026, 5, 30), "B", Decimal("50"))]
    assert recovery_by_step(lines, payments) == [("due", 2, 0, Decimal("0")), ("call", 1, 1, Decimal("100"))]


def test_the_page_escapes_everything_and_loads_nothing() -> None:
    data = ReportData(title=HOSTILE, start=D(2026, 4, 1), end=D(2026, 4, 30), customers={"C1": HOSTILE},
                      invoices=[inv("A1", D(2026, 4, 10), "100")],
                      lines=[{"date": "2026-04-10", "kind": "sent", "customer": "C1", "invoices": ["A1"],
                              "step": "due", "channel": "email", "subject": HOSTILE, "file": "sent/x.eml"},
                             {"date": "2026-04-11", "kind": "paused", "customer": "C1", "invoices": ["A1"],
                              "reason": HOSTILE, "file": "../../etc/passwd"}],
                      payments=[(D(2026, 4, 20), "A1", Decimal("10"))],
                      balances=[(D(2026, 4, 1), Decimal("100")), (D(2026, 4, 30), Decimal("90"))])
    html = render_report(data)
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;Co" in html
    assert 'href="sent/x.eml"' in html and "etc/passwd\"" not in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert "<script" not in html and "<svg" in html


def test_svg_handles_flat_and_empty_series() -> None:
    assert "<svg" in balance_svg([(D(2026, 4, 1), Decimal("0")), (D(2026, 4, 2), Decimal("0"))])
    assert "No data" in balance_svg([])
