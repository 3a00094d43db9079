"""Whole seasons on the embedded AWS: the invariants of DESIGN.md read from log.jsonl."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from season_checks import check_all, customer_sends, day

from relance.simulate.log import KINDS, read_log
from relance.simulate.runner import SeasonResult

Season = Callable[[str], SeasonResult]


def sends(result: SeasonResult, invoice: str) -> list[tuple[str, str, str]]:
    return sorted((e["date"], e["step"], e["channel"]) for e in customer_sends(result.lines)
                  if invoice in e["invoices"])


def test_basic_season_keeps_every_invariant(season: Season) -> None:
    result = season("basic")
    check_all(result.lines, result.scenario.policy)
    assert read_log(result.log_path) == result.lines


def test_log_lines_follow_the_contract(season: Season) -> None:
    result = season("basic")
    raw = result.log_path.read_text(encoding="utf-8").splitlines()
    dates = [json.loads(text)["date"] for text in raw]
    assert dates == sorted(dates)
    for entry in result.lines:
        assert {"date", "kind", "customer", "invoices"} <= set(entry)
        assert entry["kind"] in KINDS
        assert set(entry) <= {"date", "kind", "customer", "invoices", "step", "channel", "to", "subject",
                              "partner", "reason", "file", "amount", "source"}
        if entry["kind"] == "sent":
            assert entry["channel"] in ("email", "sms", "letter", "task")
        if "file" in entry:
            assert (result.out / entry["file"]).is_file()
            assert entry["file"].endswith(".eml" if entry.get("channel") == "email" else ".pdf")


def test_invoices_of_one_customer_go_out_as_one_message(season: Season) -> None:
    result = season("basic")
    courtesy = [e for e in result.lines if e["kind"] == "sent" and e["customer"] == "C1"
                and e["step"] == "courtesy"]
    assert [(e["invoices"], e["channel"]) for e in courtesy] == [(["A1", "A2"], "email")]
    eml = (result.out / courtesy[0]["file"]).read_text(encoding="utf-8", errors="replace")
    assert "A1" in eml and "A2" in eml


def test_a_payment_stops_the_ladder_of_that_invoice_only(season: Season) -> None:
    result = season("basic")
    assert any(e["kind"] == "stopped" and e["invoices"] == ["A2"] and e["reason"] == "paid" for e in result.lines)
    assert all(d <= "2026-04-17" for d, _, _ in sends(result, "A2"))
    assert [s for d, s, _ in sends(result, "A1") if d > "2026-04-17"]      # A1 is still chased


def test_a_dispute_pauses_until_it_is_resolved(season: Season) -> None:
    result = season("basic")
    kinds = [(e["date"], e["kind"]) for e in result.lines if e["invoices"] == ["B1"] and e["kind"] != "sent"]
    assert ("2026-04-21", "paused") in kinds and ("2026-05-04", "resumed") in kinds
    assert not [d for d, _, _ in sends(result, "B1") if "2026-04-21" <= d < "2026-05-04"]
    assert [d for d, _, _ in sends(result, "B1") if d >= "2026-05-04"]


def test_a_promise_pauses_until_its_date(season: Season) -> None:
    result = season("basic")
    assert any(e["kind"] == "paused" and e["invoices"] == ["P1"] and "promise" in e["reason"]
               for e in result.lines)
    assert not [d for d, _, _ in sends(result, "P1") if "2026-04-22" <= d <= "2026-04-30"]
    assert [d for d, _, _ in sends(result, "P1") if d > "2026-04-30"]     # broken promise: the ladder resumes


def test_bad_records_are_quarantined_with_their_reason(season: Season) -> None:
    result = season("basic")
    quarantined = {tuple(e["invoices"]) or (e["customer"],): e["reason"] for e in result.lines
                   if e["kind"] == "quarantined"}
    assert "negative" in quarantined[("X1",)]
    assert "C9" in quarantined[("X2",)]
    assert not [e for e in result.lines if e["kind"] == "sent" and {"X1", "X2"} & set(e["invoices"])]


def test_after_an_outage_the_step_goes_out_the_next_day_one_step_at_a_time(season: Season) -> None:
    result = season("basic")
    assert not [e for e in result.lines if e["date"] == "2026-04-23"]            # the schedule did not fire
    # A1's call step (due+7d = 23 April) goes out on the 24th, and only that step
    assert [(d, s) for d, s, c in sends(result, "A1") if c == "email" and "2026-04-23" <= d <= "2026-04-28"] \
        == [("2026-04-24", "call")]


def test_a_duplicated_run_sends_nothing_twice(season: Season) -> None:
    result = season("basic")
    on_day = [(e["customer"], e["step"], e["channel"]) for e in result.lines
              if e["kind"] == "sent" and e["date"] == "2026-04-24"]
    assert on_day and len(on_day) == len(set(on_day))


def test_a_crash_after_a_send_is_flagged_and_not_sent_again(season: Season) -> None:
    result = season("basic")
    (flag,) = [e for e in result.lines if e["kind"] == "flagged"]
    invoice, step = flag["invoices"][0], flag["step"]
    sent_that_step = [e for e in customer_sends(result.lines) if invoice in e["invoices"] and e["step"] == step]
    assert sent_that_step and all(day(e) < day(flag) for e in sent_that_step)
    assert len({e["channel"] for e in sent_that_step}) == len(sent_that_step)


def test_the_report_is_written_and_escapes_names(season: Season, tmp_path) -> None:
    from relance.simulate.cli import write_report

    result = season("basic")
    html = write_report(result).read_text(encoding="utf-8")
    assert "<b>Martin</b>" not in html and "&lt;b&gt;Martin&lt;/b&gt;" in html
    assert "<svg" in html and "Aging" in html


def test_escalations_approved_and_rejected(season: Season) -> None:
    result = season("escalation")
    check_all(result.lines, result.scenario.policy)
    by_kind = {(e["kind"], e["customer"]) for e in result.lines}
    assert {("approval_requested", "K1"), ("approved", "K1"), ("handed_off", "K1"),
            ("approval_requested", "K2"), ("rejected", "K2"), ("stopped", "K2")} <= by_kind
    (handed,) = [e for e in result.lines if e["kind"] == "handed_off"]
    assert handed["partner"]
    request = next(e for e in result.lines if e["kind"] == "approval_requested" and e["customer"] == "K1")
    assert day(request) < dt.date(2026, 6, 16)                      # the approval came after the email
    assert not [e for e in result.lines if e["customer"] == "K3" and e["kind"] == "approval_requested"]
