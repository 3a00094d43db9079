"""``relance penalties`` through relance.cli.main: the worked cases of legal-fr.md and bad input (exit 2)."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest

import relance.cli


@pytest.fixture(autouse=True)
def _commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """Other areas register sub-commands too; if one is not importable yet, test ours alone."""
    for name in relance.cli.COMMAND_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            monkeypatch.setattr(relance.cli, "COMMAND_MODULES", ("relance.law.cli",))
            return


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code = relance.cli.main(["penalties", *argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def fail(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = relance.cli.main(["penalties", *argv])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err              # one line, never a traceback
    return lines[0]


def test_case_1(capsys: pytest.CaptureFixture[str]) -> None:
    data = run(capsys, "--amount", "6000.00", "--due", "2026-02-14", "--on", "2026-04-16")
    assert data == {
        "principal": "6000.00", "days_late": 61, "interest": "121.83", "indemnity": "40.00",
        "total": "6161.83",
        "periods": [{"from": "2026-02-15", "to": "2026-04-16", "days": 61, "annual_rate": "0.1215",
                     "interest": "121.83"}],
        "paid": "0.00", "remaining_principal": "6000.00", "interest_unpaid": "121.83",
        "indemnity_unpaid": "40.00", "warnings": [], "notes": data["notes"],
    }
    assert data["interest"] not in ("123.53", "101.53")


def test_case_1_json_is_indented(capsys: pytest.CaptureFixture[str]) -> None:
    relance.cli.main(["penalties", "--amount", "6000", "--due", "2026-02-14", "--on", "2026-04-16"])
    out = capsys.readouterr().out
    assert out.startswith('{\n  "principal": "6000.00",\n  "days_late": 61,')


def test_case_2(capsys: pytest.CaptureFixture[str]) -> None:
    data = run(capsys, "--amount", "14400.00", "--due", "2025-06-14", "--on", "2025-09-15")
    assert data["periods"] == [
        {"from": "2025-06-15", "to": "2025-06-30", "days": 16, "annual_rate": "0.1315", "interest": "83.01"},
        {"from": "2025-07-01", "to": "2025-09-15", "days": 77, "annual_rate": "0.1215", "interest": "369.09"},
    ]
    assert (data["interest"], data["indemnity"], data["total"]) == ("452.10", "40.00", "14892.10")
    assert data["interest"] not in ("482.48", "445.79")


def test_case_5(capsys: pytest.CaptureFixture[str]) -> None:
    data = run(capsys, "--amount", "1200.00", "--due", "2026-02-09", "--on", "2026-03-20", "--rate", "0.15")
    assert (data["days_late"], data["interest"], data["indemnity"]) == (39, "19.23", "40.00")
    assert data["periods"][0]["annual_rate"] == "0.1500"
    assert data["warnings"] == []
    paid = run(capsys, "--amount", "1200.00", "--due", "2026-02-09", "--on", "2026-03-20", "--rate", "0.15",
               "--payment", "2026-03-20:1200.00")
    assert paid["total"] == "59.23"


def test_case_7a_repeated_flag(capsys: pytest.CaptureFixture[str]) -> None:
    data = run(capsys, "--amount", "12000.00", "--due", "2026-03-01", "--on", "2026-04-30",
               "--payment", "2026-03-31:4000.00", "--payment", "2026-04-30:8000.00")
    assert [p["interest"] for p in data["periods"]] == ["119.84", "81.49"]
    assert (data["interest"], data["indemnity"], data["paid"]) == ("201.33", "40.00", "12000.00")
    assert (data["total"], data["remaining_principal"]) == ("241.33", "241.33")
    assert data["interest"] != "239.67"
    assert data["total"] not in ("281.33", "240.93", "239.73")


def test_case_7a_several_values_after_one_flag(capsys: pytest.CaptureFixture[str]) -> None:
    data = run(capsys, "--amount", "12000", "--due", "2026-03-01", "--on", "2026-04-30",
               "--payment", "2026-03-31:4000", "2026-04-30:8000")
    assert data["total"] == "241.33"


def test_case_8(capsys: pytest.CaptureFixture[str]) -> None:
    data = run(capsys, "--amount", "4800.00", "--due", "2024-11-30", "--on", "2025-01-31")
    assert [(p["days"], p["annual_rate"], p["interest"]) for p in data["periods"]] == [
        (31, "0.1425", "58.09"), (31, "0.1315", "53.61")]
    assert (data["interest"], data["indemnity"]) == ("111.70", "40.00")
    assert data["interest"] != "111.54"


def test_case_11(capsys: pytest.CaptureFixture[str]) -> None:
    data = run(capsys, "--amount", "1500.00", "--due", "2026-01-15", "--on", "2026-06-30", "--kind", "b2c",
               "--notice", "2026-03-02")
    assert data["periods"] == [
        {"from": "2026-03-03", "to": "2026-06-30", "days": 120, "annual_rate": "0.0262", "interest": "12.92"}]
    assert (data["interest"], data["indemnity"], data["total"]) == ("12.92", "0.00", "1512.92")
    assert data["interest"] not in ("32.89", "82.89", "12.71")


def test_b2c_without_notice_is_not_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    data = run(capsys, "--amount", "1500.00", "--due", "2026-01-15", "--on", "2026-06-30", "--kind", "b2c")
    assert (data["interest"], data["indemnity"], data["total"]) == ("0.00", "0.00", "1500.00")
    assert any("formal notice" in n for n in data["notes"])


def test_b2c_gets_no_40_euros(capsys: pytest.CaptureFixture[str]) -> None:
    data = run(capsys, "--amount", "100", "--due", "2025-01-15", "--on", "2026-06-30", "--kind", "b2c",
               "--notice", "2025-02-01")
    assert data["indemnity"] == "0.00"


def test_contract_rate_below_floor_warns(capsys: pytest.CaptureFixture[str]) -> None:
    data = run(capsys, "--amount", "6000", "--due", "2026-02-14", "--on", "2026-04-16", "--rate", "0.05")
    assert len(data["warnings"]) == 1 and data["warnings"][0].startswith("clause illicite (L441-10)")
    assert data["periods"][0]["annual_rate"] == "0.0500"


def test_legal_x3(capsys: pytest.CaptureFixture[str]) -> None:
    data = run(capsys, "--amount", "6000", "--due", "2026-02-14", "--on", "2026-04-16", "--rate", "legal-x3")
    assert data["periods"][0]["annual_rate"] == "0.0786"


def test_public_rate_frozen(capsys: pytest.CaptureFixture[str]) -> None:
    data = run(capsys, "--amount", "10000", "--due", "2024-05-31", "--on", "2025-08-31", "--kind", "public")
    assert {p["annual_rate"] for p in data["periods"]} == {"0.1250"}
    assert data["indemnity"] == "40.00"


def test_not_late(capsys: pytest.CaptureFixture[str]) -> None:
    data = run(capsys, "--amount", "6000", "--due", "2026-02-14", "--on", "2026-02-14")
    assert (data["days_late"], data["interest"], data["indemnity"], data["total"]) == (0, "0.00", "0.00",
                                                                                      "6000.00")
    assert data["periods"] == []


@pytest.mark.parametrize(("due", "on", "semester"), [
    ("2026-12-15", "2027-01-01", "2027-S1"),
    ("2027-01-01", "2027-03-30", "2027-S1"),
    ("2015-11-30", "2016-01-31", "2015-S2"),
    ("2015-03-01", "2015-04-01", "2015-S1"),
])
def test_missing_semester_exit_2(capsys: pytest.CaptureFixture[str], due: str, on: str,
                                 semester: str) -> None:
    assert semester in fail(capsys, "--amount", "1000", "--due", due, "--on", on)


def test_missing_legal_rate_b2c_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    line = fail(capsys, "--amount", "1000", "--due", "2026-06-01", "--on", "2026-08-01", "--kind", "b2c",
                "--notice", "2026-06-10")
    assert "no legal interest rate for semester 2026-S2" in line


@pytest.mark.parametrize(("argv", "needle"), [
    (["--amount", "6,000.00", "--due", "2026-02-14", "--on", "2026-04-16"], "--amount"),
    (["--amount", "abc", "--due", "2026-02-14", "--on", "2026-04-16"], "--amount"),
    (["--amount", "-6000", "--due", "2026-02-14", "--on", "2026-04-16"], "negative"),
    (["--amount", "6000.001", "--due", "2026-02-14", "--on", "2026-04-16"], "--amount"),
    (["--amount", "6e3", "--due", "2026-02-14", "--on", "2026-04-16"], "--amount"),
    (["--amount", "6000", "--due", "14/02/2026", "--on", "2026-04-16"], "--due"),
    (["--amount", "6000", "--due", "2026-02-30", "--on", "2026-04-16"], "--due"),
    (["--amount", "6000", "--due", "2026-02-14", "--on", "tomorrow"], "--on"),
    (["--amount", "6000", "--due", "2026-02-14", "--on", "2026-04-16", "--kind", "b2g"], "--kind"),
    (["--amount", "6000", "--due", "2026-02-14", "--on", "2026-04-16", "--rate", "15"], "--rate"),
    (["--amount", "6000", "--due", "2026-02-14", "--on", "2026-04-16", "--rate", "1.01"], "--rate"),
    (["--amount", "6000", "--due", "2026-02-14", "--on", "2026-04-16", "--rate", "15%"], "--rate"),
    (["--amount", "6000", "--due", "2026-02-14", "--on", "2026-04-16", "--notice", "2026-13-01"], "--notice"),
    (["--amount", "6000", "--due", "2026-02-14", "--on", "2026-04-16", "--payment", "2026-05-01:10"],
     "2026-05-01"),
    (["--amount", "6000", "--due", "2026-02-14", "--on", "2026-04-16", "--payment", "2026-03-01"],
     "--payment 2026-03-01"),
    (["--amount", "6000", "--due", "2026-02-14", "--on", "2026-04-16", "--payment", "2026-03-01:1,5"],
     "--payment 2026-03-01:1,5"),
    (["--amount", "6000", "--due", "2026-02-14", "--on", "2026-04-16", "--kind", "b2c", "--rate", "0.15"],
     "b2b invoices only"),
])
def test_bad_input_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    line = fail(capsys, *argv)
    assert line.startswith("relance: ")
    assert needle in line
