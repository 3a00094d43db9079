"""The weekly digest's mail, rendered from relance/reporting/templates (no AWS: the figures are given)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from relance.reporting.digest import Digest
from relance.reporting.figures import Invoice

HOSTILE = '<img src=x onerror="alert(1)">&Co'


def digest() -> Digest:
    d = Digest(dt.date(2026, 4, 13), dt.date(2026, 4, 19), "Menuiserie <SAS>")
    d.customers = {"C1": HOSTILE}
    d.invoices = [Invoice("A1", "C1", dt.date(2026, 3, 1), dt.date(2026, 4, 1), Decimal("1000"), Decimal("1234.5")),
                  Invoice("A2", "C1", dt.date(2026, 1, 1), dt.date(2026, 1, 10), Decimal("80"), Decimal("80"),
                          "paid")]
    d.messages = [("2026-04-16", "C1", "A1", "due", "email")]
    d.payments = [("2026-04-17", "C1", "A1", Decimal("400.00")), ("2026-04-18", "C9", "B1", Decimal("0.5"))]
    d.flagged = [("2026-04-18", "C1", "A1", "claimed & never recorded")]
    d.approvals = [("2026-04-25", "C1-case")]
    return d


def test_subject_counts_the_week_in_french() -> None:
    assert digest().subject == ("Menuiserie <SAS> – relances, semaine du 13/04/2026 : 1 envoi, 2 paiements, "
                                "1 à vérifier")


def test_text_sums_payments_and_lists_every_aging_bucket() -> None:
    lines = digest().text().splitlines()
    assert lines[0] == "Menuiserie <SAS> – relances de la semaine, du 13/04/2026 au 19/04/2026"
    assert "Paiements : 2 (400,50 €)" in lines
    assert lines[-5:] == ["  non échu     0  0,00 €", "  1–30         1  1 234,50 €", "  31–60        0  0,00 €",
                          "  61–90        0  0,00 €", "  90+          0  0,00 €"]


def test_html_escapes_data_and_formats_amounts() -> None:
    html = digest().html()
    assert HOSTILE not in html and "&lt;img src=x onerror=" in html
    assert "<h1>Menuiserie &lt;SAS&gt; – relances de la semaine</h1>" in html
    assert '<td class="num">400,00 €</td>' in html and "<td>C9</td>" in html      # unknown customer: its id
    assert "claimed &amp; never recorded" in html and "<td>C1-case</td>" in html
    assert '<td>Total</td><td class="num">1</td><td class="num">1 234,50 €</td>' in html
    assert html.startswith("<!doctype html>") and html.endswith("</body></html>")
