"""`relance policy timeline` and `relance policy validate`, dates worked out by hand."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import relance.cli
from relance.policy import load_policy, load_policy_text, timeline

ROOT = Path(__file__).resolve().parents[2]
STANDARD = ROOT / "policies" / "standard.yaml"
KEY_ACCOUNTS = ROOT / "policies" / "key_accounts.yaml"


@pytest.fixture(autouse=True)
def only_policy_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the real `relance` main, without depending on the other areas' sub-commands."""
    monkeypatch.setattr(relance.cli, "COMMAND_MODULES", ("relance.policy.cli",))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = relance.cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_standard_timeline_by_hand() -> None:
    # Due Thursday 16 April 2026. firm: due+15d = Friday 1 May (holiday) -> Monday 4 May. formal_notice:
    # due+30d = Saturday 16 May -> Monday 18 May. final_notice: 26 May (25 May is Whit Monday, not involved).
    policy = load_policy(STANDARD, check_templates=False)
    assert timeline(policy, date(2026, 4, 16)) == [
        {"step": "courtesy", "date": "2026-04-09", "channels": ["email"]},
        {"step": "due", "date": "2026-04-16", "channels": ["email"]},
        {"step": "call", "date": "2026-04-23", "channels": ["email", "task"]},
        {"step": "firm", "date": "2026-05-04", "channels": ["email", "sms"]},
        {"step": "formal_notice", "date": "2026-05-18", "channels": ["letter", "email"]},
        {"step": "final_notice", "date": "2026-05-26", "channels": ["email"]},
        {"step": "handoff", "date": "2026-06-05", "action": "escalate", "partner": "commissaire_de_justice"},
    ]


def test_small_amount_skips_the_formal_notice_and_big_case_goes_to_the_agency() -> None:
    policy = load_policy(STANDARD, check_templates=False)
    small = timeline(policy, date(2026, 4, 16), Decimal("40.00"))
    assert [e["step"] for e in small] == ["courtesy", "due", "call", "firm", "final_notice", "handoff"]
    big = timeline(policy, date(2026, 4, 16), Decimal("8000.00"))
    assert big[-1] == {"step": "handoff", "date": "2026-06-05", "action": "escalate",
                       "partner": "collection_agency"}
    assert timeline(policy, date(2026, 4, 16), Decimal("9.99")) == []


def test_gap_applies_when_offsets_are_close() -> None:
    # Due Friday 24 July 2026; due+0d Friday; +3d Monday 27 is only 3 days later: the 5-day gap pushes
    # it to Wednesday 29. +5d from there is Monday 3 August.
    policy = load_policy_text(
        "name: t\nmin_gap_days: 5\nsteps:\n"
        "  - {id: a, at: due, channels: [email]}\n"
        "  - {id: b, at: due+3d, channels: [email]}\n"
        "  - {id: c, at: due+4d, channels: [email]}\n", "t.yaml", check_templates=False)
    dates = [e["date"] for e in timeline(policy, date(2026, 7, 24))]
    assert dates == ["2026-07-24", "2026-07-29", "2026-08-03"]


def test_alsace_moselle_good_friday() -> None:
    text = "name: t\ncalendar: {{country: FR{sub}}}\nsteps:\n  - {{id: a, at: due+15d, channels: [email]}}\n"
    national = load_policy_text(text.format(sub=""), "t.yaml", check_templates=False)
    moselle = load_policy_text(text.format(sub=", subdivision: '57'"), "t.yaml", check_templates=False)
    due = date(2026, 3, 19)   # +15 days = Good Friday 3 April 2026
    assert timeline(national, due)[0]["date"] == "2026-04-03"
    assert timeline(moselle, due)[0]["date"] == "2026-04-07"   # Easter Monday 6 April too


