"""The scenario event ``debtor_reply`` (DESIGN.md): parsed, and refused with file and line when wrong."""

from __future__ import annotations

import datetime as dt

from test_scenario import GOOD, REPO, errors_of

from relance_dev.simulate.log import line
from relance_dev.simulate.scenario import parse_scenario


def test_debtor_replies_parse() -> None:
    text = GOOD + ("  - {date: 2026-04-24, type: debtor_reply, customer: C1, answer: promise, until: 2026-05-12}\n"
                   "  - {date: 2026-04-25, type: debtor_reply, customer: C1, answer: dispute, reason: Faux}\n"
                   "  - {date: 2026-04-26, type: debtor_reply, customer: C1, answer: paid, reference: VIR 1}\n")
    events = [e for e in parse_scenario(text, "s.yaml", REPO).events if e.type == "debtor_reply"]
    assert [(e.answer, e.until, e.reason, e.reference) for e in events] == [
        ("promise", dt.date(2026, 5, 12), "", None), ("dispute", None, "Faux", None), ("paid", None, "", "VIR 1")]


def test_bad_debtor_replies_name_the_line() -> None:
    text = GOOD + ("  - {date: 2026-04-24, type: debtor_reply, customer: C1, answer: maybe}\n"
                   "  - {date: 2026-04-24, type: debtor_reply, customer: C1, answer: promise}\n"
                   "  - {date: 2026-04-24, type: debtor_reply, customer: C1, answer: dispute}\n"
                   "  - {date: 2026-04-24, type: debtor_reply, customer: C9, answer: paid}\n"
                   "  - {date: 2026-04-24, type: debtor_reply, answer: paid}\n")
    found = errors_of(text)
    assert any(e.startswith("s.yaml:10: debtor_reply event: answer must be one of paid, dispute, promise")
               for e in found), found
    assert any(e.startswith("s.yaml:11: debtor_reply event: a promise needs 'until'") for e in found)
    assert any(e.startswith("s.yaml:12: debtor_reply event: a dispute needs 'reason'") for e in found)
    assert any(e.startswith("s.yaml:13: debtor_reply event: customer C9") for e in found)
    assert any(e.startswith("s.yaml:14: debtor_reply event: missing 'customer'") for e in found)


def test_the_log_line_carries_the_answer() -> None:
    assert line("2026-04-24", "debtor_reply", "C1", ["A1"], answer="paid", reason="") == {
        "date": "2026-04-24", "kind": "debtor_reply", "customer": "C1", "invoices": ["A1"], "answer": "paid"}
