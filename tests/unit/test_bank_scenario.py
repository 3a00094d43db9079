"""The scenario event bank_statement: its file must exist (named with the scenario's line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from relance_dev.simulate.scenario import ScenarioError, parse_scenario

REPO = Path(__file__).resolve().parents[2]
TEXT = """start: 2026-04-01
end: 2026-05-20
policy: policies/standard.yaml
customers: [{id: C1, name: X, kind: b2b, email: a@b.example}]
invoices: [{id: F1, customer: C1, issued: 2026-03-17, due: 2026-04-16, amount: "10.00"}]
events:
  - {date: 2026-05-04, type: bank_statement, file: FILE}
"""


def test_bank_statement_event_resolves_its_file_from_the_current_folder() -> None:
    scenario = parse_scenario(TEXT.replace("FILE", "events/statements/releve.xml"), "s.yaml", REPO)
    (event,) = scenario.events
    assert event.type == "bank_statement" and event.file == REPO / "events/statements/releve.xml"


def test_bank_statement_event_with_a_missing_file_is_an_error_with_its_line() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(TEXT.replace("FILE", "events/statements/nope.xml"), "s.yaml", REPO)
    assert info.value.errors == ["s.yaml:7: bank_statement event: file 'events/statements/nope.xml' not found "
                                 "(relative paths resolve from the current folder)"]
