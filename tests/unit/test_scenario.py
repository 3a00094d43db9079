"""Scenario parsing and validation: every problem as FILE:LINE: message, bad data is not a problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from relance.cli import main
from relance_dev.simulate.scenario import ScenarioError, parse_scenario

REPO = Path(__file__).resolve().parents[2]

GOOD = """\
start: 2026-04-01
end: 2026-05-10
policy: policies/standard.yaml
customers:
  - {id: C1, name: Boulangerie, kind: b2b, email: a@b.example}
invoices:
  - {id: A1, customer: C1, issued: 2026-03-17, due: 2026-04-16, amount: "1800.00"}
events:
  - {date: 2026-04-20, type: payment, invoice: A1, amount: "900.00"}
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "s.yaml", REPO)
    return caught.value.errors


def test_a_good_scenario_parses() -> None:
    scenario = parse_scenario(GOOD, "s.yaml", REPO)
    assert scenario.policy.name == "standard"
    assert len(scenario.days) == 40
    assert scenario.invoices[0]["due"] == "2026-04-16"
    assert scenario.parameters()["DefaultPolicy"] == "standard"


@pytest.mark.parametrize(("change", "expected"), [
    (("start: 2026-04-01", "start: 2026-04-01\nstrat: 1"), "s.yaml:2: unknown key 'strat'"),
    (("end: 2026-05-10", "end: 2026-05-32"), "s.yaml:2: 'end' must be a date"),
    (("date: 2026-04-20", "date: 2026-03-01"), "s.yaml:9: payment event on 2026-03-01 is outside the season"),
    (("invoice: A1, amount", "invoice: Z9, amount"), "s.yaml:9: payment event: invoice Z9 is not in 'invoices'"),
    (('amount: "900.00"}', 'amount: "-3"}'), "s.yaml:9: payment event: amount must be a positive number"),
    (("type: payment", "type: paiement"), "s.yaml:9: unknown event type 'paiement'"),
    (("kind: b2b,", "kind: b2b, colour: red,"), "s.yaml:5: customer C1: unknown key 'colour'"),
    (("policy: policies/standard.yaml", "policy: policies/nope.yaml"), "s.yaml:3: policy file policies/nope.yaml"),
])
def test_problems_name_file_and_line(change: tuple[str, str], expected: str) -> None:
    found = errors_of(GOOD.replace(*change))
    assert any(e.startswith(expected) for e in found), found


def test_event_keys_and_crash_points_are_checked() -> None:
    text = GOOD + "  - {date: 2026-04-21, type: crash, point: before_lunch}\n" \
                  "  - {date: 2026-04-22, type: approve, customer: C7}\n"
    found = errors_of(text)
    assert any(e.startswith("s.yaml:10: crash event: point must be") for e in found)
    assert any(e.startswith("s.yaml:11: approve event: customer C7") for e in found)


def test_bad_invoice_data_is_not_a_scenario_error() -> None:
    text = GOOD.replace('amount: "1800.00"}', 'amount: "-1800.00"}\n'
                        '  - {id: A2, customer: C404, issued: 2026-03-17, due: 2026-02-30, amount: "10"}')
    scenario = parse_scenario(text, "s.yaml", REPO)
    assert [i["id"] for i in scenario.invoices] == ["A1", "A2"]
    assert scenario.invoices[1]["due"] == "2026-02-30"


def test_cli_exits_2_with_file_line_and_no_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace("end: 2026-05-10", "end: 2026-13-01"), encoding="utf-8")
    assert main(["simulate", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{path}:2: 'end' must be a date" in err and "Traceback" not in err


def test_yaml_syntax_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("start: [2026-04-01\n", encoding="utf-8")
    assert main(["simulate", str(path), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.startswith(f"{path}:")