def test_key_accounts_timeline() -> None:
    policy = load_policy(KEY_ACCOUNTS, check_templates=False)
    assert [(e["step"], e["date"]) for e in timeline(policy, date(2026, 4, 16))] == [
        ("due", "2026-04-20"), ("call", "2026-05-04"), ("formal_notice", "2026-06-01"),
        ("final_notice", "2026-06-15"), ("handoff", "2026-06-30")]
    strategic = timeline(policy, date(2026, 4, 16), Decimal("25000.00"), "b2c", "strategic")
    assert [(e["step"], e["date"]) for e in strategic] == [
        ("due", "2026-04-20"), ("call", "2026-05-04"), ("key_account_review", "2026-05-18"),
        ("final_notice", "2026-06-15"), ("handoff", "2026-06-30")]
    assert strategic[-1]["partner"] == "collection_agency"


def test_cli_timeline(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "policy", "timeline", str(STANDARD), "--due", "2026-04-16",
                         "--amount", "40.00", "--kind", "b2c")
    assert code == 0 and err == ""
    assert out.startswith("[\n  {\n    \"step\": \"courtesy\",")
    steps = [e["step"] for e in json.loads(out)]
    assert steps == ["courtesy", "due", "call", "firm", "final_notice", "handoff"]


@pytest.mark.parametrize(("args", "message"), [
    (["--due", "2026-02-30"], "relance: --due: '2026-02-30' is not a date (YYYY-MM-DD)\n"),
    (["--due", "16/04/2026"], "relance: --due: '16/04/2026' is not a date (YYYY-MM-DD)\n"),
    (["--due", "2026-04-16", "--amount", "12,50"],
     "relance: --amount: amount '12,50' is not a decimal with a dot and at most two places "
     "(e.g. \"1200.50\")\n"),
    (["--due", "2026-04-16", "--kind", "pro"],
     "relance: --kind: unknown customer kind 'pro': expected one of b2b, b2c, public\n"),
])
def test_cli_timeline_bad_input(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, out, err = run(capsys, "policy", "timeline", str(STANDARD), *args)
    assert (code, out, err) == (2, "", message)


def test_cli_timeline_bad_policy(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "policy", "timeline", str(tmp_path / "none.yaml"), "--due", "2026-04-16")
    assert (code, out) == (2, "")
    assert err == f"{tmp_path / 'none.yaml'}: cannot read (No such file or directory)\n"
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsteps:\n  - {id: a, at: due+1, channels: [email]}\n")
    code, _, err = run(capsys, "policy", "timeline", str(bad), "--due", "2026-04-16")
    assert code == 2 and err.startswith(f"{bad}:3: malformed offset 'due+1' in step 'a'")


def test_cli_validate(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                      ) -> None:
    from test_policy_validate import make_templates

    monkeypatch.setenv("RELANCE_TEMPLATES_DIR", str(make_templates(tmp_path / "t")))
    good = tmp_path / "good.yaml"
    good.write_text(STANDARD.read_text())
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nmin_balance: 10.0\nsteps:\n  - {id: a, at: due+1, channels: [fax]}\n")
    code, out, err = run(capsys, "policy", "validate", str(good))
    assert (code, out, err) == (0, f"{good}: ok\n", "")
    code, out, err = run(capsys, "policy", "validate", str(good), str(bad), str(tmp_path / "missing.yaml"))
    assert code == 2
    assert out.splitlines() == [
        f"{good}: ok",
        f"{bad}:2: 'min_balance': amount must be a quoted decimal string such as \"50.00\", not 10.0",
        f"{bad}:4: malformed offset 'due+1' in step 'a': expected due, due+Nd or due-Nd (such as due-7d, "
        "due+0d, due+15d), N at most 3650",
        f"{bad}:4: unknown channel 'fax' in step 'a'; expected one of: email, sms, letter, task",
        f"{tmp_path / 'missing.yaml'}: cannot read (No such file or directory)",
    ]


def test_cli_schema_and_vocabulary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "policy", "schema")
    assert code == 0 and json.loads(out)["title"] == "relance escalation policy"
    code, out, _ = run(capsys, "policy", "vocabulary")
    assert code == 0 and "### `balance_gte` (condition)" in out
